"""Answers about topics that open something more: how an action's number was worked out."""
from __future__ import annotations

from bot import messages as msg
from bot.registry import Registry
from bot.turn import Ctx, Message, Turn


def show_estimate(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Show how an action's yearly estimate was worked out, with its assumptions and source."""
    out = msg.estimate_messages(ctx.content, params.get("id", ""))
    return out or [msg.text(ctx.content.text("core.postback_unknown"), quick=msg.topic_quick_replies(ctx.content))]


def register(registry: Registry) -> None:
    registry.postback(show_estimate, msg.ESTIMATE_POSTBACK)
