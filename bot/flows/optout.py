"""Stopping and restarting the campaign's broadcasts, by words or by the button under a broadcast."""
from __future__ import annotations

from bot import messages as msg
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.users import set_suppressed
from bot.turn import Ctx, Message, Turn

# The button under every campaign message (bot/campaigns/compose.py puts it there).
OPTOUT_POSTBACK = "optout"


def broadcast_optout(turn: Turn, ctx: Ctx, match: Match | None = None) -> list[Message]:
    """Stop campaign broadcasts for this resident, at once."""
    key = "core.optout_already" if ctx.user.opted_out else "core.optout_done"
    ctx.user.opted_out = True
    return [msg.text(ctx.content.text(key),
                     quick=[q for q in [msg.intent_quick_reply(ctx.content, "broadcast_optin")] if q])]


def broadcast_optin(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """Start campaign broadcasts again."""
    key = "core.optin_done" if ctx.user.opted_out else "core.optin_already"
    ctx.user.opted_out = False
    set_suppressed(ctx.session, ctx.user.line_user_id, False, ctx.now)  # a returning resident opts in again
    return [msg.text(ctx.content.text(key), quick=msg.topic_quick_replies(ctx.content))]


def optout_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "หยุดรับข่าวสาร" button under a campaign message: stop broadcasts at once."""
    return broadcast_optout(turn, ctx)


def register(registry: Registry) -> None:
    registry.intent(broadcast_optout, "broadcast_optout")
    registry.intent(broadcast_optin, "broadcast_optin")
    registry.postback(optout_tap, OPTOUT_POSTBACK)
