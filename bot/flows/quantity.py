"""How much of an action a household pledges (10 trees, 3 bulbs, 2 litres a week): read from typed
words ("ปลูก 10 ต้น ไม่ใช่ 5", "๑๐"), picked from quick replies, shown in the estimate, and changed
later from "คำมั่นของฉัน"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot import messages as msg
from bot.content.model import Action, Content, Quantity
from bot.flows.common import next_quick, row_id, stop_quick, t, title_of, trees_text
from bot.fmt import fmt_kg, fmt_number
from bot.limits import MAX_QUICK_REPLIES
from bot.registry import Registry
from bot.store.models import Pledge, PledgeStatus
from bot.store.pledges import active_pledges, own_pledge, set_quantity
from bot.turn import Ctx, Message, Turn
from bot.words import is_no

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


class QuantityState(StrEnum):
    CHANGE = "pledge.quantity"  # data: pledge (whose quantity is being changed), retried


@dataclass(frozen=True)
class Reading:
    """A number read from typed words: its value, or why it cannot be used (problem: a text key)."""

    value: float | None
    problem: str | None = None


def read_quantity(content: Content, spec: Quantity, text: str, unit_required: bool = False) -> Reading | None:
    """The quantity typed words give ("10 ต้น", "๑๐", "ปลูก 10 ต้น ไม่ใช่ 5" -> 10), None when
    they hold no number; a number outside the bounds comes back with the problem."""
    s = _THOUSANDS.sub("", (text or "").translate(_THAI_DIGITS)).replace(",", ".")
    found = []
    for m in _NUMBER.finditer(s):
        before = s[max(0, m.start() - 10):m.start()].lower().replace(" ", "")
        if before.endswith(tuple(t(content, "quantity_not_words").split("|"))):
            continue  # "ไม่ใช่ 5": the number being corrected
        after = s[m.end():m.end() + 12].strip().lower()
        unit_first = spec.unit.split("/")[0].split()[0].lower() if spec.unit else ""
        found.append((not (unit_first and after.startswith(unit_first)), m.start(), float(m.group())))
    if unit_required:
        found = [f for f in found if not f[0]]
    if not found:
        return None
    value = sorted(found)[0][2]
    if not spec.clamp_ok(value):
        return Reading(None, "quantity_whole" if spec.min <= value <= spec.max else "quantity_bounds")
    return Reading(value)


def amount(content: Content, action: Action, quantity: float | None) -> str:
    """"10 ต้น" (the default when quantity is None)."""
    spec = action.quantity
    if spec is None:
        return ""
    return f"{fmt_number(quantity if quantity is not None else spec.default)} {spec.unit}"


def bounds_text(content: Content, action: Action, key: str = "quantity_bounds") -> str:
    spec = action.quantity
    assert spec is not None
    return t(content, key, min=fmt_number(spec.min), max=fmt_number(spec.max), unit=spec.unit,
             default=fmt_number(spec.default))


def kg_text(action: Action, quantity: float | None) -> str:
    """"90-150" for a range (trees), "78" otherwise."""
    low, high = action.kg_year(quantity), action.kg_year_high(quantity)
    if low is None:
        return ""
    return f"{fmt_kg(low)}-{fmt_kg(high)}" if high is not None and high > low else fmt_kg(low)


def formula(content: Content, action: Action, quantity: float | None) -> str:
    """The estimate's arithmetic with the resident's quantity in place of the catalogue's."""
    spec = action.quantity
    if spec is None or quantity is None or action.factor is None or quantity == spec.default:
        return action.formula_text
    terms = [f"{fmt_number(quantity if i == spec.input else x.value)} {x.unit}".strip()
             for i, x in enumerate(action.inputs)]
    terms.append(f"{fmt_number(action.factor.value)} {action.factor.unit}")
    kg = action.kg_year(quantity) or 0.0
    return " × ".join(terms) + f" ≈ {fmt_number(round(kg, 1))} {content.text('cards.per_year_unit')}"


def impact_lines(content: Content, action: Action, quantity: float | None = None) -> str:
    """The estimate for this quantity in kg a year (a range where the factor is one) and in trees,
    or why there is no number."""
    if action.kg_co2e_year is None:
        return t(content, "no_estimate_long", reason=action.no_estimate or "").strip()
    parts = []
    if action.quantity is not None:
        parts.append(t(content, "quantity_line", amount=amount(content, action, quantity)))
    parts.append(t(content, "estimate_long", kg=kg_text(action, quantity), formula=formula(content, action, quantity),
                   source=action.source_title))
    if action.kg_co2e_year_high is None:  # a range already is trees' uptake: no trees again
        trees = trees_text(content, action.kg_year(quantity) or 0.0)
        if trees:
            parts.append(trees)
    return "\n".join(p for p in parts if p)


def pick_quick(content: Content, action: Action, data_for: dict[str, str], postback: str,
               chosen: float | None = None) -> list[Message]:
    """Quick picks of the action's quantity (all but the one already chosen)."""
    spec = action.quantity
    if spec is None:
        return []
    current = chosen if chosen is not None else spec.default
    out = []
    for c in spec.choices:
        if c == current:
            continue
        label = f"{fmt_number(c)} {spec.unit}"
        out.append(msg.qr_postback(label, msg.postback_data(postback, **data_for, q=fmt_number(c).replace(",", "")), label))
    return out


def parse_param(action: Action, raw: str | None) -> float | None:
    """A quantity from a postback, None when absent or not allowed (a tampered button)."""
    if action.quantity is None or not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if action.quantity.clamp_ok(value) else None


def stored(action: Action, quantity: float | None) -> float | None:
    """What a pledge row keeps: None for the default."""
    if action.quantity is None or quantity is None or quantity == action.quantity.default:
        return None
    return quantity


# --- changing a pledge's quantity later -------------------------------------------------------------

def change_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """"แก้จำนวน": which pledge (when several have a quantity), then how many."""
    c = ctx.content
    with_qty = [p for p in active_pledges(ctx.session, ctx.user.id) if _spec(c, p) is not None]
    pledge = own_pledge(ctx.session, ctx.user, row_id(params.get("p"))) if params.get("p") else None
    if pledge is None and len(with_qty) == 1:
        pledge = with_qty[0]
    if pledge is None:
        if not with_qty:
            return [msg.text(t(c, "quantity_none"), quick=next_quick(ctx, "status"))]
        quick = [msg.qr_postback(t(c, "label.pledge_n", n=n), msg.postback_data("pledge.qty_change", p=str(p.id)),
                                 title_of(c, p.action_id)) for n, p in enumerate(with_qty[: MAX_QUICK_REPLIES - 1], 1)]
        names = "\n".join(f"{n}. {title_of(c, p.action_id)} ({amount(c, c.actions[p.action_id], p.quantity)})"
                          for n, p in enumerate(with_qty, 1))
        return [msg.text(t(c, "quantity_which", pledges=names), quick=quick + [stop_quick(c)])]
    return ask_change(ctx, pledge)


def _spec(content: Content, pledge: Pledge) -> Quantity | None:
    a = content.actions.get(pledge.action_id)
    return a.quantity if a is not None else None


def ask_change(ctx: Ctx, pledge: Pledge, retried: bool = False) -> list[Message]:
    c = ctx.content
    action = c.actions.get(pledge.action_id)
    if action is None or action.quantity is None or pledge.status != PledgeStatus.ACTIVE:
        return [msg.text(t(c, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    ctx.set_state(QuantityState.CHANGE, pledge=pledge.id, retried=retried or None)
    body = t(c, "quantity_ask", title=action.title, amount=amount(c, action, pledge.quantity)) + "\n" + bounds_text(c, action)
    quick = pick_quick(c, action, {"p": str(pledge.id)}, "pledge.qty_set", pledge.quantity)
    return [msg.text(body, quick=quick[: MAX_QUICK_REPLIES - 1] + [stop_quick(c)])]


def set_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """A quantity picked for an existing pledge."""
    pledge = own_pledge(ctx.session, ctx.user, row_id(params.get("p")))
    action = ctx.content.actions.get(pledge.action_id) if pledge is not None else None
    if pledge is None or action is None:
        return [msg.text(t(ctx.content, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    value = parse_param(action, params.get("q"))
    if value is None:
        return ask_change(ctx, pledge)
    return apply_change(ctx, pledge, action, value)


def apply_change(ctx: Ctx, pledge: Pledge, action: Action, value: float) -> list[Message]:
    c = ctx.content
    if pledge.status != PledgeStatus.ACTIVE:
        ctx.clear_state()
        return [msg.text(t(c, "checkin_ended", title=action.title), quick=next_quick(ctx, "status"))]
    changed = set_quantity(ctx.session, ctx.user, pledge, stored(action, value))
    ctx.clear_state()
    key = "quantity_changed" if changed else "quantity_same"
    body = t(c, key, title=action.title, amount=amount(c, action, value)) + "\n" + impact_lines(c, action, value)
    return [msg.text(body, quick=next_quick(ctx, "status", "stats"))]


def typed_change(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A number typed while changing a quantity; nonsense is asked about once, politely."""
    c = ctx.content
    pledge = own_pledge(ctx.session, ctx.user, row_id(str(ctx.state_value("pledge") or "")))
    action = c.actions.get(pledge.action_id) if pledge is not None else None
    if pledge is None or action is None or action.quantity is None:
        ctx.clear_state()
        return None
    reading = read_quantity(c, action.quantity, turn.text)
    if reading is not None and reading.value is not None:
        return apply_change(ctx, pledge, action, reading.value)
    if reading is not None and reading.problem:
        ctx.set_state(QuantityState.CHANGE, pledge=pledge.id, retried=True)
        return [msg.text(bounds_text(c, action, reading.problem),
                         quick=pick_quick(c, action, {"p": str(pledge.id)}, "pledge.qty_set", pledge.quantity)
                         + [stop_quick(c)])]
    if is_no(c, turn.text) or ctx.state_value("retried"):
        ctx.clear_state()
        return None
    ctx.set_state(QuantityState.CHANGE, pledge=pledge.id, retried=True)
    return [msg.text(bounds_text(c, action, "quantity_not_a_number"),
                     quick=pick_quick(c, action, {"p": str(pledge.id)}, "pledge.qty_set", pledge.quantity) + [stop_quick(c)])]


def typed_for_a_pledge(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """"ปลูก 10 ต้น ไม่ใช่ 5" out of any flow, from a resident whose trees pledge says otherwise:
    a number right before the unit of one of their pledges changes that pledge's amount."""
    c, text = ctx.content, turn.text
    if len(text) > 60 or "?" in text or not _NUMBER.search(text.translate(_THAI_DIGITS)):
        return None
    hits = []
    for p in active_pledges(ctx.session, ctx.user.id):
        action = c.actions.get(p.action_id)
        if action is None or action.quantity is None:
            continue
        reading = read_quantity(c, action.quantity, text, unit_required=True)
        if reading is not None:
            hits.append((p, action, reading))
    if len(hits) != 1:
        return None
    pledge, action, reading = hits[0]
    if reading.value is None:
        return ask_change(ctx, pledge) if not reading.problem else [msg.text(
            bounds_text(c, action, reading.problem),
            quick=pick_quick(c, action, {"p": str(pledge.id)}, "pledge.qty_set", pledge.quantity))]
    return apply_change(ctx, pledge, action, reading.value)


def register(registry: Registry) -> None:
    registry.text_hook(typed_for_a_pledge)
    registry.postback(change_tap, "pledge.qty_change")
    registry.postback(set_tap, "pledge.qty_set")
    registry.state(typed_change, QuantityState.CHANGE)
