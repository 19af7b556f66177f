"""Pledges, check-ins and the community counters: the database side, no words.

Writes lock the resident's row first (bot.store.users.lock_user), and the unique constraints
on pledges and check-ins make a double tap or a redelivery that slips past the checks fail and
be retried by the webhook, which then sees the first one's row.

Community totals come from pledge_counters, changed in the same transaction as the pledges,
so reading them costs a few hundred rows whatever the number of pledges (bench/stats.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.orm import Session

from bot.store.db import table_of
from bot.store.models import CheckIn, Pledge, PledgeCounter, PledgeStatus, User
from bot.store.users import delete_rows_of, lock_user, set_suppressed

# (households, pledges, quantified, quantity_sum) to add to each (scope, key) counter.
Delta = tuple[int, int, int, float]
Deltas = dict[tuple[str, str], Delta]
# An action id with the pledge's chosen quantity (None: the action's default).
Pledged = tuple[str, float | None]


def active_pledges(session: Session, user_id: int) -> list[Pledge]:
    """A resident's active pledges, oldest first."""
    return list(session.scalars(select(Pledge).where(Pledge.user_id == user_id, Pledge.status == PledgeStatus.ACTIVE)
                                .order_by(Pledge.started_at, Pledge.id)))


def all_pledges(session: Session, user_id: int) -> list[Pledge]:
    """Every pledge a resident made, active or withdrawn, oldest first."""
    return list(session.scalars(select(Pledge).where(Pledge.user_id == user_id).order_by(Pledge.started_at, Pledge.id)))


def own_pledge(session: Session, user: User, pledge_id: int | None) -> Pledge | None:
    """The pledge with this id when it is the resident's own, else None."""
    pledge = session.get(Pledge, pledge_id) if pledge_id is not None else None
    if pledge is None or pledge.user_id != user.id:
        return None
    return pledge


def checkins_of(session: Session, pledge_ids: Iterable[int]) -> dict[int, dict[date, bool]]:
    """Each pledge's answered weeks: {pledge id: {week start: done}}."""
    ids = list(pledge_ids)
    out: dict[int, dict[date, bool]] = defaultdict(dict)
    if ids:
        for pid, week, done in session.execute(
                select(CheckIn.pledge_id, CheckIn.week_start, CheckIn.done).where(CheckIn.pledge_id.in_(ids))):
            out[pid][week] = bool(done)
    return out


def count_checkins(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count(CheckIn.id)).join(Pledge, Pledge.id == CheckIn.pledge_id)
                          .where(Pledge.user_id == user_id)) or 0


def weeks_kept(session: Session, user_id: int) -> int:
    """How many weeks the resident answered "done" for at least one pledge."""
    return session.scalar(select(func.count(func.distinct(CheckIn.week_start)))
                          .join(Pledge, Pledge.id == CheckIn.pledge_id)
                          .where(Pledge.user_id == user_id, CheckIn.done.is_(True))) or 0


# --- counters ------------------------------------------------------------------------------------

def _upsert_counter(session: Session, scope: str, key: str, delta: Delta) -> None:
    table = table_of(PledgeCounter)
    households, pledges, quantified, quantity_sum = delta
    values = {"scope": scope, "key": key, "households": households, "pledges": pledges,
              "quantified": quantified, "quantity_sum": quantity_sum}
    add = {"households": table.c.households + households, "pledges": table.c.pledges + pledges,
           "quantified": table.c.quantified + quantified, "quantity_sum": table.c.quantity_sum + quantity_sum}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(values).on_conflict_do_update(index_elements=["scope", "key"], set_=add))
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        session.execute(lite_insert(table).values(values).on_conflict_do_update(index_elements=["scope", "key"], set_=add))


def bump_counters(session: Session, deltas: Deltas) -> None:
    """Add the deltas to each counter, in key order so concurrent writers never deadlock."""
    for (scope, key), delta in sorted(deltas.items()):
        if any(delta):
            _upsert_counter(session, scope, key, delta)


def _add(out: Deltas, key: tuple[str, str], delta: Delta) -> None:
    h0, p0, q0, s0 = out.get(key, (0, 0, 0, 0.0))
    out[key] = (h0 + delta[0], p0 + delta[1], q0 + delta[2], s0 + delta[3])


def counter_deltas(district: str | None, pledged: list[Pledged], sign: int, household_changes: bool) -> Deltas:
    """What adding (sign +1) or removing (-1) these pledges of one household changes in the counters."""
    d = district or ""
    h = sign if household_changes else 0
    out: Deltas = {("all", ""): (h, sign * len(pledged), 0, 0.0), ("district", d): (h, sign * len(pledged), 0, 0.0)}
    for a, q in pledged:
        delta: Delta = (sign, sign, sign if q is not None else 0, sign * q if q is not None else 0.0)
        _add(out, ("action", a), delta)
        _add(out, ("district_action", f"{d}:{a}"), delta)
    return out


def merge_deltas(*parts: Deltas) -> Deltas:
    out: Deltas = {}
    for part in parts:
        for k, v in part.items():
            _add(out, k, v)
    return out


def recount(session: Session) -> None:
    """Rebuild pledge_counters from the pledges (after a bulk load, or to repair drift)."""
    session.execute(delete(PledgeCounter))
    rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    district = func.coalesce(User.district_code, literal_column("''"))
    q = (select(district, Pledge.action_id, func.count(Pledge.id), func.count(Pledge.quantity),
                func.coalesce(func.sum(Pledge.quantity), 0.0))
         .join(User, User.id == Pledge.user_id).where(Pledge.status == PledgeStatus.ACTIVE)
         .group_by(district, Pledge.action_id))
    for d, a, n, nq, sq in session.execute(q):
        for k in (("all", ""), ("district", d)):
            rows[k][1] += n
        for k in (("action", a), ("district_action", f"{d}:{a}")):
            rows[k][0] += n
            rows[k][1] += n
            rows[k][2] += nq
            rows[k][3] += float(sq or 0.0)
    hq = (select(district, func.count(func.distinct(Pledge.user_id)))
          .join(User, User.id == Pledge.user_id).where(Pledge.status == PledgeStatus.ACTIVE)
          .group_by(district))
    for d, n in session.execute(hq):
        rows[("district", d)][0] += n
        rows[("all", "")][0] += n
    if rows:
        session.execute(table_of(PledgeCounter).insert(), [
            {"scope": s, "key": k, "households": int(h), "pledges": int(p), "quantified": int(nq), "quantity_sum": sq}
            for (s, k), (h, p, nq, sq) in rows.items()])


@dataclass(frozen=True)
class CounterRow:
    scope: str
    key: str
    households: int
    pledges: int
    quantified: int       # of the pledges, those with a chosen quantity
    quantity_sum: float   # the sum of those quantities


def counter_rows(session: Session) -> list[CounterRow]:
    """Every counter."""
    return [CounterRow(r.scope, r.key, r.households, r.pledges, r.quantified or 0, float(r.quantity_sum or 0.0))
            for r in session.execute(select(PledgeCounter.scope, PledgeCounter.key, PledgeCounter.households,
                                            PledgeCounter.pledges, PledgeCounter.quantified, PledgeCounter.quantity_sum))]


# --- changes ---------------------------------------------------------------------------------------

def add_pledge(session: Session, user: User, action_id: str, now: datetime,
               quantity: float | None = None) -> tuple[Pledge, bool]:
    """The resident's active pledge for action_id and whether this call created it."""
    lock_user(session, user)
    existing = active_pledges(session, user.id)
    for p in existing:
        if p.action_id == action_id:
            return p, False
    pledge = Pledge(user_id=user.id, action_id=action_id, status=PledgeStatus.ACTIVE, started_at=now, quantity=quantity)
    session.add(pledge)
    session.flush()  # the partial unique index refuses a second active pledge here
    bump_counters(session, counter_deltas(user.district_code, [(action_id, quantity)], +1,
                                          household_changes=not existing))
    return pledge, True


def set_quantity(session: Session, user: User, pledge: Pledge, quantity: float | None) -> bool:
    """Change an active pledge's quantity (None: the default), counters moved; False when unchanged."""
    lock_user(session, user)
    if pledge.quantity == quantity or pledge.status != PledgeStatus.ACTIVE:
        return False
    bump_counters(session, merge_deltas(
        counter_deltas(user.district_code, [(pledge.action_id, pledge.quantity)], -1, household_changes=False),
        counter_deltas(user.district_code, [(pledge.action_id, quantity)], +1, household_changes=False)))
    pledge.quantity = quantity
    session.flush()
    return True


def end_pledge(session: Session, user: User, pledge: Pledge, now: datetime) -> None:
    """Withdraw a pledge (its check-ins stay with it until the resident deletes their data)."""
    pledge.status, pledge.ended_at = PledgeStatus.CANCELLED, now
    session.flush()
    left = session.scalar(select(func.count(Pledge.id)).where(Pledge.user_id == user.id,
                                                               Pledge.status == PledgeStatus.ACTIVE))
    bump_counters(session, counter_deltas(user.district_code, [(pledge.action_id, pledge.quantity)], -1,
                                          household_changes=left == 0))


def set_user_district(session: Session, user: User, code: str, now: datetime) -> bool:
    """Store the household's district and move its pledges' counts there; False when it was already so."""
    lock_user(session, user)
    old = user.district_code
    if old == code:
        return False
    pledged = [(p.action_id, p.quantity) for p in active_pledges(session, user.id)]
    if pledged:
        bump_counters(session, merge_deltas(counter_deltas(old, pledged, -1, household_changes=True),
                                            counter_deltas(code, pledged, +1, household_changes=True)))
    user.district_code = code
    user.updated_at = now
    return True


def delete_user_data(session: Session, user: User, now: datetime) -> bool:
    """Delete the users row and everything linked to it (check-ins, pledges), counters adjusted.

    A resident who had stopped news stays stopped: only a salted hash of their LINE user id is
    kept, on the suppression list. True when it was kept."""
    lock_user(session, user)
    set_suppressed(session, user.line_user_id, user.opted_out, now)
    pledged = [(p.action_id, p.quantity) for p in active_pledges(session, user.id)]
    if pledged:
        bump_counters(session, counter_deltas(user.district_code, pledged, -1, household_changes=True))
    delete_rows_of(session, user)
    return user.opted_out


class CheckinChange(StrEnum):
    """What recording a week's answer did."""

    SAVED = "saved"          # a new answer
    UPDATED = "updated"      # the week's answer changed
    ALREADY = "already"      # the same answer again


@dataclass(frozen=True)
class CheckinResult:
    change: CheckinChange
    weeks: dict[date, bool]  # the pledge's answered weeks afterwards


def record_checkin(session: Session, pledge: Pledge, week: date, done: bool, now: datetime) -> CheckinResult:
    """Record whether a pledge was kept in a week: one row per pledge and week, a repeat never duplicates."""
    row = session.scalar(select(CheckIn).where(CheckIn.pledge_id == pledge.id, CheckIn.week_start == week))
    if row is not None and row.done == done:
        change = CheckinChange.ALREADY
    elif row is not None:
        row.done = done
        change = CheckinChange.UPDATED
    else:
        session.add(CheckIn(pledge_id=pledge.id, week_start=week, done=done, created_at=now))
        change = CheckinChange.SAVED
    session.flush()
    return CheckinResult(change, checkins_of(session, [pledge.id])[pledge.id])
