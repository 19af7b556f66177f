"""Pieces the pledge, check-in, community, district and privacy flows share: their words,
their buttons, and look-ups in the content."""
from __future__ import annotations

from typing import Any

from bot import messages as msg
from bot.content.model import Action, Content
from bot.fmt import shorten
from bot.impact import trees_range
from bot.limits import MAX_CAROUSEL, MAX_LABEL
from bot.turn import Ctx, Message

# Row ids are 32-bit integers (PostgreSQL's INTEGER): a tampered postback may carry any number.
MAX_ROW_ID = 2**31 - 1


def t(content: Content, key: str, **fmt: Any) -> str:
    """A words of the pledge flows (content/texts/pledges.yaml)."""
    return content.text(f"pledges.{key}", **fmt)


def row_id(raw: str | None) -> int | None:
    """A postback's row id, or None when it cannot be one (not a number, out of the column's range)."""
    try:
        n = int((raw or "").strip())
    except ValueError:
        return None
    return n if 1 <= n <= MAX_ROW_ID else None


# --- content look-ups ----------------------------------------------------------------------------

def action_of(content: Content, action_id: str | None) -> Action | None:
    return content.actions.get(action_id) if action_id else None


def title_of(content: Content, action_id: str) -> str:
    a = action_of(content, action_id)
    return a.title if a is not None else action_id


def district_name(content: Content, code: str | None) -> str:
    d = content.district_by_code(code)
    return content.district_name(d) if d else t(content, "district_unknown")


def sectors_in_use(content: Content) -> list[tuple[str, str]]:
    """(sector id, its name) for the sectors that have actions, in catalogue order."""
    seen: list[str] = []
    for a in content.actions.values():
        if a.sector not in seen:
            seen.append(a.sector)
    return [(s, content.sectors.get(s, s)) for s in seen]


def sector_short(content: Content, sid: str) -> str | None:
    """The sector's short name from "pledges.sector_short" ("lulucf=ป่าไม้และที่ดิน|…")."""
    for pair in t(content, "sector_short").split("|"):
        key, _, label = pair.partition("=")
        if key.strip() == sid and label.strip():
            return label.strip()
    return None


def sector_label(content: Content, sid: str, name: str) -> str:
    """A sector's name as a button label: when too long for LINE, its short name from content
    (pledges.sector_short), else the name without its parenthesis."""
    if len(name) > MAX_LABEL:
        name = sector_short(content, sid) or name.split("(")[0].strip() or name
    return shorten(name)


def trees_text(content: Content, kg: float) -> str | None:
    """"as much as 5-8 trees take up in a year", or None under one tree."""
    lo, hi = trees_range(kg, float(t(content, "tree_kg_low")), float(t(content, "tree_kg_high")))
    if hi < 1:
        return None
    return t(content, "trees", low=f"{lo:,}", high=f"{hi:,}") if lo != hi else t(content, "trees_one", n=f"{hi:,}")


# --- buttons and cards -----------------------------------------------------------------------------

def stop_quick(content: Content) -> Message:
    """The ยกเลิก quick reply every step of a flow offers."""
    return msg.qr_postback(t(content, "label.stop"), msg.postback_data("pledge.stop"), t(content, "label.stop"))


def tap(content: Content, label_key: str, action: str) -> Message:
    """A quick reply labelled with pledges.<label_key> that taps postback action (no parameters)."""
    label = t(content, label_key)
    return msg.qr_postback(label, msg.postback_data(action), label)


def next_quick(ctx: Ctx, *keys: str) -> list[Message]:
    """Quick replies to where a resident usually goes next ("start", "status", "stats", "cancel")."""
    return [msg.qr_postback(t(ctx.content, f"label.{k}"), msg.postback_data(f"pledge.{k}"), t(ctx.content, f"label.{k}"))
            for k in keys]


def bubble(title: str, lines: list[tuple[str, str]], buttons: list[Message]) -> Message:
    """A small Flex bubble: a bold title, lines of (text, colour), and buttons."""
    body: list[Message] = [{"type": "text", "text": title, "weight": "bold", "wrap": True}]
    for text_, color in lines:
        if text_:
            body.append({"type": "text", "text": text_, "size": "sm", "wrap": True, "color": color})
    out: Message = {"type": "bubble", "size": "kilo",
                    "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body}}
    if buttons:
        out["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return out


def button(label: str, data: str, display: str | None = None, style: str = "primary") -> Message:
    action: Message = {"type": "postback", "label": shorten(label), "data": data}
    if display:
        action["displayText"] = display
    return {"type": "button", "style": style, "height": "sm", "action": action}


def carousel(bubbles: list[Message]) -> Message:
    return {"type": "carousel", "contents": bubbles[:MAX_CAROUSEL]}


def stop_flow(turn: object, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The ยกเลิก button: leave the flow, saying what it had already recorded (if anything)."""
    saved = ctx.state_value("saved")
    ctx.clear_state()
    body = t(ctx.content, "stopped_after_saving", saved="\n".join(saved)) if saved else t(ctx.content, "stopped")
    return [msg.text(body, quick=msg.topic_quick_replies(ctx.content))]
