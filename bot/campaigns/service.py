"""What the office asks of campaigns: create, send now, plan, the scheduled worker, status, cancel."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.campaigns.audience import parse_audience
from bot.campaigns.claims import new_owner, owner_is_dead
from bot.campaigns.compose import build_messages, validate_messages
from bot.campaigns.errors import CampaignError, ClaimLost, QuotaExceeded
from bot.campaigns.sender import Plan, SendEnv, Sender, SendReport, read_quota
from bot.clock import BANGKOK, UTC, as_utc, bangkok_text, utcnow
from bot.content.model import Content
from bot.jobs import Job
from bot.store import campaigns as store
from bot.store.campaigns import SENDABLE, Progress, claim, count_audience, due_campaign_ids
from bot.store.models import BatchStatus, Campaign, CampaignBatch, CampaignStatus
from bot.turn import Message

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)


def parse_at(value: str) -> datetime:
    """An ISO time, in Asia/Bangkok unless it names its zone, as aware UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CampaignError(f"--at {value!r} is not an ISO date and time, e.g. 2025-03-01T18:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=BANGKOK)
    return dt.astimezone(UTC)


def create_campaign(session: Session, content: Content, *, name: str, text: str, flex: Message | None = None,
                    audience: str = "all", at: datetime | None = None, checkin: bool = False,
                    now: datetime | None = None, text_en: str | None = None,
                    content_en: Content | None = None) -> Campaign:
    """Store a new campaign (a draft, or scheduled when at is given); validated, not sent.

    text_en (with content_en, the English view for the stop button's label) adds the messages
    English readers receive. Every postback button carries the campaign's id (taps are counted).
    """
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
    text_en = (text_en or "").strip() or None
    if text_en is not None and content_en is None:
        raise ValueError("an English text needs content_en, the English view of the content")
    canonical = parse_audience(content, audience)

    def compose(campaign_id: int | None) -> tuple[list[Message], list[Message] | None]:
        messages = build_messages(content, text, flex, checkin, now, campaign_id)
        validate_messages(messages)
        if text_en is None or content_en is None:
            return messages, None
        messages_en = build_messages(content_en, text_en, flex, checkin, now, campaign_id)
        validate_messages(messages_en)
        return messages, messages_en

    messages, messages_en = compose(None)  # refuse a bad message before anything is stored
    campaign = Campaign(name=name.strip(), text=text, flex=flex, messages=messages, audience=canonical,
                        checkin=checkin, status=CampaignStatus.SCHEDULED if at else CampaignStatus.DRAFT,
                        scheduled_at=as_utc(at) if at else None, text_en=text_en, messages_en=messages_en,
                        cursor_user_id=0, created_at=now)
    session.add(campaign)
    session.flush()
    # Now that the id is known, the buttons carry it.
    campaign.messages, campaign.messages_en = compose(campaign.id)
    session.flush()
    log.info("campaign %s created: audience=%s scheduled_at=%s english=%s", campaign.id, canonical, at,
             text_en is not None)
    return campaign


def send_now(env: SendEnv, campaign_id: int, *, stop: threading.Event | None = None,
             progress: Callable[[int, int], None] | None = None, owner: str | None = None) -> SendReport:
    """`campaign send ID`: claim the campaign (resuming it if cut off) and send it to the end."""
    owner = owner or new_owner()
    now = env.clock()
    with env.db.session() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise CampaignError(f"no campaign {campaign_id}")
        if c.status == CampaignStatus.DONE:
            report = SendReport(campaign_id, status=CampaignStatus.DONE)
            report.stopped_because = "already sent; nothing to do"
            return report
        if c.status == CampaignStatus.CANCELLED:
            raise CampaignError(f"campaign {campaign_id} was cancelled")
        holder = c.claimed_by if c.status == CampaignStatus.SENDING else None
        take_from = holder if holder and owner_is_dead(holder) else None
        if not claim(s, campaign_id, owner, now, statuses=SENDABLE, stale_after=env.claim_timeout,
                     take_from=take_from):
            raise CampaignError(
                f"campaign {campaign_id} is being sent by {c.claimed_by} (last sign of life "
                f"{bangkok_text(c.claimed_at)}); it can be taken over {int(env.claim_timeout)} s after that")
    return Sender(env, campaign_id, owner, stop=stop, progress=progress).run()


def plan_send(env: SendEnv, campaign_id: int) -> Plan:
    """What `campaign send ID` would use now (for --dry-run)."""
    with env.db.session() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise CampaignError(f"no campaign {campaign_id}")
        pending = s.scalar(select(func.coalesce(func.sum(CampaignBatch.size), 0)).where(
            CampaignBatch.campaign_id == campaign_id, CampaignBatch.status == BatchStatus.PENDING)) or 0
        recipients = 0 if c.status == CampaignStatus.DONE else count_audience(s, c.audience, c.cursor_user_id) + int(pending)
    limit, used = read_quota(env.line)
    return Plan(recipients, limit, used)


def worker_once(env: SendEnv, *, owner: str | None = None, stop: threading.Event | None = None,
                on_due: Callable[[int], None] | None = None,
                on_claim: Callable[[int], None] | None = None) -> list[SendReport]:
    """Send every campaign that is due (or whose sender died); each is claimed before it is sent.

    on_due(id) runs just before the claim is tried, on_claim(id) once it is won (tests use them
    to make two workers race for one campaign)."""
    owner = owner or new_owner()
    stop = stop or threading.Event()
    reports = []
    with env.db.session() as s:
        ids = due_campaign_ids(s, env.clock(), env.claim_timeout)
        # A sender killed on this very host need not wait for its claim to go stale.
        dead = {cid: holder for cid, holder in s.execute(
            select(Campaign.id, Campaign.claimed_by).where(Campaign.status == CampaignStatus.SENDING)) if owner_is_dead(holder)}
    ids += [cid for cid in dead if cid not in ids]
    for campaign_id in ids:
        if stop.is_set():
            break
        if on_due:
            on_due(campaign_id)
        with env.db.session() as s:
            won = claim(s, campaign_id, owner, env.clock(), statuses=(), stale_after=env.claim_timeout,
                        due_only=True, take_from=dead.get(campaign_id))
        if not won:
            continue  # another worker got it first
        if on_claim:
            on_claim(campaign_id)
        log.info("worker %s sends campaign %s", owner, campaign_id)
        try:
            reports.append(Sender(env, campaign_id, owner, stop=stop, on_stop_status=CampaignStatus.SCHEDULED).run())
        except QuotaExceeded as e:
            log.error("campaign %s not sent: %s", campaign_id, e)
        except ClaimLost as e:
            log.warning("%s", e)
    return reports


def worker_job(poll: float) -> Job:
    """The worker's campaign job: send every due campaign, each round `poll` seconds apart."""
    owner = new_owner()

    def run(deps: Deps, stop: threading.Event) -> None:
        worker_once(SendEnv.from_deps(deps), owner=owner, stop=stop)

    return Job("campaigns", poll, run)


def progress_of(session: Session, campaign_id: int) -> Progress:
    """One campaign's sent, failed and pending counts."""
    try:
        return store.progress_of(session, campaign_id)
    except store.NoSuchCampaign as e:
        raise CampaignError(str(e)) from None


def list_rows(session: Session) -> list[tuple[Campaign, int]]:
    """Campaigns, newest first, with how many recipients each has reached."""
    return store.list_rows(session)


def cancel(session: Session, campaign_id: int) -> bool:
    """Stop a draft, scheduled or interrupted campaign from being sent."""
    return store.cancel(session, campaign_id)
