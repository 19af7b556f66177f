"""Reading the bot's messages as a resident does: what they say, and what can be tapped."""
from __future__ import annotations

from bot.chat import flex_outline


def all_text(messages: list[dict]) -> str:
    """Everything a resident reads in these messages (texts and Flex texts)."""
    out = []
    for m in messages:
        if m["type"] == "text":
            out.append(m["text"])
        elif m["type"] == "flex":
            out.append(m["altText"])
            out += [v for k, v in flex_outline(m["contents"]) if k == "text"]
    return "\n".join(out)


def actions_in(messages: list[dict]) -> list[dict]:
    """Every button and quick reply the resident can tap."""
    out = []
    for m in messages:
        if m["type"] == "flex":
            out += [v for k, v in flex_outline(m["contents"]) if k == "action"]
        out += [i["action"] for i in (m.get("quickReply") or {}).get("items", [])]
    return out
