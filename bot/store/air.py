"""Air quality in the database: the latest reading of each station, haze-alert subscriptions, and
who is put into a district's alert; no words."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.store.models import AirReading, AirSubscription, User


def store_readings(session: Session, readings: Iterable[tuple[str, dict[str, object]]]) -> tuple[int, int]:
    """Upsert (station id, column values) rows, never replacing a reading with an older one.

    Returns (stored, older): rows written, and readings skipped because the stored one is newer."""
    rows = dict(readings)
    if not rows:
        return 0, 0
    existing = {r.station_id: r for r in session.scalars(select(AirReading).where(AirReading.station_id.in_(rows)))}
    stored = older = 0
    for sid, values in rows.items():
        row = existing.get(sid)
        measured = values["measured_at"]
        assert isinstance(measured, datetime)
        if row is not None and as_utc(row.measured_at) > measured:
            older += 1
            continue
        if row is None:
            session.add(AirReading(station_id=sid, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)
        stored += 1
    session.flush()
    return stored, older


def all_readings(session: Session) -> list[AirReading]:
    """Every station's latest reading (a few dozen rows at most)."""
    return list(session.scalars(select(AirReading).order_by(AirReading.station_id)))


# --- subscriptions ---------------------------------------------------------------------------------

def is_subscribed(session: Session, user_id: int | None) -> bool:
    return user_id is not None and session.get(AirSubscription, user_id) is not None


def subscribe(session: Session, user: User, now: datetime) -> bool:
    """Subscribe the resident; False when they already were."""
    session.flush()  # a resident created in this turn needs their id
    if session.get(AirSubscription, user.id) is not None:
        return False
    session.add(AirSubscription(user_id=user.id, created_at=now))
    session.flush()
    return True


def unsubscribe(session: Session, user: User) -> bool:
    """Stop haze alerts for the resident; False when they were not subscribed."""
    session.flush()
    result = session.execute(delete(AirSubscription).where(AirSubscription.user_id == user.id),
                             execution_options={"synchronize_session": False})
    return bool(getattr(result, "rowcount", 0))


def reachable() -> list[ColumnElement[bool]]:
    """Subscribers a message can reach: still friends, not blocking the bot. News opt-out does not
    matter: haze alerts were asked for separately and have their own stop word."""
    return [User.followed.is_(True), User.blocked.is_(False)]


def subscribers_by_district(session: Session) -> dict[str, int]:
    """Reachable subscribers per district code (those without a district cannot be alerted)."""
    q = (select(User.district_code, func.count()).join(AirSubscription, AirSubscription.user_id == User.id)
         .where(User.district_code.is_not(None), *reachable()).group_by(User.district_code))
    return {str(code): int(n) for code, n in session.execute(q)}


def not_alerted_on(day: date) -> ColumnElement[bool]:
    return or_(AirSubscription.last_alert_on.is_(None), AirSubscription.last_alert_on < day)


def count_not_alerted(session: Session, district_code: str, day: date) -> int:
    """Reachable subscribers of the district who have had no alert on `day`."""
    q = (select(func.count()).select_from(AirSubscription).join(User, User.id == AirSubscription.user_id)
         .where(User.district_code == district_code, not_alerted_on(day), *reachable()))
    return int(session.scalar(q) or 0)


def put_into_alert(session: Session, alert_id: int, district_code: str, day: date) -> int:
    """Mark the district's reachable subscribers not yet alerted on `day` as members of this alert
    (its campaigns' audience); at most one alert per resident and day. Returns how many."""
    members = select(User.id).where(User.district_code == district_code, *reachable())
    result = session.execute(
        update(AirSubscription)
        .where(AirSubscription.user_id.in_(members), not_alerted_on(day))
        .values(last_alert_id=alert_id, last_alert_on=day)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))


def lang_condition(lang: str) -> ColumnElement[bool]:
    """Residents who read `lang` ("en": those who last wrote in English; "th": everyone else)."""
    return User.lang == "en" if lang == "en" else or_(User.lang.is_(None), User.lang != "en")


def alert_conditions(alert_id: int, lang: str) -> list[ColumnElement[bool]]:
    """Who receives an alert campaign, decided at send time: members of the alert who are still
    subscribed and reachable, and read its language."""
    member = select(AirSubscription.user_id).where(
        and_(AirSubscription.user_id == User.id, AirSubscription.last_alert_id == alert_id)).exists()
    return [*reachable(), member, lang_condition(lang)]


def members_by_lang(session: Session, alert_id: int) -> dict[str, int]:
    """How many members of an alert read each language."""
    out = {}
    for lang in ("th", "en"):
        q = select(func.count()).select_from(User).where(*alert_conditions(alert_id, lang))
        out[lang] = int(session.scalar(q) or 0)
    return out
