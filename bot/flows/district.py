"""Which district (อำเภอ) the household is in: typed (typos forgiven) or picked from a card.

Asked before a first pledge, and set or changed at any time. When the resident was pledging
(next=p), the pledge goes on through the pledge flow's own postbacks, so this module never
imports that flow.
"""
from __future__ import annotations

from enum import StrEnum

from bot import messages as msg
from bot.content.model import District
from bot.flows.common import action_of, bubble, button, carousel, next_quick, stop_quick, t
from bot.fmt import shorten
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.pledges import set_user_district
from bot.turn import Ctx, Message, Turn
from bot.words import plain

NEXT_PLEDGE = "p"  # what to do once the district is known: go on with the pledge


class DistrictState(StrEnum):
    AWAIT = "pledge.await_district"  # data: next, action, retried


def district_picker(ctx: Ctx, prompt_key: str, **carry: str) -> list[Message]:
    """Ask for the district: typed, or picked from a carousel of all 25 (too many for quick replies)."""
    c = ctx.content
    items = list(c.districts)
    per = 5
    bubbles = []
    for i in range(0, len(items), per):
        chunk = items[i:i + per]
        bubbles.append(bubble(
            t(c, "district_page", first=c.district_name(chunk[0]), last=c.district_name(chunk[-1])), [],
            [button(c.district_name(d), msg.postback_data("pledge.district", d=d.code, **carry), c.district_name(d),
                    style="secondary") for d in chunk]))
    return [
        msg.text(t(c, prompt_key)),
        msg.flex(t(c, "district_alt"), carousel(bubbles), quick=[stop_quick(c)]),
    ]


def ask_district(ctx: Ctx, prompt_key: str, next_step: str | None = None, action_id: str | None = None) -> list[Message]:
    """Open the picker; remember what to do once the district is known."""
    ctx.set_state(DistrictState.AWAIT, next=next_step, action=action_id)
    carry = {k: v for k, v in {"n": next_step, "i": action_id}.items() if v}
    return district_picker(ctx, prompt_key, **carry)


def district_chosen(turn: Turn, ctx: Ctx, district: District, next_step: str | None,
                    action_id: str | None) -> list[Message]:
    """Store the district; then go on with the pledge if that is what the resident was doing."""
    set_user_district(ctx.session, ctx.user, district.code, ctx.now)
    ctx.clear_state()
    c = ctx.content
    saved = msg.text(t(c, "district_saved", district=c.district_name(district)))
    if next_step and next_step != NEXT_PLEDGE and next_step in ctx.registry.postbacks:
        # Another flow asked for the district (n=<its postback action>): it goes on from here.
        return [saved] + ctx.registry.postbacks[next_step](turn, ctx, {})
    if next_step == NEXT_PLEDGE:
        if action_of(c, action_id):
            going_on = ctx.registry.postbacks["pledge.pick"](turn, ctx, {"id": action_id or ""})
        else:
            going_on = ctx.registry.postbacks["pledge.start"](turn, ctx, {})
        # A cancel from here on says the district stays saved (not "nothing was saved").
        ctx.note_saved(t(c, "saved_district", district=c.district_name(district)))
        return [saved] + going_on
    return [msg.text(t(c, "district_saved", district=c.district_name(district)),
                     quick=next_quick(ctx, "start", "stats", "status"))]


def set_district(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """Record which district the household is in, from the words or a picker."""
    district = ctx.content.district_by_name((match.entities or {}).get("district"))
    if district is None:
        return ask_district(ctx, "district_ask")
    return district_chosen(turn, ctx, district, None, None)


TYPO_LETTERS = 14  # longer than this, a text is not a district name with a typo


def typed_district(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A district typed while the picker is open."""
    c = ctx.content
    next_step, action_id = ctx.state_value("next"), ctx.state_value("action")
    match = ctx.matcher.classify(turn.text)
    district = (c.district_by_name((match.entities or {}).get("district"))
                or c.district_by_name(turn.text)
                or c.district_by_name(typo_district(ctx, turn.text)))
    if district is not None:
        return district_chosen(turn, ctx, district, next_step, action_id)
    if match.intent == "set_district":  # "เปลี่ยนอำเภอ" again: the picker is still open
        return [msg.text(t(c, "district_retry"), quick=district_retry_quick(ctx))]
    asked = "?" in turn.text or len(plain(c, turn.text)) > TYPO_LETTERS  # a question, not a district
    if (match.intent != "out_of_scope" and match.confident) or asked or ctx.state_value("retried"):
        ctx.clear_state()  # something else was asked: answer that; the picker's buttons still work
        return None
    # Not a district we know (a typo, another province): ask once more instead of apologising.
    ctx.set_state(DistrictState.AWAIT, next=next_step, action=action_id, retried=True)
    typed = shorten(" ".join(turn.text.split()), 30)
    return [msg.text(t(c, "district_not_found", typed=typed), quick=district_retry_quick(ctx))]


def typo_district(ctx: Ctx, text: str) -> str | None:
    """The district a short answer to "อำเภอไหน" names with a typo ("สันทาย" -> สันทราย), or None."""
    if len(plain(ctx.content, text)) > TYPO_LETTERS:
        return None
    return ctx.matcher.find_district(text, fuzzy=True)


def district_retry_quick(ctx: Ctx) -> list[Message]:
    carry = {k: v for k, v in {"n": ctx.state_value("next"), "i": ctx.state_value("action")}.items() if v}
    label = t(ctx.content, "label.district_list")
    return [msg.qr_postback(label, msg.postback_data("pledge.districts", **carry), label), stop_quick(ctx.content)]


def picked_district(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """A district button tapped."""
    district = ctx.content.district_by_code(params.get("d"))
    if district is None:
        return ask_district(ctx, "district_ask", params.get("n"), params.get("i"))
    return district_chosen(turn, ctx, district, params.get("n"), params.get("i"))


def show_districts(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Open the district picker (going on with a pledge afterwards when n=p)."""
    if params.get("n") == NEXT_PLEDGE:
        action = action_of(ctx.content, params.get("i"))
        return ask_district(ctx, "district_first", NEXT_PLEDGE, action.id if action else None)
    return ask_district(ctx, "district_ask")


def register(registry: Registry) -> None:
    registry.intent(set_district, "set_district")
    registry.state(typed_district, DistrictState.AWAIT)
    registry.postback(picked_district, "pledge.district")
    registry.postback(show_districts, "pledge.districts")
