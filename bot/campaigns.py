"""Campaign broadcasts: audiences, messages, resumable batched sending, the scheduled worker.

A send is safe to cut off anywhere. Every batch of at most 500 recipients is written with its
X-Line-Retry-Key before its first attempt, and the campaign's cursor (the highest users.id put
into a batch) moves in the same transaction; a resumed send first repeats the unconfirmed
batches with their own keys (LINE answers 409 for those it had accepted) and then continues
after the cursor. Only the holder of the campaign's claim may write batches, so two senders
never cut the audience twice.

Nothing here logs a user id together with a message text: logs carry counts and ids of
campaigns and batches only.
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, literal_column, not_, or_, select, update
from sqlalchemy.orm import Session

from bot.line import MAX_MULTICAST, LineClient, SendResult, to_sdk, to_wire
from bot.pledges import current_week_start
from bot.registry import on_postback
from bot.store.db import get_session as get_session_for_cli  # noqa: F401  (the CLI's session)
from bot.store.models import Campaign, CampaignBatch, Pledge, User

log = logging.getLogger(__name__)

BANGKOK = ZoneInfo("Asia/Bangkok")
OPTOUT_POSTBACK = "optout"
# The weekly reminder's button: "my pledges", which the pledge flow (bot/pledges.py) answers per
# resident with their own pledges and this week's ทำแล้ว / ยังไม่ได้ทำ buttons (w: the week the
# reminder was made for; the pledge flow may use it, and ignores it today).
CHECKIN_POSTBACK = "pledge.status"
AUDIENCE_KINDS = ("all", "district", "pledged", "not_pledged", "action")
# Statuses from which `campaign send` may (re)start a campaign.
SENDABLE = ("draft", "scheduled", "interrupted")


class CampaignError(Exception):
    """A problem the campaign office can act on; the message says what to do."""


class QuotaExceeded(CampaignError):
    pass


class ClaimLost(CampaignError):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def parse_at(value: str) -> datetime:
    """An ISO time, in Asia/Bangkok unless it names its zone, as aware UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CampaignError(f"--at {value!r} is not an ISO date and time, e.g. 2025-03-01T18:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=BANGKOK)
    return dt.astimezone(timezone.utc)


def bangkok(dt: datetime | None) -> str:
    return as_utc(dt).astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M %Z") if dt else "-"


# ------------------------------------------------------------------------------------ audiences
def parse_audience(content: Any, raw: str) -> str:
    """The canonical audience ("district:<code>", …) for what the office typed, or CampaignError."""
    raw = (raw or "all").strip()
    kind, sep, arg = raw.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind in ("all", "pledged", "not_pledged") and not sep:
        return kind
    if kind == "district" and arg:
        district = content.district_by_name(arg)
        if district is None:
            district = next((d for d in content.districts if d.code == arg), None)
        if district is None:
            names = ", ".join(d.name for d in content.districts)
            raise CampaignError(f"unknown district {arg!r}; Chiang Mai's districts are: {names}")
        return f"district:{district.code}"
    if kind == "action" and arg:
        if arg not in content.actions:
            raise CampaignError(f"unknown action {arg!r}; actions are: {', '.join(content.actions)}")
        return f"action:{arg}"
    raise CampaignError(f"unknown audience {raw!r}; use all, district:NAME, pledged, not_pledged or action:ID")


def describe_audience(content: Any, audience: str) -> str:
    kind, _, arg = audience.partition(":")
    if kind == "district":
        name = next((d.name for d in getattr(content, "districts", []) if d.code == arg), arg)
        return f"district:{name}"
    return audience


def audience_conditions(audience: str) -> list:
    """Who receives a campaign with this audience, decided at send time."""
    conds = [User.followed.is_(True), User.blocked.is_(False), User.opted_out.is_(False)]
    kind, _, arg = audience.partition(":")
    active = and_(Pledge.user_id == User.id, Pledge.status == "active")
    if kind == "district":
        conds.append(User.district_code == arg)
    elif kind == "pledged":
        conds.append(exists().where(active))
    elif kind == "not_pledged":
        conds.append(not_(exists().where(active)))
    elif kind == "action":
        conds.append(exists().where(active, Pledge.action_id == arg))
    elif kind != "all":
        raise CampaignError(f"stored audience {audience!r} is not understood")
    return conds


def count_audience(session: Session, audience: str, after_user_id: int = 0) -> int:
    q = select(func.count()).select_from(User).where(User.id > after_user_id, *audience_conditions(audience))
    return int(session.scalar(q) or 0)


def audience_page(session: Session, audience: str, after_user_id: int, limit: int) -> tuple[list[str], int | None]:
    """The next recipients after after_user_id, by users.id: (their LINE ids, the last users.id).

    Pages by id stream a million followers in constant memory. PostgreSQL hands a page back as
    one joined string (LINE ids never hold a comma): a million rows as Python objects would cost
    the sending threads more time than the sending itself.
    """
    users = User.__table__
    inner = (select(users.c.id, users.c.line_user_id).where(users.c.id > after_user_id, *audience_conditions(audience))
             .order_by(users.c.id).limit(limit).subquery())
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        joined, last = conn.execute(select(func.string_agg(inner.c.line_user_id, aggregate_order_by(literal_column("','"), inner.c.id)),
                                           func.max(inner.c.id))).one()
        return (joined.split(",") if joined else []), last
    rows = conn.execute(select(inner.c.id, inner.c.line_user_id).order_by(inner.c.id)).all()
    return [r[1] for r in rows], (rows[-1][0] if rows else None)


# ------------------------------------------------------------------------------------- messages
def optout_button(content: Any) -> dict:
    from bot import messages as msg

    label = content.text("campaigns.optout_label")
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": label, "data": msg.postback_data(OPTOUT_POSTBACK),
                       "displayText": label}}


def with_optout_button(content: Any, container: dict) -> dict:
    """The Flex container with a small "stop receiving news" button in its (last) bubble's footer."""
    container = dict(container)
    if container.get("type") == "carousel":
        bubbles = list(container.get("contents") or [])
        if bubbles:
            bubbles[-1] = with_optout_button(content, bubbles[-1])
        container["contents"] = bubbles
        return container
    footer = dict(container.get("footer") or {"type": "box", "layout": "vertical", "contents": []})
    footer["contents"] = list(footer.get("contents") or []) + [optout_button(content)]
    container["footer"] = footer
    return container


def validate_messages(messages: list[dict]) -> None:
    """Refuse what LINE would refuse, with the SDK's own models."""
    try:
        sdk = to_sdk(messages)
    except Exception as e:  # pydantic's ValidationError or the SDK's ValueError
        raise CampaignError(f"the message is not valid for LINE: {str(e)[:500]}") from None
    if not sdk:
        raise CampaignError("the campaign has no message to send")


def validate_flex(container: Any) -> None:
    from linebot.v3.messaging import FlexContainer

    if not isinstance(container, dict) or container.get("type") not in ("bubble", "carousel"):
        raise CampaignError('the Flex file must hold one container: {"type": "bubble" | "carousel", …}')
    try:
        FlexContainer.from_dict(container)
    except Exception as e:
        raise CampaignError(f"the Flex file is not valid Flex JSON: {str(e)[:500]}") from None


def checkin_messages(content: Any, text: str | None, now: datetime) -> list[dict]:
    """The weekly reminder: one message for everyone, whose button the pledge flow resolves per resident."""
    from bot import messages as msg

    week = current_week_start(now)
    body = text or content.text("campaigns.checkin_text")
    data = msg.postback_data(CHECKIN_POSTBACK, w=week.isoformat())
    label = content.text("campaigns.checkin_button")
    bubble = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
            {"type": "text", "text": content.text("campaigns.checkin_title"), "weight": "bold", "size": "lg",
             "wrap": True},
            {"type": "text", "text": body, "wrap": True, "size": "sm"},
        ]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "button", "style": "primary",
             "action": {"type": "postback", "label": label, "data": data, "displayText": label}},
        ]},
    }
    return [msg.flex(body, with_optout_button(content, bubble))]


def build_messages(content: Any, text: str, flex: dict | None, checkin: bool, now: datetime) -> list[dict]:
    """The campaign's LINE messages: a text (with a stop button as quick reply) or a Flex card."""
    from bot import messages as msg

    if checkin:
        return checkin_messages(content, text, now)
    if flex is not None:
        validate_flex(flex)
        # The text is the card's alt text: what notifications and the chat list show.
        return [msg.flex(text, with_optout_button(content, flex))]
    label = content.text("campaigns.optout_label")
    return [msg.text(text, quick=[msg.qr_postback(label, msg.postback_data(OPTOUT_POSTBACK), label)])]


# ------------------------------------------------------------------------------------- creating
@dataclass
class Plan:
    """What a send will use: recipients still to receive it, and the month's quota."""

    recipients: int
    quota_limit: int | None
    quota_used: int

    @property
    def quota_left(self) -> int | None:
        return None if self.quota_limit is None else max(0, self.quota_limit - self.quota_used)

    @property
    def fits(self) -> bool:
        return self.quota_limit is None or self.quota_used + self.recipients <= self.quota_limit

    def describe(self) -> str:
        if self.quota_limit is None:
            quota = f"quota: unlimited ({self.quota_used:,} used this month)"
        else:
            quota = (f"quota: {self.recipients:,} of {self.quota_left:,} left this month "
                     f"({self.quota_used:,} of {self.quota_limit:,} used)")
        return f"audience: {self.recipients:,} recipients; {quota}"


def read_quota(line: LineClient) -> tuple[int | None, int]:
    if not line.access_token:
        raise CampaignError("LINE_CHANNEL_ACCESS_TOKEN is not set, so LINE cannot be asked for the quota "
                            "or sent anything; set it (see README) and try again")
    try:
        return line.quota()
    except Exception as e:  # the SDK raises on any non-2xx or no answer
        raise CampaignError(f"could not read the message quota from LINE ({type(e).__name__}); "
                            "nothing was sent, try again later") from None


def create_campaign(session: Session, content: Any, *, name: str, text: str, flex: dict | None = None,
                    audience: str = "all", at: datetime | None = None, checkin: bool = False,
                    now: datetime | None = None) -> Campaign:
    """Store a new campaign (a draft, or scheduled when at is given); validated, not sent."""
    now = now or utcnow()
    if not name.strip():
        raise CampaignError("--name must not be empty")
    if checkin:
        if audience not in ("all", "pledged"):
            raise CampaignError("a check-in reminder goes to the pledged audience only")
        audience = "pledged"
        text = text or content.text("campaigns.checkin_text")
    if not (text or "").strip():
        raise CampaignError("--text must not be empty")
    canonical = parse_audience(content, audience)
    messages = build_messages(content, text, flex, checkin, now)
    validate_messages(messages)
    campaign = Campaign(name=name.strip(), text=text, flex=flex, messages=messages, audience=canonical,
                        checkin=checkin, status="scheduled" if at else "draft", scheduled_at=as_utc(at),
                        cursor_user_id=0, created_at=now)
    session.add(campaign)
    session.flush()
    log.info("campaign %s created: audience=%s scheduled_at=%s", campaign.id, canonical, at)
    return campaign


# --------------------------------------------------------------------------------------- claims
def new_owner() -> str:
    """Who holds a claim: host, process and a token unique to this send."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_is_dead(owner: str | None) -> bool:
    """True when the claim's process ran on this host and no longer exists (a killed send)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_s = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_s.isdigit():
        return False
    pid = int(pid_s)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(session: Session, campaign_id: int, owner: str, now: datetime, *, statuses: Iterable[str],
          stale_after: float, due_only: bool = False, take_from: str | None = None) -> bool:
    """Atomically make owner the only sender of the campaign; False when someone else holds it.

    One UPDATE whose WHERE says "still claimable": of two racing senders only one sees rowcount 1.
    """
    claimable = [Campaign.status.in_(list(statuses))]
    if due_only:
        claimable = [and_(Campaign.status == "scheduled", Campaign.scheduled_at <= now)]
    stale = and_(Campaign.status == "sending", Campaign.claimed_at < now - timedelta(seconds=stale_after))
    takeover = [stale]
    if take_from is not None:
        takeover.append(and_(Campaign.status == "sending", Campaign.claimed_by == take_from))
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, or_(*claimable, *takeover))
        .values(status="sending", claimed_by=owner, claimed_at=now,
                started_at=func.coalesce(Campaign.started_at, now))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release(session: Session, campaign_id: int, owner: str, **values: Any) -> bool:
    result = session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.claimed_by == owner)
        .values(claimed_by=None, **values).execution_options(synchronize_session=False))
    return result.rowcount == 1


# ------------------------------------------------------------------------------------- sending
class RateLimiter:
    """Evenly spaced request slots shared by all sending threads (never a burst over the rate)."""

    def __init__(self, per_second: float, monotonic: Callable[[], float], sleep: Callable[[float], Any]):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.monotonic, self.sleep = monotonic, sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self.monotonic()
            slot = now if self._next is None or self._next < now else self._next
            self._next = slot + self.interval
        if slot > now:
            self.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """Nobody sends for the next seconds (LINE said 429)."""
        with self._lock:
            until = self.monotonic() + seconds
            if self._next is None or self._next < until:
                self._next = until


@dataclass
class SendEnv:
    """Everything a send uses, passed in so tests swap the clock, the sleep and LINE."""

    db: Any
    line: LineClient
    content: Any
    clock: Callable[[], datetime] = utcnow
    sleep: Callable[[float], Any] | None = None  # None: a real sleep that a stop request cuts short
    monotonic: Callable[[], float] = time.monotonic
    rate: float = 180.0
    concurrency: int = 8
    timeout: float | tuple[float, float] | None = None
    max_attempts: int = 6        # per batch, for 5xx and no answer; then the send stops, resumable
    max_rate_waits: int = 20     # per batch, for 429
    base_backoff: float = 1.0
    max_backoff: float = 60.0
    claim_timeout: float = 120.0
    heartbeat: float = 5.0
    page_size: int = MAX_MULTICAST
    batches_per_tx: int = 16     # batches recorded per transaction (each with the cursor move)
    retry_later: float = 300.0   # the worker tries an interrupted campaign again after this

    @classmethod
    def from_app(cls, app: Any, **overrides: Any) -> "SendEnv":
        cfg = app.config
        values = dict(
            db=app.extensions["db"], line=app.extensions["line"], content=app.extensions["content"],
            clock=app.extensions.get("clock", utcnow), sleep=cfg.get("CAMPAIGN_SLEEP"),
            rate=float(cfg["CAMPAIGN_RATE"]),
            # At most the LINE client's connection pool (16), or connections would be thrown away.
            concurrency=max(1, min(16, int(cfg["CAMPAIGN_CONCURRENCY"]))),
            claim_timeout=float(cfg["CAMPAIGN_CLAIM_TIMEOUT"]),
            max_attempts=int(cfg["CAMPAIGN_MAX_ATTEMPTS"]),
            page_size=max(1, min(MAX_MULTICAST, int(cfg["CAMPAIGN_BATCH_SIZE"]))),
        )
        if cfg.get("CAMPAIGN_MONOTONIC"):
            values["monotonic"] = cfg["CAMPAIGN_MONOTONIC"]
        values.update(overrides)
        return cls(**values)


@dataclass
class Job:
    batch_id: int
    seq: int
    retry_key: str
    user_ids: list[str]


@dataclass
class Outcome:
    job: Job
    status: str                  # sent | failed | pending (not confirmed: stop) | stopped
    attempts: int
    already_accepted: bool = False
    error: str | None = None
    fatal: str | None = None     # why the whole send must stop
    rate_waits: int = 0
    quota: bool = False


@dataclass
class SendReport:
    """What one `campaign send` run did."""

    campaign_id: int
    status: str = "sending"
    sent_batches: int = 0
    sent_recipients: int = 0
    already_accepted: int = 0
    failed_batches: int = 0
    failed_recipients: int = 0
    failures: list[str] = field(default_factory=list)
    retries: int = 0
    rate_waits: int = 0
    stopped_because: str | None = None
    seconds: float = 0.0
    requests: int = 0
    db_seconds: float = 0.0      # spent recording batches and outcomes (the sending threads go on meanwhile)

    def describe(self) -> str:
        lines = [f"campaign {self.campaign_id}: {self.status}",
                 f"  sent to {self.sent_recipients:,} recipients in {self.sent_batches:,} batches"
                 + (f" ({self.already_accepted} confirmed by LINE as already accepted)" if self.already_accepted else "")]
        if self.failed_batches:
            lines.append(f"  FAILED: {self.failed_batches} batches, {self.failed_recipients:,} recipients:")
            lines.extend(f"    {f}" for f in self.failures[:20])
        if self.retries or self.rate_waits:
            lines.append(f"  retries after errors or no answer: {self.retries}; waits for rate limit: {self.rate_waits}")
        if self.seconds > 0 and self.requests:
            lines.append(f"  {self.requests:,} requests in {self.seconds:.1f} s ({self.requests / self.seconds:.0f}/s)")
        if self.stopped_because:
            lines.append(f"  {'note' if self.status == 'done' else 'stopped'}: {self.stopped_because}")
        return "\n".join(lines)


def backoff(env: SendEnv, attempt: int) -> float:
    return min(env.max_backoff, env.base_backoff * (2 ** max(0, attempt - 1)))


class Sender:
    """Sends one claimed campaign to the end, or until stopped; resumable at any point."""

    def __init__(self, env: SendEnv, campaign_id: int, owner: str, *, stop: threading.Event | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_stop_status: str = "interrupted") -> None:
        self.env, self.campaign_id, self.owner = env, campaign_id, owner
        self.stop = stop or threading.Event()
        self.progress = progress
        self.on_stop_status = on_stop_status
        self.sleep = env.sleep or self.stop.wait
        self.limiter = RateLimiter(env.rate, env.monotonic, self.sleep)
        self.report = SendReport(campaign_id)
        self._quota_lock = threading.Lock()

    # -- one batch, in a sending thread -----------------------------------------------------
    def send_batch(self, job: Job, sdk_messages: list) -> Outcome:
        env = self.env
        attempts = rate_waits = errors = 0
        while True:
            if self.stop.is_set():
                return Outcome(job, "stopped", attempts)
            self.limiter.acquire()
            if self.stop.is_set():
                return Outcome(job, "stopped", attempts)
            result: SendResult = env.line.multicast_prepared(job.user_ids, sdk_messages, retry_key=job.retry_key,
                                                             timeout=env.timeout)
            attempts += 1
            if result.ok or result.already_accepted:
                return Outcome(job, "sent", attempts, already_accepted=result.already_accepted,
                               rate_waits=rate_waits)
            if result.status == 429:
                rate_waits += 1
                if self.quota_spent(len(job.user_ids)):
                    return Outcome(job, "pending", attempts, fatal="LINE's monthly message quota is spent",
                                   quota=True, rate_waits=rate_waits)
                if rate_waits > env.max_rate_waits:
                    return Outcome(job, "pending", attempts, fatal="LINE kept answering 429 (rate limit)",
                                   rate_waits=rate_waits)
                delay = result.retry_after if result.retry_after else backoff(env, rate_waits)
                self.limiter.hold(delay)
                self.sleep(delay)
                continue
            if result.status == 0 or result.status >= 500:
                errors += 1
                if errors >= env.max_attempts:
                    what = "no answer" if result.status == 0 else f"HTTP {result.status}"
                    return Outcome(job, "pending", attempts, error=what, rate_waits=rate_waits,
                                   fatal=f"LINE is unavailable ({what} {errors} times in a row)")
                self.sleep(backoff(env, errors))
                continue
            reason = f"HTTP {result.status} {result.error or ''}".strip()[:250]
            if result.request_id:
                reason += f" (x-line-request-id {result.request_id})"
            if result.status in (401, 403):
                # Every batch would fail alike: stop so the token can be fixed, then resume.
                return Outcome(job, "pending", attempts, error=reason, rate_waits=rate_waits,
                               fatal=f"LINE refused the channel's credentials: {reason}")
            return Outcome(job, "failed", attempts, error=reason, rate_waits=rate_waits)

    def quota_spent(self, needed: int) -> bool:
        """After a 429: is it the monthly quota (stop) rather than the rate (wait)?"""
        with self._quota_lock:
            try:
                limit, used = self.env.line.quota()
            except Exception:
                return False
            return limit is not None and used + needed > limit

    # -- the database side, in the calling thread -------------------------------------------
    def load_pending(self, s: Session) -> list[Job]:
        """Unconfirmed batches of an earlier run, less anyone who has since blocked or opted out."""
        rows = s.execute(select(CampaignBatch.id, CampaignBatch.seq, CampaignBatch.retry_key, CampaignBatch.user_ids)
                         .where(CampaignBatch.campaign_id == self.campaign_id, CampaignBatch.status == "pending")
                         .order_by(CampaignBatch.seq)).all()
        jobs = []
        for batch_id, seq, key, user_ids in rows:
            still = set(s.scalars(select(User.line_user_id).where(
                User.line_user_id.in_(user_ids), User.followed.is_(True), User.blocked.is_(False),
                User.opted_out.is_(False))))
            kept = [u for u in user_ids if u in still]
            if len(kept) != len(user_ids):
                if kept:
                    s.execute(update(CampaignBatch).where(CampaignBatch.id == batch_id)
                              .values(user_ids=kept, size=len(kept)))
                else:
                    s.execute(update(CampaignBatch).where(CampaignBatch.id == batch_id)
                              .values(user_ids=[], size=0, status="sent", last_error="no recipient left"))
                    continue
            jobs.append(Job(batch_id, seq, key, kept))
        return jobs

    def heartbeat(self, s: Session, cursor: int | None = None) -> None:
        values: dict[str, Any] = {"claimed_at": self.env.clock()}
        if cursor is not None:
            values["cursor_user_id"] = cursor
        r = s.execute(update(Campaign).where(Campaign.id == self.campaign_id, Campaign.claimed_by == self.owner)
                      .values(**values).execution_options(synchronize_session=False))
        if r.rowcount != 1:
            raise ClaimLost(f"campaign {self.campaign_id} was taken over by another sender; this one stops")

    def write_outcomes(self, s: Session, outcomes: list[Outcome]) -> None:
        rows = []
        now = self.env.clock()
        for o in outcomes:
            if o.status == "sent":
                rows.append({"id": o.job.batch_id, "status": "sent", "attempts": o.attempts,
                             "already_accepted": o.already_accepted, "sent_at": now, "last_error": None})
            elif o.status == "failed":
                rows.append({"id": o.job.batch_id, "status": "failed", "attempts": o.attempts,
                             "last_error": (o.error or "")[:300]})
            elif o.attempts:
                rows.append({"id": o.job.batch_id, "attempts": o.attempts,
                             "last_error": (o.error or o.fatal or "")[:300] or None})
        if rows:
            s.execute(update(CampaignBatch), rows)

    def new_batches(self, s: Session, audience: str, cursor: int, next_seq: int, count: int
                    ) -> tuple[list[Job], int, bool]:
        """Record the next batches (members and retry keys) and move the cursor, in one transaction."""
        ids, last = audience_page(s, audience, cursor, self.env.page_size * count)
        jobs: list[Job] = []
        rows = []
        now = self.env.clock()
        for i in range(0, len(ids), self.env.page_size):
            chunk = ids[i:i + self.env.page_size]
            key = str(uuid.uuid4())
            rows.append({"campaign_id": self.campaign_id, "seq": next_seq, "retry_key": key, "user_ids": chunk,
                         "size": len(chunk), "status": "pending", "attempts": 0, "already_accepted": False,
                         "created_at": now})
            jobs.append(Job(0, next_seq, key, chunk))
            next_seq += 1
        if rows:
            table = CampaignBatch.__table__
            inserted = s.execute(table.insert().returning(table.c.id, table.c.seq), rows).all()
            by_seq = {seq: bid for bid, seq in inserted}
            for job in jobs:
                job.batch_id = by_seq[job.seq]
            cursor = last if last is not None else cursor
        self.heartbeat(s, cursor)
        return jobs, cursor, len(ids) < self.env.page_size * count

    def produce(self, audience: str, cursor: int, next_seq: int, ready: "queue.Queue[Job]",
                done: threading.Event, errors: list[BaseException]) -> None:
        """In its own thread: record batches ahead of the senders, so database time overlaps sending."""
        env = self.env
        try:
            while not self.stop.is_set():
                t0 = env.monotonic()
                with env.db.session() as s:
                    jobs, cursor, exhausted = self.new_batches(s, audience, cursor, next_seq, env.batches_per_tx)
                self.report.db_seconds += env.monotonic() - t0
                next_seq += len(jobs)
                for job in jobs:
                    while True:
                        try:
                            ready.put(job, timeout=0.2)
                            break
                        except queue.Full:
                            if self.stop.is_set():
                                return  # recorded, not sent: a resume sends it under its key
                if exhausted:
                    return
        except BaseException as e:  # noqa: BLE001  (handed to the sending thread)
            errors.append(e)
            self.stop.set()
        finally:
            done.set()

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> SendReport:
        env, report = self.env, self.report
        started = env.monotonic()
        with env.db.session() as s:
            c = s.get(Campaign, self.campaign_id)
            if c is None:
                raise CampaignError(f"no campaign {self.campaign_id}")
            audience, cursor, messages = c.audience, c.cursor_user_id, c.messages
            pending = self.load_pending(s)
            next_seq = (s.scalar(select(func.max(CampaignBatch.seq))
                                 .where(CampaignBatch.campaign_id == self.campaign_id)) or 0) + 1
            done_before = int(s.scalar(select(func.coalesce(func.sum(CampaignBatch.size), 0)).where(
                CampaignBatch.campaign_id == self.campaign_id, CampaignBatch.status.in_(("sent", "failed")))) or 0)
            remaining = count_audience(s, audience, cursor) + sum(len(j.user_ids) for j in pending)
            self.heartbeat(s)
        limit, used = read_quota(env.line)
        plan = Plan(remaining, limit, used)
        if not plan.fits:
            msg = (f"refused: sending would exceed LINE's monthly message quota ({plan.describe()}); "
                   "nothing more was sent. Raise the plan's quota or narrow the audience, then send again.")
            with env.db.session() as s:
                release(s, self.campaign_id, self.owner, status="interrupted", last_error=msg[:500])
            report.status = "interrupted"
            raise QuotaExceeded(msg)
        # Validated and fitted once; each request then only serialises its 500 ids.
        sdk_messages = to_wire(messages)
        total = done_before + remaining
        done = done_before
        if self.progress:
            self.progress(done, total)

        resumed: deque[Job] = deque(pending)
        max_inflight = max(2, env.concurrency * 4)  # queued ahead of the sending threads
        ready: queue.Queue[Job] = queue.Queue(maxsize=max_inflight)
        produced = threading.Event()
        producer_errors: list[BaseException] = []
        producer = threading.Thread(target=self.produce, name=f"campaign-{self.campaign_id}-batches",
                                    args=(audience, cursor, next_seq, ready, produced, producer_errors), daemon=True)
        inflight: dict[Future, Job] = {}
        unwritten: list[Outcome] = []
        last_beat = env.monotonic()
        pool = ThreadPoolExecutor(max_workers=max(1, env.concurrency), thread_name_prefix=f"campaign-{self.campaign_id}")

        def submit(job: Job) -> None:
            inflight[pool.submit(self.send_batch, job, sdk_messages)] = job

        producer.start()
        try:
            while True:
                if not self.stop.is_set():
                    while resumed and len(inflight) < max_inflight:
                        submit(resumed.popleft())
                    while len(inflight) < max_inflight:
                        try:
                            submit(ready.get_nowait())
                        except queue.Empty:
                            break
                if producer_errors:
                    raise producer_errors[0]
                if not inflight:
                    if self.stop.is_set() or (produced.is_set() and ready.empty() and not resumed):
                        break
                    try:
                        submit(ready.get(timeout=0.2))
                    except queue.Empty:
                        pass
                    continue
                finished, _ = wait(list(inflight), timeout=env.heartbeat, return_when=FIRST_COMPLETED)
                for f in finished:
                    inflight.pop(f)
                    o = f.result()
                    unwritten.append(o)
                    done += self.tally(o)
                if finished and self.progress:
                    self.progress(done, total)
                if unwritten and (produced.is_set() or self.stop.is_set() or len(unwritten) >= 64
                                  or env.monotonic() - last_beat >= 1.0):
                    t0 = env.monotonic()
                    with env.db.session() as s:
                        self.write_outcomes(s, unwritten)
                        self.heartbeat(s)
                    unwritten = []
                    last_beat = env.monotonic()
                    report.db_seconds += last_beat - t0
                elif env.monotonic() - last_beat >= env.heartbeat:
                    with env.db.session() as s:
                        self.heartbeat(s)
                    last_beat = env.monotonic()
            producer.join()
            if producer_errors:
                raise producer_errors[0]
        except BaseException as e:
            # Ctrl-C, a lost claim or a database error: let the batches in flight finish and keep
            # what LINE answered, so a resume repeats as little as possible.
            self.stop.set()
            if isinstance(e, KeyboardInterrupt):
                report.stopped_because = report.stopped_because or "interrupted (Ctrl-C)"
            elif isinstance(e, ClaimLost):
                report.stopped_because = str(e)
            else:
                report.stopped_because = report.stopped_because or f"{type(e).__name__}: {str(e)[:200]}"
            pool.shutdown(wait=True, cancel_futures=True)
            producer.join(timeout=30)
            for f in inflight:
                if f.done() and not f.cancelled() and f.exception() is None:
                    unwritten.append(f.result())
                    self.tally(f.result())
            if not isinstance(e, ClaimLost):
                try:
                    with env.db.session() as s:
                        self.write_outcomes(s, unwritten)
                        release(s, self.campaign_id, self.owner, status=self.stopped_status(),
                                scheduled_at=self.retry_time(), last_error=report.stopped_because[:500])
                except Exception:
                    log.exception("campaign %s: could not record the interruption", self.campaign_id)
            report.status = "interrupted"
            report.seconds = env.monotonic() - started
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

        report.seconds = env.monotonic() - started
        with env.db.session() as s:
            if unwritten:
                self.write_outcomes(s, unwritten)
            if self.stop.is_set():
                report.status = self.stopped_status()
                report.stopped_because = report.stopped_because or "stopped on request"
                release(s, self.campaign_id, self.owner, status=report.status, scheduled_at=self.retry_time(),
                        last_error=report.stopped_because[:500])
            else:
                report.status = "done"
                note = (f"{report.failed_batches} batches failed: {'; '.join(report.failures[:3])}"
                        if report.failed_batches else None)
                failed_total = s.scalar(select(func.count()).select_from(CampaignBatch).where(
                    CampaignBatch.campaign_id == self.campaign_id, CampaignBatch.status == "failed"))
                if failed_total and not note:
                    note = f"{failed_total} batches failed (see campaign status)"
                if not release(s, self.campaign_id, self.owner, status="done", finished_at=env.clock(),
                               last_error=note[:500] if note else None):
                    raise ClaimLost(f"campaign {self.campaign_id} was taken over before it finished")
                # The ids were kept only to resume this send; a finished campaign keeps just the counts.
                s.execute(update(CampaignBatch).where(CampaignBatch.campaign_id == self.campaign_id)
                          .values(user_ids=[]))
        log.info("campaign %s %s: %d recipients in %d batches, %d failed batches", self.campaign_id,
                 report.status, report.sent_recipients, report.sent_batches, report.failed_batches)
        return report

    def tally(self, o: Outcome) -> int:
        """Count an outcome in the report; the recipients it settles."""
        r = self.report
        r.requests += o.attempts
        r.retries += max(0, o.attempts - 1 - o.rate_waits)
        r.rate_waits += o.rate_waits
        if o.status == "sent":
            r.sent_batches += 1
            r.sent_recipients += len(o.job.user_ids)
            r.already_accepted += int(o.already_accepted)
            return len(o.job.user_ids)
        if o.status == "failed":
            r.failed_batches += 1
            r.failed_recipients += len(o.job.user_ids)
            r.failures.append(f"batch {o.job.seq}: {o.error}")
            log.warning("campaign %s batch %s failed: %s", self.campaign_id, o.job.seq, o.error)
            return len(o.job.user_ids)
        if o.fatal and not self.stop.is_set():
            r.stopped_because = o.fatal
            self.stop.set()
        return 0

    def stopped_status(self) -> str:
        return self.on_stop_status

    def retry_time(self) -> datetime | None:
        if self.on_stop_status != "scheduled":
            return None
        # The worker: stopped on request (shutdown) → another worker may go on at once; LINE
        # trouble → try again later.
        if self.report.stopped_because and ("LINE" in self.report.stopped_because):
            return self.env.clock() + timedelta(seconds=self.env.retry_later)
        return self.env.clock()


# ------------------------------------------------------------------------------- entry points
def send_now(env: SendEnv, campaign_id: int, *, stop: threading.Event | None = None,
             progress: Callable[[int, int], None] | None = None, owner: str | None = None) -> SendReport:
    """`campaign send ID`: claim the campaign (resuming it if cut off) and send it to the end."""
    owner = owner or new_owner()
    now = env.clock()
    with env.db.session() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise CampaignError(f"no campaign {campaign_id}")
        if c.status == "done":
            report = SendReport(campaign_id, status="done")
            report.stopped_because = "already sent; nothing to do"
            return report
        if c.status == "cancelled":
            raise CampaignError(f"campaign {campaign_id} was cancelled")
        holder = c.claimed_by if c.status == "sending" else None
        take_from = holder if holder and owner_is_dead(holder) else None
        if not claim(s, campaign_id, owner, now, statuses=SENDABLE, stale_after=env.claim_timeout,
                     take_from=take_from):
            raise CampaignError(
                f"campaign {campaign_id} is being sent by {c.claimed_by} (last sign of life "
                f"{bangkok(c.claimed_at)}); it can be taken over {int(env.claim_timeout)} s after that")
    return Sender(env, campaign_id, owner, stop=stop, progress=progress).run()


def plan_send(env: SendEnv, campaign_id: int) -> Plan:
    """What `campaign send ID` would use now (for --dry-run)."""
    with env.db.session() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise CampaignError(f"no campaign {campaign_id}")
        pending = s.scalar(select(func.coalesce(func.sum(CampaignBatch.size), 0)).where(
            CampaignBatch.campaign_id == campaign_id, CampaignBatch.status == "pending")) or 0
        recipients = 0 if c.status == "done" else count_audience(s, c.audience, c.cursor_user_id) + int(pending)
    limit, used = read_quota(env.line)
    return Plan(recipients, limit, used)


def due_campaign_ids(session: Session, now: datetime, stale_after: float) -> list[int]:
    q = select(Campaign.id).where(or_(
        and_(Campaign.status == "scheduled", Campaign.scheduled_at <= now),
        and_(Campaign.status == "sending", Campaign.claimed_at < now - timedelta(seconds=stale_after)),
    )).order_by(Campaign.scheduled_at, Campaign.id)
    return list(session.scalars(q))


def worker_once(env: SendEnv, *, owner: str | None = None, stop: threading.Event | None = None,
                on_claim: Callable[[int], None] | None = None) -> list[SendReport]:
    """Send every campaign that is due (or whose sender died); each is claimed before it is sent."""
    owner = owner or new_owner()
    stop = stop or threading.Event()
    reports = []
    with env.db.session() as s:
        ids = due_campaign_ids(s, env.clock(), env.claim_timeout)
        # A sender killed on this very host need not wait for its claim to go stale.
        dead = {cid: holder for cid, holder in s.execute(
            select(Campaign.id, Campaign.claimed_by).where(Campaign.status == "sending")) if owner_is_dead(holder)}
    ids += [cid for cid in dead if cid not in ids]
    for campaign_id in ids:
        if stop.is_set():
            break
        with env.db.session() as s:
            won = claim(s, campaign_id, owner, env.clock(), statuses=(), stale_after=env.claim_timeout,
                        due_only=True, take_from=dead.get(campaign_id))
        if not won:
            continue  # another worker got it first
        if on_claim:
            on_claim(campaign_id)
        log.info("worker %s sends campaign %s", owner, campaign_id)
        try:
            reports.append(Sender(env, campaign_id, owner, stop=stop, on_stop_status="scheduled").run())
        except QuotaExceeded as e:
            log.error("campaign %s not sent: %s", campaign_id, e)
        except ClaimLost as e:
            log.warning("%s", e)
    return reports


def run_worker(env: SendEnv, *, poll: float, once: bool = False, stop: threading.Event | None = None) -> None:
    """The Procfile's worker: send due campaigns, then wait poll seconds, until stopped."""
    stop = stop or threading.Event()
    owner = new_owner()
    log.info("campaign worker %s started (poll every %s s)", owner, poll)
    while not stop.is_set():
        try:
            worker_once(env, owner=owner, stop=stop)
        except Exception:
            if once:
                raise
            log.exception("campaign worker: a round failed; trying again after the poll interval")
        if once:
            break
        stop.wait(poll)
    log.info("campaign worker %s stopped", owner)


# --------------------------------------------------------------------------------------- status
@dataclass
class Progress:
    campaign: Campaign
    sent: int
    failed: int
    pending: int
    failures: list[str]

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending

    @property
    def percent(self) -> float:
        if self.total == 0:
            return 100.0 if self.campaign.status == "done" else 0.0
        return 100.0 * (self.sent + self.failed) / self.total


def progress_of(session: Session, campaign_id: int) -> Progress:
    c = session.get(Campaign, campaign_id)
    if c is None:
        raise CampaignError(f"no campaign {campaign_id}")
    sums = dict(session.execute(select(CampaignBatch.status, func.coalesce(func.sum(CampaignBatch.size), 0))
                                .where(CampaignBatch.campaign_id == campaign_id)
                                .group_by(CampaignBatch.status)).all())
    failures = [f"batch {seq} ({size} recipients): {err}" for seq, size, err in session.execute(
        select(CampaignBatch.seq, CampaignBatch.size, CampaignBatch.last_error)
        .where(CampaignBatch.campaign_id == campaign_id, CampaignBatch.status == "failed")
        .order_by(CampaignBatch.seq).limit(20))]
    pending = int(sums.get("pending", 0))
    if c.status not in ("done", "cancelled"):
        pending += count_audience(session, c.audience, c.cursor_user_id)
    return Progress(c, int(sums.get("sent", 0)), int(sums.get("failed", 0)), pending, failures)


def list_rows(session: Session) -> list[tuple[Campaign, int]]:
    sent = (select(CampaignBatch.campaign_id, func.sum(CampaignBatch.size).label("sent"))
            .where(CampaignBatch.status == "sent").group_by(CampaignBatch.campaign_id).subquery())
    q = (select(Campaign, func.coalesce(sent.c.sent, 0)).outerjoin(sent, sent.c.campaign_id == Campaign.id)
         .order_by(Campaign.id.desc()))
    return [(c, int(n)) for c, n in session.execute(q)]


def cancel(session: Session, campaign_id: int) -> bool:
    r = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(SENDABLE))
                        .values(status="cancelled").execution_options(synchronize_session=False))
    return r.rowcount == 1


# ----------------------------------------------------------------------- the resident's button
@on_postback(OPTOUT_POSTBACK)
def optout_postback(turn: Any, ctx: Any, params: dict[str, str]) -> list[dict]:
    """The "หยุดรับข่าวสาร" button under a campaign message: stop broadcasts at once."""
    from bot import dialogue

    return dialogue.broadcast_optout(turn, ctx, None)


from bot.campaign_cli import campaign_cli  # noqa: E402,F401  (the `flask campaign` group)
