"""Aggregates for the office's console: counts only, never a resident's id, name or words
(unmatched texts are kept without any user id). No words here; Bangkok dates for weeks."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.store.models import CheckIn, Pledge, UnmatchedReview, UnmatchedText, User


@dataclass(frozen=True)
class Followers:
    followers: int   # follow the account and have not blocked it
    blocked: int
    opted_out: int   # followers who stopped the campaign's broadcasts

    @property
    def reachable(self) -> int:
        return self.followers - self.opted_out


def followers(session: Session) -> Followers:
    following = (User.followed.is_(True)) & (User.blocked.is_(False))
    row = session.execute(select(
        func.count().filter(following),
        func.count().filter(User.blocked.is_(True)),
        func.count().filter(following & User.opted_out.is_(True)),
    ).select_from(User)).one()
    return Followers(int(row[0]), int(row[1]), int(row[2]))


def _bangkok_date(session: Session, column: Any) -> ColumnElement[Any]:
    """The Asia/Bangkok calendar date of a stored UTC time (Thailand keeps UTC+7 all year)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Bangkok", column))
    return func.date(column, "+7 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def pledges_by_week(session: Session) -> dict[date, tuple[int, int]]:
    """{Monday: (pledges made that week, households that made their first pledge that week)},
    pledges later withdrawn included."""
    day = _bangkok_date(session, Pledge.started_at)
    made: Counter[date] = Counter()
    for d, n in session.execute(select(day, func.count()).group_by(day)):
        made[monday(_as_date(d))] += int(n)
    first = select(Pledge.user_id, func.min(Pledge.started_at).label("first")).group_by(Pledge.user_id).subquery()
    first_day = _bangkok_date(session, first.c.first)
    households: Counter[date] = Counter()
    for d, n in session.execute(select(first_day, func.count()).group_by(first_day)):
        households[monday(_as_date(d))] += int(n)
    return {w: (made[w], households[w]) for w in sorted(set(made) | set(households))}


def done_checkins_by_weeks_since_pledge(session: Session) -> dict[int, int]:
    """{k: check-ins marked done in the k-th week after the pledge's week (0: the pledge's own week)}."""
    day = _bangkok_date(session, Pledge.started_at)
    out: Counter[int] = Counter()
    q = (select(day, CheckIn.week_start, func.count()).join(Pledge, Pledge.id == CheckIn.pledge_id)
         .where(CheckIn.done.is_(True)).group_by(day, CheckIn.week_start))
    for d, week, n in session.execute(q):
        k = (_as_date(week) - monday(_as_date(d))).days // 7
        if k >= 0:
            out[k] += int(n)
    return dict(out)


@dataclass(frozen=True)
class UnmatchedGroup:
    text: str          # the most frequent spelling
    key: str           # the normalised form the group is counted under
    count: int
    guess: str | None  # the matcher's most frequent first guess
    last_at: datetime


def unmatched_texts(session: Session, normalize: Any, since: datetime | None = None) -> list[UnmatchedGroup]:
    """Unmatched texts grouped by their normalised form, most frequent first."""
    q = select(UnmatchedText.text, UnmatchedText.intent, func.count(), func.max(UnmatchedText.created_at)).group_by(
        UnmatchedText.text, UnmatchedText.intent)
    if since is not None:
        q = q.where(UnmatchedText.created_at >= since)
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    guesses: dict[str, Counter[str]] = {}
    last: dict[str, datetime] = {}
    for text, intent, n, at in session.execute(q):
        text = text or ""
        key = (normalize(text) or text)[:500]
        counts[key] += int(n)
        spellings.setdefault(key, Counter())[text] += int(n)
        guesses.setdefault(key, Counter())[intent or ""] += int(n)
        if key not in last or at > last[key]:
            last[key] = at
    return [UnmatchedGroup(spellings[k].most_common(1)[0][0], k, n, guesses[k].most_common(1)[0][0] or None, last[k])
            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def reviews(session: Session) -> dict[str, UnmatchedReview]:
    return {r.key: r for r in session.scalars(select(UnmatchedReview))}


def add_review(session: Session, key: str, intent: str | None, account_id: int | None, now: datetime) -> bool:
    """Mark a text reviewed (with intent: sent to the editors as a phrase); False when it already was."""
    row = session.scalar(select(UnmatchedReview).where(UnmatchedReview.key == key[:500]))
    if row is not None:
        if intent and not row.intent:
            row.intent, row.account_id, row.reviewed_at = intent, account_id, now
            return True
        return False
    session.add(UnmatchedReview(key=key[:500], intent=intent, account_id=account_id, reviewed_at=now))
    session.flush()
    return True
