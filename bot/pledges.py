"""Household pledges: commit, check in, see one's impact and the community's; district; privacy.

Every button carries what it needs (postback data), so a stale or repeated tap is answered
from the database, never from a remembered state. Writes lock the resident's row first
(SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers),
and the unique constraints on pledges and check-ins make a double tap or a redelivery that
slips past the checks fail and be retried by the webhook, which then sees the first one's row.

Community totals come from pledge_counters, changed in the same transaction as the pledges,
so community_stats reads a few hundred rows whatever the number of pledges (bench/stats.py).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.orm import Session

from bot import messages as msg
from bot.dialogue import Ctx, Turn, clear_state, is_no, is_yes, plain
from bot.registry import on_intent, on_postback, on_state
from bot.store.models import User
from bot.store.pledge_models import CheckIn, Pledge, PledgeCounter


BANGKOK = ZoneInfo("Asia/Bangkok")
ACTIVE, CANCELLED = "active", "cancelled"
WEEK = timedelta(days=7)
# Only districts with at least this many participating households are ranked, so that
# nobody in a small district can be singled out.
MIN_HOUSEHOLDS_SHOWN = 5
MAX_QUICK = 13
MAX_LABEL = 20
MAX_BUBBLES = 12

# Flow states (ctx.user.state).
S_DISTRICT = "pledge.await_district"
S_CHOOSE = "pledge.choose"
S_CONFIRM = "pledge.confirm"
S_WITHDRAW = "pledge.withdraw"
S_PRIVACY = "privacy.confirm_delete"


# --- time ------------------------------------------------------------------------------

def current_week_start(now: datetime) -> date:
    """The Monday (Asia/Bangkok) of the week that contains now."""
    local = now.astimezone(BANGKOK).date()
    return local - timedelta(days=local.weekday())


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time(0), tzinfo=BANGKOK)
    return start, start + WEEK


def _aware(dt: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=ZoneInfo("UTC"))


# --- arithmetic --------------------------------------------------------------------------

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
    start, end = _aware(started_at), _aware(until)
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


def trees_range(content: Any, kg: float) -> tuple[int, int]:
    """How many trees take up kg of CO2 in a year, from the facts' 9-15 kg per tree per year."""
    low = float(content.text("pledges.tree_kg_low"))
    high = float(content.text("pledges.tree_kg_high"))
    return round(kg / high), round(kg / low)


# --- formatting -----------------------------------------------------------------------------

def fmt_kg(kg: float) -> str:
    if kg == 0:
        return "0"
    return f"{kg:,.1f}" if kg < 10 else f"{kg:,.0f}"


def fmt_t(t: float) -> str:
    if t == 0:
        return "0"
    if t < 1:
        return f"{t:,.2f}"
    return f"{t:,.1f}"


def fmt_date(content: Any, d: date | datetime) -> str:
    """A Thai date: day, short month, Buddhist-era year."""
    if isinstance(d, datetime):
        d = _aware(d).astimezone(BANGKOK).date()
    months = content.text("pledges.months").split("|")
    return f"{d.day} {months[d.month - 1]} {d.year + 543}"


def shorten(s: str, limit: int = MAX_LABEL) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def t(ctx_or_content: Any, key: str, **fmt: Any) -> str:
    content = getattr(ctx_or_content, "content", ctx_or_content)
    return content.text(f"pledges.{key}", **fmt)


# --- content look-ups -------------------------------------------------------------------------

def action_of(content: Any, action_id: str | None) -> Any | None:
    if not action_id:
        return None
    return content.actions.get(action_id)


def kg_of(action: Any) -> float | None:
    kg = getattr(action, "kg_co2e_year", None)
    return float(kg) if kg is not None else None


def money_of(action: Any) -> float | None:
    """Baht saved a year, only when the content carries a defensible figure."""
    for name in ("baht_year", "money_baht_year", "saving_baht_year"):
        v = getattr(action, name, None)
        if v is not None:
            return float(v)
    return None


def sectors_in_use(content: Any) -> list[tuple[str, str]]:
    """(sector id, its name) for the sectors that have actions, in catalogue order."""
    names = content.sectors if isinstance(content.sectors, dict) else {}
    seen: list[str] = []
    for a in content.actions.values():
        if a.sector not in seen:
            seen.append(a.sector)
    out = []
    for s in seen:
        name = names.get(s, s)
        if not isinstance(name, str):
            name = getattr(name, "label", None) or getattr(name, "name", None) or str(name)
        out.append((s, name))
    return out


def sector_label(name: str, short: str | None = None) -> str:
    """A sector's name as a button label: when too long for LINE, its short name from content
    (pledges.sector_short), else the name without its parenthesis."""
    if len(name) > MAX_LABEL:
        name = short or name.split("(")[0].strip() or name
    return shorten(name)


def sector_short(content: Any, sid: str) -> str | None:
    """The sector's short name from "pledges.sector_short" ("lulucf=ป่าไม้และที่ดิน|…")."""
    for pair in t(content, "sector_short").split("|"):
        key, _, label = pair.partition("=")
        if key.strip() == sid and label.strip():
            return label.strip()
    return None


def districts(content: Any) -> list[Any]:
    return list(content.districts)


def district_by_code(content: Any, code: str | None) -> Any | None:
    if not code:
        return None
    return next((d for d in districts(content) if d.code == code), None)


def district_by_name(content: Any, name: str | None) -> Any | None:
    if not name:
        return None
    lookup = getattr(content, "district_by_name", None)
    found = None
    if callable(lookup):
        try:
            found = lookup(name)
        except KeyError:
            found = None
    elif isinstance(lookup, dict):
        found = lookup.get(name)
    if found is None:
        found = next((d for d in districts(content) if d.name == name.strip()), None)
    return found


def title_of(content: Any, action_id: str) -> str:
    a = action_of(content, action_id)
    return a.title if a is not None else action_id


def district_name(content: Any, code: str | None) -> str:
    d = district_by_code(content, code)
    return d.name if d else t(content, "district_unknown")


# --- the store -------------------------------------------------------------------------------

def lock_user(ctx: Ctx) -> None:
    """Serialise this resident's writes: two workers with two taps of one user queue up here."""
    session = ctx.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User).where(User.id == ctx.user.id).with_for_update()
                        .execution_options(populate_existing=True))


def active_pledges(session: Session, user_id: int) -> list[Pledge]:
    """A resident's active pledges, oldest first."""
    return list(session.scalars(select(Pledge).where(Pledge.user_id == user_id, Pledge.status == ACTIVE)
                                .order_by(Pledge.started_at, Pledge.id)))


def checkins_of(session: Session, pledge_ids: Iterable[int]) -> dict[int, dict[date, bool]]:
    ids = list(pledge_ids)
    out: dict[int, dict[date, bool]] = defaultdict(dict)
    if ids:
        for pid, week, done in session.execute(
                select(CheckIn.pledge_id, CheckIn.week_start, CheckIn.done).where(CheckIn.pledge_id.in_(ids))):
            out[pid][week] = bool(done)
    return out


def _upsert_counter(session: Session, scope: str, key: str, households: int, pledges: int) -> None:
    table = PledgeCounter.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(scope=scope, key=key, households=households, pledges=pledges)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "key"], set_={
        "households": table.c.households + households, "pledges": table.c.pledges + pledges})
    session.execute(stmt)


def bump_counters(session: Session, deltas: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Add (households, pledges) to each counter, in key order so concurrent writers never deadlock."""
    for (scope, key), (dh, dp) in sorted(deltas.items()):
        if dh or dp:
            _upsert_counter(session, scope, key, dh, dp)


def _deltas(district: str | None, actions: list[str], sign: int, household_changes: bool
            ) -> dict[tuple[str, str], tuple[int, int]]:
    d = district or ""
    h = sign if household_changes else 0
    out: dict[tuple[str, str], tuple[int, int]] = {
        ("all", ""): (h, sign * len(actions)),
        ("district", d): (h, sign * len(actions)),
    }
    for a in actions:
        out[("action", a)] = (sign, sign)
        out[("district_action", f"{d}:{a}")] = (sign, sign)
    return out


def recount(session: Session) -> None:
    """Rebuild pledge_counters from the pledges (after a bulk load, or to repair drift)."""
    session.execute(delete(PledgeCounter))
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    q = (select(func.coalesce(User.district_code, literal_column("''")), Pledge.action_id,
                func.count(Pledge.id))
         .join(User, User.id == Pledge.user_id).where(Pledge.status == ACTIVE)
         .group_by(func.coalesce(User.district_code, literal_column("''")), Pledge.action_id))
    for d, a, n in session.execute(q):
        for k in (("all", ""), ("district", d)):
            rows[k][1] += n
        for k in (("action", a), ("district_action", f"{d}:{a}")):
            rows[k][0] += n
            rows[k][1] += n
    hq = (select(func.coalesce(User.district_code, literal_column("''")), func.count(func.distinct(Pledge.user_id)))
          .join(User, User.id == Pledge.user_id).where(Pledge.status == ACTIVE)
          .group_by(func.coalesce(User.district_code, literal_column("''"))))
    for d, n in session.execute(hq):
        rows[("district", d)][0] += n
        rows[("all", "")][0] += n
    if rows:
        session.execute(PledgeCounter.__table__.insert(), [
            {"scope": s, "key": k, "households": h, "pledges": p} for (s, k), (h, p) in rows.items()])


def add_pledge(ctx: Ctx, action_id: str) -> tuple[Pledge, bool]:
    """The resident's active pledge for action_id and whether this call created it."""
    session, user = ctx.session, ctx.user
    lock_user(ctx)
    existing = active_pledges(session, user.id)
    for p in existing:
        if p.action_id == action_id:
            return p, False
    pledge = Pledge(user_id=user.id, action_id=action_id, status=ACTIVE, started_at=ctx.now)
    session.add(pledge)
    session.flush()  # the partial unique index refuses a second active pledge here
    bump_counters(session, _deltas(user.district_code, [action_id], +1, household_changes=not existing))
    return pledge, True


def end_pledge(ctx: Ctx, pledge: Pledge) -> None:
    session, user = ctx.session, ctx.user
    pledge.status, pledge.ended_at = CANCELLED, ctx.now
    session.flush()
    left = session.scalar(select(func.count(Pledge.id)).where(Pledge.user_id == user.id, Pledge.status == ACTIVE))
    bump_counters(session, _deltas(user.district_code, [pledge.action_id], -1, household_changes=left == 0))


def set_user_district(ctx: Ctx, code: str) -> None:
    """Store the household's district and move its pledges' counts there."""
    user = ctx.user
    lock_user(ctx)
    old = user.district_code
    if old == code:
        return
    actions = [p.action_id for p in active_pledges(ctx.session, user.id)]
    if actions:
        moves = _deltas(old, actions, -1, household_changes=True)
        for k, v in _deltas(code, actions, +1, household_changes=True).items():
            h0, p0 = moves.get(k, (0, 0))
            moves[k] = (h0 + v[0], p0 + v[1])
        bump_counters(ctx.session, moves)
    user.district_code = code
    user.updated_at = ctx.now


def delete_user_data(ctx: Ctx) -> None:
    """Delete the users row and everything linked to it (check-ins, pledges), counters adjusted."""
    session, user = ctx.session, ctx.user
    lock_user(ctx)
    actions = [p.action_id for p in active_pledges(session, user.id)]
    if actions:
        bump_counters(session, _deltas(user.district_code, actions, -1, household_changes=True))
    # Explicit deletes, not only ON DELETE CASCADE: correct whatever the database's settings.
    pledge_ids = select(Pledge.id).where(Pledge.user_id == user.id).scalar_subquery()
    session.execute(delete(CheckIn).where(CheckIn.pledge_id.in_(pledge_ids)), execution_options={"synchronize_session": False})
    session.execute(delete(Pledge).where(Pledge.user_id == user.id), execution_options={"synchronize_session": False})
    for obj in [o for o in session.identity_map.values() if isinstance(o, (Pledge, CheckIn))]:
        session.expunge(obj)
    session.delete(user)
    session.flush()


# --- message pieces --------------------------------------------------------------------------

def stop_quick(ctx: Ctx) -> dict:
    """The ยกเลิก quick reply every step of a flow offers."""
    return msg.qr_postback(t(ctx, "label.stop"), msg.postback_data("pledge.stop"), t(ctx, "label.stop"))


def next_quick(ctx: Ctx, *keys: str) -> list[dict]:
    """Quick replies to where a resident usually goes next."""
    items = []
    for k in keys:
        items.append(msg.qr_postback(t(ctx, f"label.{k}"), msg.postback_data(f"pledge.{k}"), t(ctx, f"label.{k}")))
    return items


def bubble(title: str, lines: list[tuple[str, str]], buttons: list[dict]) -> dict:
    """A small Flex bubble: a bold title, lines of (text, colour), and buttons."""
    body = [{"type": "text", "text": title, "weight": "bold", "wrap": True}]
    for text_, color in lines:
        if text_:
            body.append({"type": "text", "text": text_, "size": "sm", "wrap": True, "color": color})
    out: dict = {"type": "bubble", "size": "kilo",
                 "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body}}
    if buttons:
        out["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return out


def button(label: str, data: str, display: str | None = None, style: str = "primary") -> dict:
    action = {"type": "postback", "label": shorten(label), "data": data}
    if display:
        action["displayText"] = display
    return {"type": "button", "style": style, "height": "sm", "action": action}


def carousel(bubbles: list[dict]) -> dict:
    return {"type": "carousel", "contents": bubbles[:MAX_BUBBLES]}


# --- district -----------------------------------------------------------------------------------

def district_picker(ctx: Ctx, prompt_key: str, **carry: str) -> list[dict]:
    """Ask for the district: typed, or picked from a carousel of all 25 (too many for quick replies)."""
    items = districts(ctx.content)
    per = 5
    bubbles = []
    for i in range(0, len(items), per):
        chunk = items[i:i + per]
        bubbles.append(bubble(
            t(ctx, "district_page", first=chunk[0].name, last=chunk[-1].name), [],
            [button(d.name, msg.postback_data("pledge.district", d=d.code, **carry), d.name, style="secondary")
             for d in chunk]))
    return [
        msg.text(t(ctx, prompt_key)),
        msg.flex(t(ctx, "district_alt"), carousel(bubbles), quick=[stop_quick(ctx)]),
    ]


def ask_district(ctx: Ctx, prompt_key: str, next_step: str | None = None, action_id: str | None = None) -> list[dict]:
    ctx.user.state = S_DISTRICT
    ctx.user.state_data = {k: v for k, v in {"n": next_step, "i": action_id}.items() if v}
    carry = {k: v for k, v in {"n": next_step, "i": action_id}.items() if v}
    return district_picker(ctx, prompt_key, **carry)


def district_chosen(ctx: Ctx, district: Any, next_step: str | None, action_id: str | None) -> list[dict]:
    """Store the district; then go on with the pledge if that is what the resident was doing."""
    set_user_district(ctx, district.code)
    clear_state(ctx)
    saved = msg.text(t(ctx, "district_saved", district=district.name))
    if next_step == "p":
        if action_of(ctx.content, action_id):
            return [saved] + confirm_step(ctx, action_of(ctx.content, action_id))
        return [saved] + sector_step(ctx)
    return [msg.text(t(ctx, "district_saved", district=district.name),
                     quick=next_quick(ctx, "start", "stats", "status"))]


@on_intent("set_district")
def set_district(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Record which district the household is in, from the words or a picker."""
    district = district_by_name(ctx.content, (match.entities or {}).get("district"))
    if district is None:
        return ask_district(ctx, "district_ask")
    return district_chosen(ctx, district, None, None)


@on_state(S_DISTRICT)
def typed_district(turn: Turn, ctx: Ctx) -> list[dict] | None:
    """A district typed while the picker is open."""
    data = dict(ctx.user.state_data or {})
    match = ctx.matcher.classify(turn.text)
    district = (district_by_name(ctx.content, (match.entities or {}).get("district"))
                or district_by_name(ctx.content, turn.text)
                or district_by_name(ctx.content, typo_district(ctx, turn.text)))
    if district is not None:
        return district_chosen(ctx, district, data.get("n"), data.get("i"))
    if match.intent == "set_district":  # "เปลี่ยนอำเภอ" again: the picker is still open
        return [msg.text(t(ctx, "district_retry"), quick=district_retry_quick(ctx, data))]
    if (match.intent != "out_of_scope" and match.confident) or data.get("r"):
        clear_state(ctx)  # something else was asked: answer that; the picker's buttons still work
        return None
    # Not a district we know (a typo, another province): ask once more instead of apologising.
    data["r"] = 1
    ctx.user.state_data = data
    typed = shorten(" ".join(turn.text.split()), 30)
    return [msg.text(t(ctx, "district_not_found", typed=typed), quick=district_retry_quick(ctx, data))]


def typo_district(ctx: Ctx, text: str) -> str | None:
    """The district a short answer to "อำเภอไหน" names with a typo ("สันทาย" -> สันทราย), or None."""

    if len(plain(ctx.content, text)) > 14:
        return None
    return ctx.matcher.find_district(text, fuzzy=True)


def named_action(ctx: Ctx, text: str, match: Any) -> str | None:
    """The catalogue action a message typed mid-pledge names ("แยกขยะ" -> sort_waste), or None."""
    action = (match.entities or {}).get("action")
    if action or not (match.intent.startswith("tips_") or match.intent in ("pledge_start", "out_of_scope")):
        return action
    return ctx.matcher.find_action(text)


def district_retry_quick(ctx: Ctx, data: dict) -> list[dict]:
    carry = {k: v for k, v in data.items() if k in ("n", "i") and v}
    return [msg.qr_postback(t(ctx, "label.district_list"), msg.postback_data("pledge.districts", **carry),
                            t(ctx, "label.district_list")),
            stop_quick(ctx)]


@on_postback("pledge.district")
def picked_district(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """A district button tapped."""
    district = district_by_code(ctx.content, params.get("d"))
    if district is None:
        return ask_district(ctx, "district_ask", params.get("n"), params.get("i"))
    return district_chosen(ctx, district, params.get("n"), params.get("i"))


@on_postback("pledge.districts")
def show_districts(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Open the district picker (going on with a pledge afterwards when n=p)."""
    if params.get("n") == "p":
        return ask_district(ctx, "district_first", "p", params.get("i") if action_of(ctx.content, params.get("i")) else None)
    return ask_district(ctx, "district_ask")


# --- pledge flow -----------------------------------------------------------------------------------

@on_intent("pledge_start")
def pledge_start(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Start a pledge: district first if unknown, then sector → action → confirm."""
    action = action_of(ctx.content, (match.entities or {}).get("action"))
    if not ctx.user.district_code:
        return ask_district(ctx, "district_first", "p", action.id if action else None)
    if action is not None:
        return confirm_step(ctx, action)
    return sector_step(ctx)


@on_postback("pledge.start")
def pledge_start_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The "ให้คำมั่น" button."""
    if not ctx.user.district_code:
        return ask_district(ctx, "district_first", "p")
    return sector_step(ctx)


def sector_step(ctx: Ctx) -> list[dict]:
    ctx.user.state, ctx.user.state_data = S_CHOOSE, None
    quick = [msg.qr_postback(sector_label(name, sector_short(ctx.content, sid)), msg.postback_data("pledge.sector", s=sid), name)
             for sid, name in sectors_in_use(ctx.content)][: MAX_QUICK - 1]
    return [msg.text(t(ctx, "choose_sector"), quick=quick + [stop_quick(ctx)])]


@on_postback("pledge.sector")
def pick_sector(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Show the sector's actions as a carousel of cards."""
    sector = params.get("s")
    actions = [a for a in ctx.content.actions.values() if a.sector == sector]
    if not actions:
        return sector_step(ctx)
    ctx.user.state, ctx.user.state_data = S_CHOOSE, {"s": sector}
    cards = msg.action_carousel(actions[:MAX_BUBBLES], ctx.content, postback_action=msg.PLEDGE_PICK)
    other = [msg.qr_postback(sector_label(name, sector_short(ctx.content, sid)), msg.postback_data("pledge.sector", s=sid), name)
             for sid, name in sectors_in_use(ctx.content) if sid != sector][: MAX_QUICK - 1]
    return [msg.text(t(ctx, "choose_action")),
            msg.flex(msg.actions_alt(actions, ctx.content), cards, quick=other + [stop_quick(ctx)])]


@on_postback(msg.PLEDGE_PICK)
def pick_action(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """An action card's pledge button tapped (here or under a tips answer): district if unknown, then confirm."""
    action = action_of(ctx.content, params.get("id"))
    if action is not None and not ctx.user.district_code:
        return ask_district(ctx, "district_first", "p", action.id)
    if action is None:
        return sector_step(ctx)
    return confirm_step(ctx, action)


def impact_lines(ctx: Ctx, action: Any) -> str:
    """The estimate in kg a year, in trees, and in baht when the content has a figure."""
    kg = kg_of(action)
    if kg is None:
        reason = getattr(action, "no_estimate", None) or ""
        return t(ctx, "no_estimate_long", reason=reason).strip()
    lo, hi = trees_range(ctx.content, kg)
    parts = [t(ctx, "estimate_long", kg=fmt_kg(kg), formula=getattr(action, "formula_text", "") or "",
               source=getattr(action, "source_title", "") or "")]
    if hi >= 1:
        parts.append(t(ctx, "trees", low=f"{lo:,}", high=f"{hi:,}") if lo != hi else t(ctx, "trees_one", n=f"{hi:,}"))
    money = money_of(action)
    if money:
        parts.append(t(ctx, "money", baht=f"{money:,.0f}"))
    return "\n".join(p for p in parts if p)


def confirm_step(ctx: Ctx, action: Any) -> list[dict]:
    existing = next((p for p in active_pledges(ctx.session, ctx.user.id) if p.action_id == action.id), None)
    if existing is not None:
        clear_state(ctx)
        return [msg.text(t(ctx, "already_pledged", title=action.title, since=fmt_date(ctx.content, existing.started_at)),
                         quick=next_quick(ctx, "status", "start", "stats"))]
    ctx.user.state, ctx.user.state_data = S_CONFIRM, {"i": action.id}
    quick = [msg.qr_postback(t(ctx, "label.confirm"), msg.postback_data("pledge.confirm", i=action.id), t(ctx, "label.confirm")),
             msg.qr_postback(t(ctx, "label.other"), msg.postback_data("pledge.sector", s=action.sector), t(ctx, "label.other")),
             stop_quick(ctx)]
    return [msg.text(t(ctx, "confirm", title=action.title, howto=action.howto, impact=impact_lines(ctx, action)),
                     quick=quick)]


@on_postback("pledge.confirm")
def confirm_pledge(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Record the pledge (once, however many taps or redeliveries)."""
    action = action_of(ctx.content, params.get("i"))
    if action is None:
        return sector_step(ctx)
    if not ctx.user.district_code and not any(p.action_id == action.id
                                              for p in active_pledges(ctx.session, ctx.user.id)):
        return ask_district(ctx, "district_first", "p", action.id)  # an old button, or data deleted since
    pledge, created = add_pledge(ctx, action.id)
    clear_state(ctx)
    if not created:
        return [msg.text(t(ctx, "already_pledged", title=action.title, since=fmt_date(ctx.content, pledge.started_at)),
                         quick=next_quick(ctx, "status", "start", "stats"))]
    return [msg.text(t(ctx, "recorded", title=action.title, impact=impact_lines(ctx, action)),
                     quick=next_quick(ctx, "status", "start", "stats"))]


@on_state(S_CHOOSE, S_CONFIRM, S_WITHDRAW, S_PRIVACY)
def typed_in_flow(turn: Turn, ctx: Ctx) -> list[dict] | None:
    """Words typed mid-flow: a yes or no to the question asked, a sector or an action named while
    choosing; otherwise leave the flow for the NLU (which answers whatever was asked)."""
    state, data = ctx.user.state, ctx.user.state_data or {}
    c = ctx.content
    if state == S_CONFIRM and data.get("i") and is_yes(c, turn.text):
        return confirm_pledge(turn, ctx, {"i": data["i"]})
    if state == S_WITHDRAW and data.get("p") and is_yes(c, turn.text):
        return withdraw(turn, ctx, {"p": str(data["p"])})
    # Deleting everything needs the words for it: a bare "ค่ะ" or "โอเค" after reading one's data is not a yes.
    if state == S_PRIVACY and plain(c, turn.text) in {plain(c, w) for w in t(ctx, "delete_words").split("|")}:
        return privacy_delete(turn, ctx, {})
    if state in (S_CONFIRM, S_WITHDRAW, S_PRIVACY) and is_no(c, turn.text):
        return stop_flow(turn, ctx, {})
    if state == S_CHOOSE:  # a sector typed ("พลังงาน", "ป่าไม้") instead of tapped
        typed = plain(c, turn.text)
        hits = []
        for sid, name in sectors_in_use(c):
            names = {plain(c, n) for n in (name, sector_short(c, sid)) if n}
            if typed and (typed in names or (len(typed) >= 3 and any(typed in n for n in names))):
                hits.append(sid)
        if len(hits) == 1:
            return pick_sector(turn, ctx, {"s": hits[0]})
    match = ctx.matcher.classify(turn.text)
    action = action_of(c, named_action(ctx, turn.text, match)) if state in (S_CHOOSE, S_CONFIRM) else None
    if action is not None:
        return confirm_step(ctx, action)
    clear_state(ctx)
    return None


@on_postback("pledge.stop")
def stop_flow(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The ยกเลิก button: leave the flow, nothing recorded."""
    clear_state(ctx)
    return [msg.text(t(ctx, "stopped"), quick=msg.topic_quick_replies(ctx.content))]


# --- status ----------------------------------------------------------------------------------------

@dataclass
class PledgeView:
    pledge: Pledge
    action: Any
    checkins: dict[date, bool]
    streak: int
    kg_to_date: float | None
    checked_this_week: bool


@dataclass
class StatusView:
    pledges: list[PledgeView] = field(default_factory=list)

    @property
    def kg_to_date(self) -> float:
        return sum(v.kg_to_date or 0.0 for v in self.pledges)

    @property
    def kg_year(self) -> float:
        return sum(kg_of(v.action) or 0.0 for v in self.pledges if v.action is not None)


def status_of(session: Session, content: Any, user_id: int, now: datetime) -> StatusView:
    """A resident's active pledges with streaks and impact to date (two indexed queries)."""
    pledges = active_pledges(session, user_id)
    cis = checkins_of(session, [p.id for p in pledges])
    week = current_week_start(now)
    out = StatusView()
    for p in pledges:
        a = action_of(content, p.action_id)
        c = cis.get(p.id, {})
        kg = kg_of(a) if a is not None else None
        out.pledges.append(PledgeView(p, a, c, streak(c, week),
                                      impact_to_date(kg, p.started_at, now, c) if kg is not None else None,
                                      week in c))
    return out


def checkin_bubble(content: Any, pledge: Pledge, action: Any, week_start: date) -> dict:
    title = action.title if action is not None else pledge.action_id
    week = fmt_date(content, week_start)
    return bubble(title, [(t(content, "checkin_week", week=week), "#555555")], [
        button(t(content, "label.done"), msg.postback_data("pledge.checkin", p=str(pledge.id), w=week_start.isoformat(), d="1"),
               t(content, "label.done")),
        button(t(content, "label.not_done"), msg.postback_data("pledge.checkin", p=str(pledge.id), w=week_start.isoformat(), d="0"),
               t(content, "label.not_done"), style="secondary"),
    ])


def checkin_messages(content: Any, user: Any, pledges: list[Pledge], week_start: date) -> list[dict]:
    """The weekly reminder: for each active pledge, ทำแล้ว / ยังไม่ได้ทำ buttons for week_start's week.

    For the campaign engineer's weekly check-in broadcast; [] when the resident has no active pledge.
    """
    active = [p for p in pledges if p.status == ACTIVE][:MAX_BUBBLES]
    if not active:
        return []
    bubbles = [checkin_bubble(content, p, content.actions.get(p.action_id), week_start) for p in active]
    return [
        msg.text(t(content, "checkin_ask", week=fmt_date(content, week_start))),
        msg.flex(t(content, "checkin_alt"), carousel(bubbles)),
    ]


# How far back a check-in reminder's week (postback w=<Monday>) is still honoured; older
# reminders ask about the current week instead.
MAX_CHECKIN_WEEKS_BACK = 4


@on_intent("pledge_status")
def pledge_status(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """My pledges: since when, streaks, estimated impact to date, and this week's check-in."""
    return status_messages(ctx)


@on_postback("pledge.status")
def pledge_status_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The "คำมั่นของฉัน" button, and the weekly reminder's button (w=<Monday of the week asked about>)."""
    return status_messages(ctx, checkin_week(ctx.now, params.get("w")))


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


def status_messages(ctx: Ctx, week: date | None = None) -> list[dict]:
    clear_state(ctx)
    view = status_of(ctx.session, ctx.content, ctx.user.id, ctx.now)
    if not view.pledges:
        return [msg.text(t(ctx, "status_none"), quick=next_quick(ctx, "start", "stats"))]
    this_week = current_week_start(ctx.now)
    week = week or this_week
    lines = []
    for v in view.pledges:
        title = v.action.title if v.action is not None else v.pledge.action_id
        impact = (t(ctx, "status_impact", kg=fmt_kg(v.kg_to_date)) if v.kg_to_date is not None
                  else t(ctx, "status_no_estimate"))
        lines.append(t(ctx, "status_line", title=title, since=fmt_date(ctx.content, v.pledge.started_at),
                       streak=v.streak, impact=impact))
    if any(v.kg_to_date is not None for v in view.pledges):
        total = t(ctx, "status_total", kg=fmt_kg(view.kg_to_date), kg_year=fmt_kg(view.kg_year)) \
            + "\n" + t(ctx, "status_rule")
    else:  # no pledge has a sourced number: say so rather than add up zeros
        total = t(ctx, "status_total_none")
    body = t(ctx, "status_head", n=len(view.pledges), district=district_name(ctx.content, ctx.user.district_code)) \
        + "\n\n" + "\n\n".join(lines) + "\n\n" + total
    out = [msg.text(body)]
    # Each pledge is asked about the requested week, or this week when it began after that week.
    asked = [(v, week if week >= current_week_start(_aware(v.pledge.started_at)) else this_week)
             for v in view.pledges]
    open_ = [(v, w) for v, w in asked if w not in v.checkins][:MAX_BUBBLES]
    quick = next_quick(ctx, "start", "cancel", "stats")
    if open_:
        bubbles = [checkin_bubble(ctx.content, v.pledge, v.action, w) for v, w in open_]
        alt = (t(ctx, "checkin_alt") if all(w == this_week for _, w in open_)
               else t(ctx, "checkin_alt_week", week=fmt_date(ctx.content, week)))
        out.append(msg.flex(alt, carousel(bubbles), quick=quick))
    else:
        done_key = "checkin_all_done" if week == this_week else "checkin_all_done_week"
        out[-1] = msg.text(body + "\n\n" + t(ctx, done_key, week=fmt_date(ctx.content, week)), quick=quick)
    return out


# --- check-ins -----------------------------------------------------------------------------------

@on_postback("pledge.checkin")
def check_in(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Record whether a pledge was kept this week; a second tap updates, never duplicates."""
    pledge_id = row_id(params.get("p"))
    try:
        week = date.fromisoformat(params.get("w", ""))
    except ValueError:
        pledge_id = None
    if pledge_id is None:
        return [msg.text(t(ctx, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    done = params.get("d") == "1"
    lock_user(ctx)
    pledge = ctx.session.get(Pledge, pledge_id)
    if pledge is None or pledge.user_id != ctx.user.id:
        return [msg.text(t(ctx, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    action = action_of(ctx.content, pledge.action_id)
    title = action.title if action is not None else pledge.action_id
    if pledge.status != ACTIVE:
        return [msg.text(t(ctx, "checkin_ended", title=title), quick=next_quick(ctx, "status"))]
    this_week = current_week_start(ctx.now)
    if week.weekday() != 0 or week > this_week or week < current_week_start(_aware(pledge.started_at)):
        return [msg.text(t(ctx, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    row = ctx.session.scalar(select(CheckIn).where(CheckIn.pledge_id == pledge.id, CheckIn.week_start == week))
    if row is not None and row.done == done:
        key = "checkin_already"
    elif row is not None:
        row.done = done
        key = "checkin_updated"
    else:
        ctx.session.add(CheckIn(pledge_id=pledge.id, week_start=week, done=done, created_at=ctx.now))
        key = "checkin_saved"
    ctx.session.flush()
    weeks = checkins_of(ctx.session, [pledge.id])[pledge.id]
    n = streak(weeks, this_week)
    answer = t(ctx, f"{key}_{'done' if done else 'not_done'}", title=title, week=fmt_date(ctx.content, week))
    answer += "\n" + (t(ctx, "streak", n=n) if n >= 1 else t(ctx, "streak_zero"))
    return [msg.text(answer, quick=next_quick(ctx, "status", "stats"))]


# --- withdrawing ------------------------------------------------------------------------------------

@on_intent("pledge_cancel")
def pledge_cancel(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Pick which pledge to withdraw."""
    return withdraw_choices(ctx)


def withdraw_choices(ctx: Ctx) -> list[dict]:
    pledges = active_pledges(ctx.session, ctx.user.id)
    if not pledges:
        clear_state(ctx)
        return [msg.text(t(ctx, "cancel_none"), quick=next_quick(ctx, "start", "stats"))]
    ctx.user.state, ctx.user.state_data = S_WITHDRAW, None
    quick = []
    # Titles are often over LINE's 20-character labels: the buttons carry the numbers of the list.
    for n, p in enumerate(pledges[: MAX_QUICK - 1], 1):
        title = title_of(ctx.content, p.action_id)
        label = title if len(title) <= MAX_LABEL else t(ctx, "label.withdraw_n", n=n)
        quick.append(msg.qr_postback(label, msg.postback_data("pledge.withdraw", p=str(p.id)), title))
    names = "\n".join(f"{n}. {title_of(ctx.content, p.action_id)}" for n, p in enumerate(pledges, 1))
    return [msg.text(t(ctx, "cancel_pick", pledges=names), quick=quick + [stop_quick(ctx)])]


@on_postback("pledge.cancel")
def pledge_cancel_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The "ยกเลิกคำมั่น" button."""
    return withdraw_choices(ctx)


@on_postback("pledge.withdraw")
def withdraw_ask(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Ask to confirm withdrawing one pledge."""
    pledge = _own_pledge(ctx, params.get("p"))
    if pledge is None or pledge.status != ACTIVE:
        return withdraw_choices(ctx)
    a = action_of(ctx.content, pledge.action_id)
    title = a.title if a is not None else pledge.action_id
    ctx.user.state, ctx.user.state_data = S_WITHDRAW, {"p": pledge.id}
    quick = [msg.qr_postback(t(ctx, "label.withdraw_ok"), msg.postback_data("pledge.withdraw_ok", p=str(pledge.id)),
                             t(ctx, "label.withdraw_ok")),
             msg.qr_postback(t(ctx, "label.keep"), msg.postback_data("pledge.stop"), t(ctx, "label.keep"))]
    return [msg.text(t(ctx, "cancel_confirm", title=title, since=fmt_date(ctx.content, pledge.started_at)), quick=quick)]


@on_postback("pledge.withdraw_ok")
def withdraw(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Withdraw the pledge (its check-ins stay with it until the resident deletes their data)."""
    lock_user(ctx)
    pledge = _own_pledge(ctx, params.get("p"))
    clear_state(ctx)
    if pledge is None:
        return [msg.text(t(ctx, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    a = action_of(ctx.content, pledge.action_id)
    title = a.title if a is not None else pledge.action_id
    if pledge.status != ACTIVE:
        return [msg.text(t(ctx, "cancel_already", title=title), quick=next_quick(ctx, "status", "start"))]
    end_pledge(ctx, pledge)
    return [msg.text(t(ctx, "cancel_done", title=title), quick=next_quick(ctx, "status", "start"))]


# Row ids are 32-bit integers (PostgreSQL's INTEGER): a tampered postback may carry any number.
MAX_ROW_ID = 2**31 - 1


def row_id(raw: str | None) -> int | None:
    """A postback's row id, or None when it cannot be one (not a number, out of the column's range)."""
    try:
        n = int((raw or "").strip())
    except ValueError:
        return None
    return n if 1 <= n <= MAX_ROW_ID else None


def _own_pledge(ctx: Ctx, pid: str | None) -> Pledge | None:
    n = row_id(pid)
    pledge = ctx.session.get(Pledge, n) if n is not None else None
    if pledge is None or pledge.user_id != ctx.user.id:
        return None
    return pledge


# --- community ---------------------------------------------------------------------------------------

@dataclass
class DistrictRow:
    code: str
    households: int
    pledges: int
    kg_year: float


@dataclass
class CommunityView:
    households: int = 0
    pledges: int = 0
    kg_year: float = 0.0
    by_action: list[tuple[str, int]] = field(default_factory=list)   # most pledged first
    ranking: list[DistrictRow] = field(default_factory=list)         # only districts shown


def community_of(session: Session, content: Any) -> CommunityView:
    """The community's totals from the counters (a few hundred rows, whatever the number of pledges)."""
    view = CommunityView()
    per_district: dict[str, DistrictRow] = {}
    for scope, key, h, p in session.execute(
            select(PledgeCounter.scope, PledgeCounter.key, PledgeCounter.households, PledgeCounter.pledges)):
        h, p = max(h, 0), max(p, 0)
        if scope == "all":
            view.households, view.pledges = h, p
        elif scope == "action":
            if p:
                view.by_action.append((key, p))
            kg = kg_of(content.actions.get(key)) if key in content.actions else None
            view.kg_year += (kg or 0.0) * p
        elif scope == "district" and key:
            row = per_district.setdefault(key, DistrictRow(key, 0, 0, 0.0))
            row.households, row.pledges = h, p
        elif scope == "district_action":
            code, _, action_id = key.partition(":")
            if code:
                row = per_district.setdefault(code, DistrictRow(code, 0, 0, 0.0))
                kg = kg_of(content.actions.get(action_id)) if action_id in content.actions else None
                row.kg_year += (kg or 0.0) * p
    order = list(content.actions)
    view.by_action.sort(key=lambda x: (-x[1], order.index(x[0]) if x[0] in order else 999))
    view.ranking = sorted((r for r in per_district.values() if r.households >= MIN_HOUSEHOLDS_SHOWN),
                          key=lambda r: (-r.households, -r.kg_year, r.code))
    return view


@on_intent("community_stats")
def community_stats(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """The community's totals, the popular actions, the district ranking, and the province's goal."""
    return community_messages(ctx)


@on_postback("pledge.stats")
def community_stats_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The "ผลรวมชุมชน" button."""
    return community_messages(ctx)


def community_messages(ctx: Ctx) -> list[dict]:
    clear_state(ctx)
    c = ctx.content
    view = community_of(ctx.session, c)
    if view.households == 0:
        return [msg.text(t(ctx, "stats_empty") + "\n\n" + t(ctx, "goal"), quick=next_quick(ctx, "start"))]
    tonnes = view.kg_year / 1000
    lo, hi = trees_range(c, view.kg_year)
    parts = [t(ctx, "stats_head", households=f"{view.households:,}", pledges=f"{view.pledges:,}",
               tonnes=fmt_t(tonnes))]
    if hi >= 1:
        parts.append(t(ctx, "trees", low=f"{lo:,}", high=f"{hi:,}") if lo != hi else t(ctx, "trees_one", n=f"{hi:,}"))
    top = [f"{i}. {c.actions[a].title} ({n:,})" for i, (a, n) in enumerate(view.by_action[:3], 1) if a in c.actions]
    if top:
        parts.append(t(ctx, "stats_top") + "\n" + "\n".join(top))
    ranking_text = [f"{i}. {district_name(c, r.code)}: {r.households:,} {t(ctx, 'households_unit')}"
                    f" ({fmt_t(r.kg_year / 1000)} tCO2e/ปี)" for i, r in enumerate(view.ranking[:5], 1)]
    if ranking_text:
        parts.append(t(ctx, "stats_ranking", min=MIN_HOUSEHOLDS_SHOWN) + "\n" + "\n".join(ranking_text))
    else:
        parts.append(t(ctx, "stats_ranking_none", min=MIN_HOUSEHOLDS_SHOWN))
    mine = ctx.user.district_code
    if mine:
        place = next((i for i, r in enumerate(view.ranking, 1) if r.code == mine), None)
        if place is not None:
            parts.append(t(ctx, "stats_my_place", district=district_name(c, mine), place=place,
                           total=len(view.ranking)))
        else:
            parts.append(t(ctx, "stats_my_hidden", district=district_name(c, mine), min=MIN_HOUSEHOLDS_SHOWN))
    parts.append(t(ctx, "stats_rule"))
    goal = t(ctx, "goal")
    quick = next_quick(ctx, "start", "status")
    if not mine:
        quick.append(msg.qr_postback(t(ctx, "label.districts"), msg.postback_data("pledge.districts"),
                                     t(ctx, "label.districts")))
    return [msg.text("\n\n".join(parts)), msg.text(goal, quick=quick)]


# --- privacy -------------------------------------------------------------------------------------------

@on_intent("privacy")
def privacy(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Show everything stored about me, with a button that deletes it all."""
    return privacy_messages(ctx)


@on_postback("privacy.show")
def privacy_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """The "ข้อมูลของฉัน" button."""
    return privacy_messages(ctx)


def privacy_messages(ctx: Ctx) -> list[dict]:
    c, user = ctx.content, ctx.user
    pledges = list(ctx.session.scalars(select(Pledge).where(Pledge.user_id == user.id).order_by(Pledge.started_at, Pledge.id)))
    n_checkins = ctx.session.scalar(select(func.count(CheckIn.id)).join(Pledge, Pledge.id == CheckIn.pledge_id)
                                    .where(Pledge.user_id == user.id)) or 0
    lines = []
    for p in pledges:
        a = action_of(c, p.action_id)
        title = a.title if a is not None else p.action_id
        if p.status == ACTIVE:
            lines.append(t(ctx, "privacy_pledge_active", title=title, since=fmt_date(c, p.started_at)))
        else:
            lines.append(t(ctx, "privacy_pledge_ended", title=title, since=fmt_date(c, p.started_at),
                           until=fmt_date(c, p.ended_at or p.started_at)))
    body = t(ctx, "privacy_show",
             since=fmt_date(c, user.created_at or ctx.now),
             district=district_name(c, user.district_code),
             pledges="\n".join(lines) if lines else t(ctx, "privacy_no_pledges"),
             checkins=n_checkins,
             broadcast=t(ctx, "privacy_broadcast_off" if user.opted_out else "privacy_broadcast_on"))
    ctx.user.state, ctx.user.state_data = S_PRIVACY, None
    quick = [msg.qr_postback(t(ctx, "label.delete"), msg.postback_data("privacy.delete"), t(ctx, "label.delete")),
             msg.qr_postback(t(ctx, "label.districts"), msg.postback_data("pledge.districts"), t(ctx, "label.districts")),
             stop_quick(ctx)]
    return [msg.text(body), msg.text(t(ctx, "privacy_delete_ask"), quick=quick)]


@on_postback("privacy.delete")
def privacy_delete(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[dict]:
    """Delete every row linked to this LINE user id, then say so."""
    delete_user_data(ctx)
    return [msg.text(t(ctx, "privacy_deleted"), quick=msg.topic_quick_replies(ctx.content))]
