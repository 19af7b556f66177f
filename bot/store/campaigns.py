"""Campaigns in the database: who is in an audience, claims on a campaign, progress; no words."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, not_, or_, select, update
from sqlalchemy.orm import Session

from bot.store.air import alert_conditions
from bot.store.db import rowcount
from bot.store.models import BatchStatus, Campaign, CampaignBatch, CampaignStatus, Pledge, PledgeStatus, User

# Statuses from which `campaign send` may (re)start a campaign.
SENDABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.INTERRUPTED)


class UnknownAudience(ValueError):
    """A stored audience this version does not understand."""


class NoSuchCampaign(LookupError):
    pass


def audience_conditions(audience: str) -> list[ColumnElement[bool]]:
    """Who receives a campaign with this audience, decided at send time."""
    kind, _, arg = audience.partition(":")
    if kind == "air":  # a haze alert ("air:<alert id>:<lang>"): its subscribers, whatever their news opt-out
        alert_id, _, lang = arg.partition(":")
        if not alert_id.isdigit():
            raise UnknownAudience(f"stored audience {audience!r} is not understood")
        return alert_conditions(int(alert_id), lang or "th")
    conds: list[ColumnElement[bool]] = [User.followed.is_(True), User.blocked.is_(False), User.opted_out.is_(False)]
    active = and_(Pledge.user_id == User.id, Pledge.status == PledgeStatus.ACTIVE)
    if kind == "district":
        conds.append(User.district_code == arg)
    elif kind == "pledged":
        conds.append(exists().where(active))
    elif kind == "not_pledged":
        conds.append(not_(exists().where(active)))
    elif kind == "action":
        conds.append(exists().where(active, Pledge.action_id == arg))
    elif kind == "reminders":
        conds.extend(reminder_conditions(arg))
        conds.append(exists().where(active))
    elif kind != "all":
        raise UnknownAudience(f"stored audience {audience!r} is not understood")
    return conds


# When a resident has not chosen: Sunday evening.
DEFAULT_REMINDER_DAY = 6
DEFAULT_REMINDER_SLOT = "evening"
REMINDER_SLOTS = ("morning", "evening")


def reminder_audience(week: date, day: int, slot: str) -> str:
    """The audience of one weekly reminder slot: "reminders:<week Monday>:<day 0-6>:<slot>"."""
    return f"reminders:{week.isoformat()}:{day}:{slot}"


def reminder_conditions(arg: str) -> list[ColumnElement[bool]]:
    """Residents whose reminder is due in this slot: reminders on, this day and time of day (or the
    default), the week not snoozed, and not yet reminded this week."""
    try:
        week_s, day_s, slot = arg.split(":")
        week, day = date.fromisoformat(week_s), int(day_s)
    except ValueError:
        raise UnknownAudience(f"stored reminder audience {arg!r} is not understood") from None
    if slot not in REMINDER_SLOTS or not 0 <= day <= 6:
        raise UnknownAudience(f"stored reminder audience {arg!r} is not understood")
    return [
        User.reminders_off.is_(False),
        func.coalesce(User.reminder_day, DEFAULT_REMINDER_DAY) == day,
        func.coalesce(User.reminder_slot, DEFAULT_REMINDER_SLOT) == slot,
        or_(User.reminder_snoozed_week.is_(None), User.reminder_snoozed_week != week),
        or_(User.reminded_week.is_(None), User.reminded_week < week),
    ]


def mark_reminded(session: Session, line_user_ids: list[str], week: date) -> None:
    """These residents got (are getting) this week's reminder: none other this week."""
    if line_user_ids:
        session.execute(update(User).where(User.line_user_id.in_(line_user_ids)).values(reminded_week=week)
                        .execution_options(synchronize_session=False))


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

        ordered: Any = aggregate_order_by(literal_column("','"), inner.c.id)
        joined, last = conn.execute(select(func.string_agg(inner.c.line_user_id, ordered),
                                           func.max(inner.c.id))).one()
        return (joined.split(",") if joined else []), last
    rows = conn.execute(select(inner.c.id, inner.c.line_user_id).order_by(inner.c.id)).all()
    return [r[1] for r in rows], (rows[-1][0] if rows else None)


def claim(session: Session, campaign_id: int, owner: str, now: datetime, *, statuses: Iterable[str],
          stale_after: float, due_only: bool = False, take_from: str | None = None) -> bool:
    """Atomically make owner the only sender of the campaign; False when someone else holds it.

    One UPDATE whose WHERE says "still claimable": of two racing senders only one sees rowcount 1.
    """
    claimable: list[ColumnElement[bool]] = [Campaign.status.in_(list(statuses))]
    if due_only:
        claimable = [and_(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now)]
    stale = and_(Campaign.status == CampaignStatus.SENDING, Campaign.claimed_at < now - timedelta(seconds=stale_after))
    takeover = [stale]
    if take_from is not None:
        takeover.append(and_(Campaign.status == CampaignStatus.SENDING, Campaign.claimed_by == take_from))
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, or_(*claimable, *takeover))
        .values(status=CampaignStatus.SENDING, claimed_by=owner, claimed_at=now,
                started_at=func.coalesce(Campaign.started_at, now))
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


def release(session: Session, campaign_id: int, owner: str, **values: Any) -> bool:
    result = session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.claimed_by == owner)
        .values(claimed_by=None, **values).execution_options(synchronize_session=False))
    return rowcount(result) == 1


def due_campaign_ids(session: Session, now: datetime, stale_after: float) -> list[int]:
    q = select(Campaign.id).where(or_(
        and_(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now),
        and_(Campaign.status == CampaignStatus.SENDING, Campaign.claimed_at < now - timedelta(seconds=stale_after)),
    )).order_by(Campaign.scheduled_at, Campaign.id)
    return list(session.scalars(q))




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
            return 100.0 if self.campaign.status == CampaignStatus.DONE else 0.0
        return 100.0 * (self.sent + self.failed) / self.total


def progress_of(session: Session, campaign_id: int) -> Progress:
    c = session.get(Campaign, campaign_id)
    if c is None:
        raise NoSuchCampaign(f"no campaign {campaign_id}")
    sums = dict(session.execute(select(CampaignBatch.status, func.coalesce(func.sum(CampaignBatch.size), 0))
                                .where(CampaignBatch.campaign_id == campaign_id)
                                .group_by(CampaignBatch.status)).all())
    failures = [f"batch {seq} ({size} recipients): {err}" for seq, size, err in session.execute(
        select(CampaignBatch.seq, CampaignBatch.size, CampaignBatch.last_error)
        .where(CampaignBatch.campaign_id == campaign_id, CampaignBatch.status == BatchStatus.FAILED)
        .order_by(CampaignBatch.seq).limit(20))]
    pending = int(sums.get("pending", 0))
    if c.status not in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
        pending += count_audience(session, c.audience, c.cursor_user_id)
    return Progress(c, int(sums.get("sent", 0)), int(sums.get("failed", 0)), pending, failures)


def list_rows(session: Session) -> list[tuple[Campaign, int]]:
    sent = (select(CampaignBatch.campaign_id, func.sum(CampaignBatch.size).label("sent"))
            .where(CampaignBatch.status == BatchStatus.SENT).group_by(CampaignBatch.campaign_id).subquery())
    q = (select(Campaign, func.coalesce(sent.c.sent, 0)).outerjoin(sent, sent.c.campaign_id == Campaign.id)
         .order_by(Campaign.id.desc()))
    return [(c, int(n)) for c, n in session.execute(q)]


def cancel(session: Session, campaign_id: int) -> bool:
    r = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(SENDABLE))
                        .values(status=CampaignStatus.CANCELLED).execution_options(synchronize_session=False))
    return rowcount(r) == 1
