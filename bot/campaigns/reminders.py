"""The weekly check-in reminders residents control, sent through the campaigns' machinery.

Each (week, day, morning or evening) slot becomes one generated campaign whose audience is the
residents due in that slot (bot/store/campaigns.py reminder_conditions); the worker's reminder job
makes it when the slot's time comes, and the campaign job sends it like any other: batches with
retry keys, the rate limit, the quota check, resumable, blocked and opted-out residents left out.
Each resident's batch carries their own words (their pledges, this week's answers, their
streak); recording a batch marks its residents reminded for the week, so nobody gets two.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.campaigns.compose import checkin_messages
from bot.clock import UTC, as_utc
from bot.content.model import Contents
from bot.flows.reminders import reminder_messages
from bot.impact import current_week_start, reminder_time
from bot.jobs import Job
from bot.store.campaigns import REMINDER_SLOTS, count_audience, mark_reminded, reminder_audience
from bot.store.models import Campaign, CampaignStatus, User

if TYPE_CHECKING:
    from bot.campaigns.sender import Personalise
    from bot.deps import Deps

log = logging.getLogger(__name__)

# A slot whose time passed longer ago than this is not sent late (the worker was down, or a
# resident just moved their reminder to a day already gone): they get next week's.
CATCH_UP = timedelta(hours=12)


def slot_key(week: date, day: int, slot: str) -> str:
    return f"{week.isoformat()}:{day}:{slot}"


def make_due_reminders(session: Session, contents: Contents, now: datetime) -> list[int]:
    """Make the campaign of every slot whose time has come (within CATCH_UP) and whose audience is
    not empty; the ids of the campaigns made. Safe with several workers: one campaign per slot."""
    week = current_week_start(now)
    made = []
    for day in range(7):
        for slot in REMINDER_SLOTS:
            at = reminder_time(week, day, slot)
            if not at <= as_utc(now) < at + CATCH_UP:
                continue
            key = slot_key(week, day, slot)
            if session.scalar(select(Campaign.id).where(Campaign.reminder_slot == key)) is not None:
                continue
            audience = reminder_audience(week, day, slot)
            if count_audience(session, audience) == 0:
                continue
            content = contents.th
            campaign = Campaign(name=f"weekly reminders {key}", text=content.text("campaigns.checkin_text"),
                                messages=checkin_messages(content, None, now), audience=audience, checkin=True,
                                status=CampaignStatus.SCHEDULED, scheduled_at=at, reminder_slot=key,
                                cursor_user_id=0, created_at=now)
            try:
                with session.begin_nested():
                    session.add(campaign)
            except IntegrityError:
                continue  # another worker made this slot's campaign first
            made.append(campaign.id)
            log.info("reminder campaign %s made for slot %s", campaign.id, key)
    return made


def personaliser(contents: Contents, clock: Callable[[], datetime] | None = None) -> Personalise:
    """The sender's hook: each reminder recipient's own messages, recipients with the same words together."""
    def personalise(session: Session, audience: str, line_user_ids: list[str]
                    ) -> list[tuple[list[str], list[dict[str, Any]] | None]] | None:
        if not audience.startswith("reminders:"):
            return None
        week = date.fromisoformat(audience.split(":")[1])
        now = clock() if clock else datetime.now(UTC)
        groups: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        users = session.scalars(select(User).where(User.line_user_id.in_(line_user_ids)))
        for user in users:
            messages = reminder_messages(session, contents.of(user.lang), user, now, week)
            key = json.dumps(messages, sort_keys=True, ensure_ascii=False)
            groups.setdefault(key, ([], messages))[0].append(user.line_user_id)
        mark_reminded(session, line_user_ids, week)
        return [(ids, messages) for ids, messages in groups.values()]

    return personalise


def reminders_job(poll: float) -> Job:
    """The worker's reminder job: make each due slot's campaign (the campaign job then sends it)."""
    def run(deps: Deps, stop: threading.Event) -> None:
        with deps.db.session() as s:
            make_due_reminders(s, deps.contents, deps.clock())

    return Job("reminders", poll, run)
