"""Pledging a household action (sector → action → confirm) and withdrawing one.

Every button carries what it needs (postback data), so a stale or repeated tap is answered
from the database, never from a remembered state; the store's locks and unique constraints
make a double tap or a redelivery record one pledge.
"""
from __future__ import annotations

from enum import StrEnum

from bot import messages as msg
from bot.content.model import Action
from bot.flows.common import (
    action_of,
    next_quick,
    row_id,
    sector_label,
    sector_short,
    sectors_in_use,
    stop_flow,
    stop_quick,
    t,
    tap,
    title_of,
)
from bot.flows.district import NEXT_PLEDGE, ask_district
from bot.flows.quantity import bounds_text, parse_param, pick_quick, read_quantity, stored
from bot.flows.quantity import impact_lines as quantity_impact
from bot.flows.reminders import day_and_slot, day_name, slot_name
from bot.limits import MAX_CAROUSEL, MAX_LABEL, MAX_QUICK_REPLIES
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.models import PledgeStatus
from bot.store.pledges import active_pledges, add_pledge, end_pledge, own_pledge
from bot.store.users import lock_user
from bot.turn import Ctx, Message, Turn
from bot.words import is_no, is_yes, plain


class PledgeState(StrEnum):
    CHOOSE = "pledge.choose"      # data: sector (the one shown)
    CONFIRM = "pledge.confirm"    # data: action, qty (the amount chosen so far, for actions with one)
    WITHDRAW = "pledge.withdraw"  # data: pledge (the one asked about)


# --- pledging --------------------------------------------------------------------------------------

def pledge_start(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """Start a pledge: district first if unknown, then sector → action → confirm."""
    action = action_of(ctx.content, (match.entities or {}).get("action"))
    if not ctx.user.district_code:
        return ask_district(ctx, "district_first", NEXT_PLEDGE, action.id if action else None)
    if action is not None:
        reading = read_quantity(ctx.content, action.quantity, turn.text) if action.quantity else None
        return confirm_step(ctx, action, reading.value if reading else None)  # "ปลูก 10 ต้น": 10 already
    return sector_step(ctx)


def pledge_start_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "ให้คำมั่น" button."""
    if not ctx.user.district_code:
        return ask_district(ctx, "district_first", NEXT_PLEDGE)
    return sector_step(ctx)


def _sector_quick(ctx: Ctx, except_sector: str | None = None) -> list[Message]:
    c = ctx.content
    return [msg.qr_postback(sector_label(c, sid, name), msg.postback_data("pledge.sector", s=sid), name)
            for sid, name in sectors_in_use(c) if sid != except_sector][: MAX_QUICK_REPLIES - 1]


def sector_step(ctx: Ctx) -> list[Message]:
    ctx.set_state(PledgeState.CHOOSE)
    return [msg.text(t(ctx.content, "choose_sector"), quick=_sector_quick(ctx) + [stop_quick(ctx.content)])]


def pick_sector(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Show the sector's actions as a carousel of cards."""
    sector = params.get("s")
    actions = [a for a in ctx.content.actions.values() if a.sector == sector]
    if not actions:
        return sector_step(ctx)
    ctx.set_state(PledgeState.CHOOSE, sector=sector)
    cards = msg.action_carousel(actions[:MAX_CAROUSEL], ctx.content, postback_action=msg.PLEDGE_PICK)
    return [msg.text(t(ctx.content, "choose_action")),
            msg.flex(msg.actions_alt(actions, ctx.content), cards,
                     quick=_sector_quick(ctx, sector) + [stop_quick(ctx.content)])]


def pick_action(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """An action card's pledge button tapped (here or under a tips answer): district if unknown, then confirm."""
    action = action_of(ctx.content, params.get("id"))
    if action is not None and not ctx.user.district_code:
        return ask_district(ctx, "district_first", NEXT_PLEDGE, action.id)
    if action is None:
        return sector_step(ctx)
    return confirm_step(ctx, action)


def impact_lines(ctx: Ctx, action: Action, quantity: float | None = None) -> str:
    """The estimate in kg a year (for this quantity) and in trees, or why there is no number."""
    return quantity_impact(ctx.content, action, quantity)


def confirm_step(ctx: Ctx, action: Action, quantity: float | None = None) -> list[Message]:
    c = ctx.content
    existing = next((p for p in active_pledges(ctx.session, ctx.user.id) if p.action_id == action.id), None)
    if existing is not None:
        ctx.clear_state()
        quick = next_quick(ctx, "status", "start", "stats")
        if action.quantity is not None:  # pledged already: the amount can still be changed
            quick.insert(0, msg.qr_postback(t(c, "label.change_qty"), msg.postback_data("pledge.qty_change", p=str(existing.id)),
                                            t(c, "label.change_qty")))
        return [msg.text(t(c, "already_pledged", title=action.title, since=c.date(existing.started_at)), quick=quick)]
    ctx.set_state(PledgeState.CONFIRM, action=action.id, qty=quantity)
    data = {"i": action.id} if quantity is None else {"i": action.id, "q": str(quantity)}
    quick = [msg.qr_postback(t(c, "label.confirm"), msg.postback_data("pledge.confirm", **data), t(c, "label.confirm"))]
    quick += pick_quick(c, action, {"i": action.id}, "pledge.qty", quantity)[:MAX_QUICK_REPLIES - 3]
    quick += [msg.qr_postback(t(c, "label.other"), msg.postback_data("pledge.sector", s=action.sector), t(c, "label.other")),
              stop_quick(c)]
    impact = impact_lines(ctx, action, quantity)
    if action.quantity is not None:
        impact += "\n" + bounds_text(c, action, "quantity_hint")
    return [msg.text(t(c, "confirm", title=action.title, howto=action.howto, impact=impact), quick=quick)]


def pick_quantity(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """A quantity picked before confirming ("10 ต้น")."""
    action = action_of(ctx.content, params.get("i"))
    if action is None:
        return sector_step(ctx)
    return confirm_step(ctx, action, parse_param(action, params.get("q")))


def confirm_pledge(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Record the pledge (once, however many taps or redeliveries)."""
    c = ctx.content
    action = action_of(c, params.get("i"))
    if action is None:
        return sector_step(ctx)
    if not ctx.user.district_code and not any(p.action_id == action.id
                                              for p in active_pledges(ctx.session, ctx.user.id)):
        return ask_district(ctx, "district_first", NEXT_PLEDGE, action.id)  # an old button, or data deleted since
    quantity = parse_param(action, params.get("q"))
    pledge, created = add_pledge(ctx.session, ctx.user, action.id, ctx.now, stored(action, quantity))
    ctx.clear_state()
    if not created:
        return [msg.text(t(c, "already_pledged", title=action.title, since=c.date(pledge.started_at)),
                         quick=next_quick(ctx, "status", "start", "stats"))]
    more = [tap(c, "label.reminder_day", "remind.settings"), tap(c, "label.share_mine", "share.mine"),
            tap(c, "label.invite", "share.invite")]
    day, slot = day_and_slot(ctx.user)
    when = f"{day_name(c, day)} {slot_name(c, slot)}"
    return [msg.text(t(c, "recorded", title=action.title, impact=impact_lines(ctx, action, quantity), when=when),
                     quick=next_quick(ctx, "status", "start", "stats") + more)]


def named_action(ctx: Ctx, text: str, match: Match) -> str | None:
    """The catalogue action a message typed mid-pledge names ("แยกขยะ" -> sort_waste), or None."""
    action = (match.entities or {}).get("action")
    if action or not (match.intent.startswith("tips_") or match.intent in ("pledge_start", "out_of_scope")):
        return action
    return ctx.matcher.find_action(text)


def typed_in_flow(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """Words typed mid-flow: a yes or no to the question asked, a sector or an action named while
    choosing; otherwise leave the flow for the matcher (which answers whatever was asked)."""
    state, c = ctx.user.state, ctx.content
    qty = ctx.state_value("qty")
    if state == PledgeState.CONFIRM and ctx.state_value("action") and is_yes(c, turn.text):
        data = {"i": str(ctx.state_value("action"))} | ({"q": str(qty)} if qty is not None else {})
        return confirm_pledge(turn, ctx, data)
    confirming = action_of(c, ctx.state_value("action")) if state == PledgeState.CONFIRM else None
    if confirming is not None and confirming.quantity is not None:  # "10 ต้น", "๑๐", "ไม่ใช่ 5 เอา 10"
        reading = read_quantity(c, confirming.quantity, turn.text)
        if reading is not None and reading.value is not None:
            return confirm_step(ctx, confirming, reading.value)
        if reading is not None and reading.problem:
            return [msg.text(bounds_text(c, confirming, reading.problem),
                             quick=pick_quick(c, confirming, {"i": confirming.id}, "pledge.qty", qty) + [stop_quick(c)])]
    if state == PledgeState.WITHDRAW and ctx.state_value("pledge") and is_yes(c, turn.text):
        return withdraw(turn, ctx, {"p": str(ctx.state_value("pledge"))})
    if state in (PledgeState.CONFIRM, PledgeState.WITHDRAW) and is_no(c, turn.text):
        return stop_flow(turn, ctx, {})
    if state == PledgeState.CHOOSE:  # a sector typed ("พลังงาน", "ป่าไม้") instead of tapped
        typed = plain(c, turn.text)
        hits = []
        for sid, name in sectors_in_use(c):
            names = {plain(c, n) for n in (name, sector_short(c, sid)) if n}
            if typed and (typed in names or (len(typed) >= 3 and any(typed in n for n in names))):
                hits.append(sid)
        if len(hits) == 1:
            return pick_sector(turn, ctx, {"s": hits[0]})
    match = ctx.matcher.classify(turn.text)
    action = action_of(c, named_action(ctx, turn.text, match)) if state in (PledgeState.CHOOSE, PledgeState.CONFIRM) else None
    if action is not None:
        return confirm_step(ctx, action)
    ctx.clear_state()
    return None


# --- withdrawing ------------------------------------------------------------------------------------

def pledge_cancel(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """Pick which pledge to withdraw."""
    return withdraw_choices(ctx)


def pledge_cancel_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "ยกเลิกคำมั่น" button."""
    return withdraw_choices(ctx)


def withdraw_choices(ctx: Ctx) -> list[Message]:
    c = ctx.content
    pledges = active_pledges(ctx.session, ctx.user.id)
    if not pledges:
        ctx.clear_state()
        return [msg.text(t(c, "cancel_none"), quick=next_quick(ctx, "start", "stats"))]
    ctx.set_state(PledgeState.WITHDRAW)
    quick = []
    # Titles are often over LINE's 20-character labels: the buttons carry the numbers of the list.
    for n, p in enumerate(pledges[: MAX_QUICK_REPLIES - 1], 1):
        title = title_of(c, p.action_id)
        label = title if len(title) <= MAX_LABEL else t(c, "label.withdraw_n", n=n)
        quick.append(msg.qr_postback(label, msg.postback_data("pledge.withdraw", p=str(p.id)), title))
    names = "\n".join(f"{n}. {title_of(c, p.action_id)}" for n, p in enumerate(pledges, 1))
    return [msg.text(t(c, "cancel_pick", pledges=names), quick=quick + [stop_quick(c)])]


def withdraw_ask(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Ask to confirm withdrawing one pledge."""
    c = ctx.content
    pledge = own_pledge(ctx.session, ctx.user, row_id(params.get("p")))
    if pledge is None or pledge.status != PledgeStatus.ACTIVE:
        return withdraw_choices(ctx)
    ctx.set_state(PledgeState.WITHDRAW, pledge=pledge.id)
    quick = [msg.qr_postback(t(c, "label.withdraw_ok"), msg.postback_data("pledge.withdraw_ok", p=str(pledge.id)),
                             t(c, "label.withdraw_ok")),
             tap(c, "label.keep", "pledge.stop")]
    return [msg.text(t(c, "cancel_confirm", title=title_of(c, pledge.action_id), since=c.date(pledge.started_at)),
                     quick=quick)]


def withdraw(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Withdraw the pledge (its check-ins stay with it until the resident deletes their data)."""
    c = ctx.content
    lock_user(ctx.session, ctx.user)
    pledge = own_pledge(ctx.session, ctx.user, row_id(params.get("p")))
    ctx.clear_state()
    if pledge is None:
        return [msg.text(t(c, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    title = title_of(c, pledge.action_id)
    if pledge.status != PledgeStatus.ACTIVE:
        return [msg.text(t(c, "cancel_already", title=title), quick=next_quick(ctx, "status", "start"))]
    end_pledge(ctx.session, ctx.user, pledge, ctx.now)
    return [msg.text(t(c, "cancel_done", title=title), quick=next_quick(ctx, "status", "start"))]


def register(registry: Registry) -> None:
    registry.intent(pledge_start, "pledge_start")
    registry.intent(pledge_cancel, "pledge_cancel")
    registry.postback(pledge_start_tap, "pledge.start")
    registry.postback(pick_sector, "pledge.sector")
    registry.postback(pick_action, msg.PLEDGE_PICK)
    registry.postback(confirm_pledge, "pledge.confirm")
    registry.postback(pick_quantity, "pledge.qty")
    registry.postback(stop_flow, "pledge.stop")
    registry.postback(pledge_cancel_tap, "pledge.cancel")
    registry.postback(withdraw_ask, "pledge.withdraw")
    registry.postback(withdraw, "pledge.withdraw_ok")
    registry.state(typed_in_flow, PledgeState.CHOOSE, PledgeState.CONFIRM, PledgeState.WITHDRAW)
