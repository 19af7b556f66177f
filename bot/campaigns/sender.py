"""Sending one claimed campaign: batches of at most 500 recipients, resumable at any point.

Every batch is written with its X-Line-Retry-Key before its first attempt, and the campaign's
cursor (the highest users.id put into a batch) moves in the same transaction; a resumed send
first repeats the unconfirmed batches with their own keys (LINE answers 409 for those it had
accepted) and then continues after the cursor. Only the holder of the campaign's claim writes
batches, so two senders never cut the audience twice. Logs carry counts and ids of campaigns
and batches only, never a user id with a message text.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.campaigns.errors import CampaignError, ClaimLost, QuotaExceeded
from bot.campaigns.reminders import personaliser
from bot.clock import utcnow
from bot.content.model import Content
from bot.limits import MAX_MULTICAST
from bot.line import LineClient, SendResult, to_wire
from bot.store.campaigns import audience_conditions, audience_page, count_audience, release
from bot.store.db import Database, rowcount, table_of
from bot.store.models import BatchStatus, Campaign, CampaignBatch, CampaignStatus, User

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

# (session, audience, LINE user ids) -> [(LINE user ids, their messages)], or None when the
# audience is not a personal one (every recipient gets the campaign's own messages).
Personalise = Callable[[Session, str, list[str]], list[tuple[list[str], list[dict[str, Any]] | None]] | None]


def by_language(s: Session, line_user_ids: list[str], messages_en: list[dict[str, Any]]
                ) -> list[tuple[list[str], list[dict[str, Any]] | None]]:
    """The page's residents who read English get the campaign's English messages; the rest its own."""
    english = set(s.scalars(select(User.line_user_id).where(User.line_user_id.in_(line_user_ids), User.lang == "en")))
    return [(ids, own) for ids, own in (([u for u in line_user_ids if u not in english], None),
                                        ([u for u in line_user_ids if u in english], messages_en)) if ids]


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

    db: Database
    line: LineClient
    content: Content
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
    # Personal campaigns (weekly reminders): personalise(session, audience, line user ids) gives
    # groups of recipients and the messages each group gets; called in the transaction that
    # records their batches (bot/campaigns/reminders.py).
    personalise: Personalise | None = None

    @classmethod
    def from_deps(cls, deps: Deps, **overrides: Any) -> SendEnv:
        """The environment of the app's campaigns: its database, LINE client, clock and settings."""
        cfg = deps.config
        values: dict[str, Any] = dict(
            db=deps.db, line=deps.line, content=deps.content, clock=deps.clock, sleep=deps.sleep,
            monotonic=deps.monotonic, rate=float(cfg.get("CAMPAIGN_RATE", 180.0)),
            # At most the LINE client's connection pool (16), or connections would be thrown away.
            concurrency=max(1, min(16, int(cfg.get("CAMPAIGN_CONCURRENCY", 8)))),
            claim_timeout=float(cfg.get("CAMPAIGN_CLAIM_TIMEOUT", 120.0)),
            max_attempts=int(cfg.get("CAMPAIGN_MAX_ATTEMPTS", 6)),
            page_size=max(1, min(MAX_MULTICAST, int(cfg.get("CAMPAIGN_BATCH_SIZE", MAX_MULTICAST)))),
        )
        values["personalise"] = personaliser(deps.contents, deps.clock)
        values.update(overrides)
        return cls(**values)


@dataclass
class Job:
    batch_id: int
    seq: int
    retry_key: str
    user_ids: list[str]
    messages: list[dict[str, Any]] | None = None  # wire form; None: the campaign's


@dataclass
class BatchOutcome:
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
    status: str = CampaignStatus.SENDING
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
    return float(min(env.max_backoff, env.base_backoff * (2 ** max(0, attempt - 1))))


class Sender:
    """Sends one claimed campaign to the end, or until stopped; resumable at any point."""

    def __init__(self, env: SendEnv, campaign_id: int, owner: str, *, stop: threading.Event | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_stop_status: str = CampaignStatus.INTERRUPTED) -> None:
        self.env, self.campaign_id, self.owner = env, campaign_id, owner
        self.stop = stop or threading.Event()
        self.progress = progress
        self.on_stop_status = on_stop_status
        self.sleep = env.sleep or self.stop.wait
        self.limiter = RateLimiter(env.rate, env.monotonic, self.sleep)
        self.report = SendReport(campaign_id)
        self._quota_lock = threading.Lock()
        self.messages_en: list[dict[str, Any]] | None = None  # for residents who read English

    # -- one batch, in a sending thread -----------------------------------------------------
    def send_batch(self, job: Job, sdk_messages: list[dict[str, Any]]) -> BatchOutcome:
        env = self.env
        attempts = rate_waits = errors = 0
        while True:
            if self.stop.is_set():
                return BatchOutcome(job, "stopped", attempts)
            self.limiter.acquire()
            if self.stop.is_set():
                return BatchOutcome(job, "stopped", attempts)
            result: SendResult = env.line.multicast_prepared(job.user_ids, job.messages or sdk_messages,
                                                             retry_key=job.retry_key, timeout=env.timeout)
            attempts += 1
            if result.ok or result.already_accepted:
                return BatchOutcome(job, "sent", attempts, already_accepted=result.already_accepted,
                               rate_waits=rate_waits)
            if result.status == 429:
                rate_waits += 1
                if self.quota_spent(len(job.user_ids)):
                    return BatchOutcome(job, "pending", attempts, fatal="LINE's monthly message quota is spent",
                                   quota=True, rate_waits=rate_waits)
                if rate_waits > env.max_rate_waits:
                    return BatchOutcome(job, "pending", attempts, fatal="LINE kept answering 429 (rate limit)",
                                   rate_waits=rate_waits)
                delay = result.retry_after if result.retry_after else backoff(env, rate_waits)
                self.limiter.hold(delay)
                self.sleep(delay)
                continue
            if result.status == 0 or result.status >= 500:
                errors += 1
                if errors >= env.max_attempts:
                    what = "no answer" if result.status == 0 else f"HTTP {result.status}"
                    return BatchOutcome(job, "pending", attempts, error=what, rate_waits=rate_waits,
                                   fatal=f"LINE is unavailable ({what} {errors} times in a row)")
                self.sleep(backoff(env, errors))
                continue
            reason = f"HTTP {result.status} {result.error or ''}".strip()[:250]
            if result.request_id:
                reason += f" (x-line-request-id {result.request_id})"
            if result.status in (401, 403):
                # Every batch would fail alike: stop so the token can be fixed, then resume.
                return BatchOutcome(job, "pending", attempts, error=reason, rate_waits=rate_waits,
                               fatal=f"LINE refused the channel's credentials: {reason}")
            return BatchOutcome(job, "failed", attempts, error=reason, rate_waits=rate_waits)

    def quota_spent(self, needed: int) -> bool:
        """After a 429: is it the monthly quota (stop) rather than the rate (wait)?"""
        with self._quota_lock:
            try:
                limit, used = self.env.line.quota()
            except Exception:
                return False
            return limit is not None and used + needed > limit

    # -- the database side, in the calling thread -------------------------------------------
    def load_pending(self, s: Session, audience: str) -> list[Job]:
        """Unconfirmed batches of an earlier run, less anyone who has since left the audience
        (blocked, opted out, or for a haze alert unsubscribed)."""
        rows = s.execute(select(CampaignBatch.id, CampaignBatch.seq, CampaignBatch.retry_key, CampaignBatch.user_ids,
                                CampaignBatch.messages)
                         .where(CampaignBatch.campaign_id == self.campaign_id, CampaignBatch.status == BatchStatus.PENDING)
                         .order_by(CampaignBatch.seq)).all()
        jobs = []
        for batch_id, seq, key, user_ids, own in rows:
            still = set(s.scalars(select(User.line_user_id).where(
                User.line_user_id.in_(user_ids), *audience_conditions(audience))))
            kept = [u for u in user_ids if u in still]
            if len(kept) != len(user_ids):
                if kept:
                    s.execute(update(CampaignBatch).where(CampaignBatch.id == batch_id)
                              .values(user_ids=kept, size=len(kept)))
                else:
                    s.execute(update(CampaignBatch).where(CampaignBatch.id == batch_id)
                              .values(user_ids=[], size=0, status=BatchStatus.SENT, last_error="no recipient left"))
                    continue
            jobs.append(Job(batch_id, seq, key, kept, to_wire(own) if own else None))
        return jobs

    def heartbeat(self, s: Session, cursor: int | None = None) -> None:
        values: dict[str, Any] = {"claimed_at": self.env.clock()}
        if cursor is not None:
            values["cursor_user_id"] = cursor
        r = s.execute(update(Campaign).where(Campaign.id == self.campaign_id, Campaign.claimed_by == self.owner)
                      .values(**values).execution_options(synchronize_session=False))
        if rowcount(r) != 1:
            raise ClaimLost(f"campaign {self.campaign_id} was taken over by another sender; this one stops")

    def write_outcomes(self, s: Session, outcomes: list[BatchOutcome]) -> None:
        rows = []
        now = self.env.clock()
        for o in outcomes:
            if o.status == "sent":
                rows.append({"id": o.job.batch_id, "status": BatchStatus.SENT, "attempts": o.attempts,
                             "already_accepted": o.already_accepted, "sent_at": now, "last_error": None})
            elif o.status == "failed":
                rows.append({"id": o.job.batch_id, "status": BatchStatus.FAILED, "attempts": o.attempts,
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
        groups = self.env.personalise(s, audience, ids) if self.env.personalise and ids else None
        if groups is None and self.messages_en and ids:
            groups = by_language(s, ids, self.messages_en)
        for members, own in groups if groups is not None else [(ids, None)]:
            for i in range(0, len(members), self.env.page_size):
                chunk = members[i:i + self.env.page_size]
                key = str(uuid.uuid4())
                rows.append({"campaign_id": self.campaign_id, "seq": next_seq, "retry_key": key, "user_ids": chunk,
                             "size": len(chunk), "status": BatchStatus.PENDING, "attempts": 0,
                             "already_accepted": False, "created_at": now, "messages": own,
                             "lang": "en" if own is not None and own is self.messages_en else "th"})
                jobs.append(Job(0, next_seq, key, chunk, to_wire(own) if own else None))
                next_seq += 1
        if rows:
            table = table_of(CampaignBatch)
            inserted = s.execute(table.insert().returning(table.c.id, table.c.seq), rows).all()
            by_seq = {seq: bid for bid, seq in inserted}
            for job in jobs:
                job.batch_id = by_seq[job.seq]
            cursor = last if last is not None else cursor
        self.heartbeat(s, cursor)
        return jobs, cursor, len(ids) < self.env.page_size * count

    def produce(self, audience: str, cursor: int, next_seq: int, ready: queue.Queue[Job],
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
        except BaseException as e:
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
            self.messages_en = c.messages_en
            pending = self.load_pending(s, audience)
            next_seq = (s.scalar(select(func.max(CampaignBatch.seq))
                                 .where(CampaignBatch.campaign_id == self.campaign_id)) or 0) + 1
            done_before = int(s.scalar(select(func.coalesce(func.sum(CampaignBatch.size), 0)).where(
                CampaignBatch.campaign_id == self.campaign_id,
                CampaignBatch.status.in_((BatchStatus.SENT, BatchStatus.FAILED)))) or 0)
            remaining = count_audience(s, audience, cursor) + sum(len(j.user_ids) for j in pending)
            self.heartbeat(s)
        limit, used = read_quota(env.line)
        plan = Plan(remaining, limit, used)
        if not plan.fits:
            msg = (f"refused: sending would exceed LINE's monthly message quota ({plan.describe()}); "
                   "nothing more was sent. Raise the plan's quota or narrow the audience, then send again.")
            with env.db.session() as s:
                release(s, self.campaign_id, self.owner, status=CampaignStatus.INTERRUPTED, last_error=msg[:500])
            report.status = CampaignStatus.INTERRUPTED
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
        inflight: dict[Future[BatchOutcome], Job] = {}
        unwritten: list[BatchOutcome] = []
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
            report.status = CampaignStatus.INTERRUPTED
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
                report.status = CampaignStatus.DONE
                note = (f"{report.failed_batches} batches failed: {'; '.join(report.failures[:3])}"
                        if report.failed_batches else None)
                failed_total = s.scalar(select(func.count()).select_from(CampaignBatch).where(
                    CampaignBatch.campaign_id == self.campaign_id, CampaignBatch.status == BatchStatus.FAILED))
                if failed_total and not note:
                    note = f"{failed_total} batches failed (see campaign status)"
                if not release(s, self.campaign_id, self.owner, status=CampaignStatus.DONE, finished_at=env.clock(),
                               last_error=note[:500] if note else None):
                    raise ClaimLost(f"campaign {self.campaign_id} was taken over before it finished")
                # The ids were kept only to resume this send; a finished campaign keeps just the counts.
                s.execute(update(CampaignBatch).where(CampaignBatch.campaign_id == self.campaign_id)
                          .values(user_ids=[], messages=None))
        log.info("campaign %s %s: %d recipients in %d batches, %d failed batches", self.campaign_id,
                 report.status, report.sent_recipients, report.sent_batches, report.failed_batches)
        return report

    def tally(self, o: BatchOutcome) -> int:
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
        if self.on_stop_status != CampaignStatus.SCHEDULED:
            return None
        # The worker: stopped on request (shutdown) → another worker may go on at once; LINE
        # trouble → try again later.
        if self.report.stopped_because and ("LINE" in self.report.stopped_because):
            return self.env.clock() + timedelta(seconds=self.env.retry_later)
        return self.env.clock()
