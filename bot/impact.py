"""Pure arithmetic of pledges: weeks, streaks, impact to date, tree equivalents.

No database and no words here: numbers in, numbers out, so every figure a resident sees can be
checked by a test without a chat around it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.clock import BANGKOK, as_utc

WEEK = timedelta(days=7)
# How far back a check-in reminder's week (postback w=<Monday>) is still honoured; older
# reminders ask about the current week instead.
MAX_CHECKIN_WEEKS_BACK = 4


def current_week_start(now: datetime) -> date:
    """The Monday (Asia/Bangkok) of the week that contains now."""
    local = as_utc(now).astimezone(BANGKOK).date()
    return local - timedelta(days=local.weekday())


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """The week's first and last instant (Monday 00:00 to the next Monday, Bangkok time)."""
    start = datetime.combine(week_start, time(0), tzinfo=BANGKOK)
    return start, start + WEEK


def checkin_week(now: datetime, w: str | None) -> date:
    """The week a check-in button should record: w when it is a Monday no older than
    MAX_CHECKIN_WEEKS_BACK weeks and not in the future, else the current week."""
    this_week = current_week_start(now)
    try:
        week = date.fromisoformat((w or "").strip())
    except ValueError:
        return this_week
    if week.weekday() != 0 or week > this_week or week < this_week - MAX_CHECKIN_WEEKS_BACK * WEEK:
        return this_week
    return week


def streak(checkins: dict[date, bool], this_week: date) -> int:
    """Consecutive weeks marked done, back from this week (or last week if this one is unanswered)."""
    week = this_week if this_week in checkins else this_week - WEEK
    n = 0
    while checkins.get(week) is True:
        n += 1
        week -= WEEK
    return n


def impact_to_date(kg_year: float, started_at: datetime, until: datetime, checkins: dict[date, bool]) -> float:
    """Estimated kgCO2e saved so far: kg/yr × days active / 365, weeks marked 'not done' count zero."""
    start, end = as_utc(started_at), as_utc(until)
    if end <= start:
        return 0.0
    seconds = (end - start).total_seconds()
    for week, done in checkins.items():
        if done:
            continue
        ws, we = week_bounds(week)
        overlap = (min(we, end) - max(ws, start)).total_seconds()
        if overlap > 0:
            seconds -= overlap
    return max(0.0, kg_year * seconds / 86400 / 365)


# Bangkok time of day of the weekly reminder's two slots.
REMINDER_TIMES = {"morning": time(8, 0), "evening": time(18, 0)}


def reminder_time(week: date, day: int, slot: str) -> datetime:
    """When a week's reminder in this slot goes out (day 0 = Monday), as aware UTC."""
    local = datetime.combine(week + timedelta(days=day), REMINDER_TIMES[slot], tzinfo=BANGKOK)
    return as_utc(local)


def trees_range(kg: float, kg_per_tree_low: float, kg_per_tree_high: float) -> tuple[int, int]:
    """How many trees take up kg of CO2 in a year, given a tree's yearly uptake range."""
    return round(kg / kg_per_tree_high), round(kg / kg_per_tree_low)
