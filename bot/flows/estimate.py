"""How much an action cuts, for the amount a resident names: "ปลูกต้นไม้ 10 ต้นดูดคาร์บอนได้เท่าไหร่",
or "ลดได้เท่าไหร่" / "ถ้า 20 ต้นล่ะ" just after an action's card. The answer is the action's own
formula with that amount in it, the arithmetic shown, and where the factor comes from."""
from __future__ import annotations

from bot import messages as msg
from bot.content.model import Action, Content
from bot.flows.answers import recent, remember
from bot.flows.quantity import bounds_text, impact_lines, read_quantity
from bot.registry import Registry
from bot.turn import Ctx, Message, Turn
from bot.words import plain


def asks_how_much(content: Content, text: str) -> bool:
    """The message asks an amount ("เท่าไหร่", "กี่กิโล", "how much")."""
    p = plain(content, text) or text.lower()
    low = text.lower()
    return any(w and (w in p or w in low) for w in content.text("core.how_much_words").split("|"))


def estimate_answer(ctx: Ctx, action: Action, text: str) -> list[Message]:
    """The action's estimate for the amount in text (the catalogue's amount when none is named)."""
    c = ctx.content
    quantity = None
    if action.quantity is not None:
        reading = read_quantity(c, action.quantity, text)
        if reading is not None and reading.value is None:
            return [msg.text(bounds_text(c, action, reading.problem or "quantity_bounds"),
                             quick=msg.topic_quick_replies(c))]
        quantity = reading.value if reading is not None else None
    body = c.text("core.estimate_answer", title=action.title, impact=impact_lines(c, action, quantity),
                  source_url=action.source_url)
    remember(ctx, topic=action.topic, action=action.id)
    quick = [q for q in (msg.intent_quick_reply(c, action.topic), msg.intent_quick_reply(c, "pledge_start")) if q]
    return [msg.text(body, quick=quick)]


def amount_question(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """An amount asked of a named action, or of the action just shown (within ten minutes)."""
    c = ctx.content
    if not asks_how_much(c, turn.text):
        return another_amount(turn, ctx)
    action = c.actions.get(ctx.matcher.find_action(turn.text) or "")
    if action is None:
        last = recent(ctx).get("action")
        action = c.actions.get(last or "")
        if action is None or len(plain(c, turn.text)) > 30:
            return None  # no action in sight, or a whole new question
    if action.kg_co2e_year is None:
        return None  # no sourced number: the matcher's answer (or the card's reason) says why
    return estimate_answer(ctx, action, turn.text)


def another_amount(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """"แล้วถ้า 20 ต้นล่ะ" just after an estimate: the same action for that amount."""
    action = ctx.content.actions.get(recent(ctx).get("action") or "")
    if action is None or action.quantity is None or action.kg_co2e_year is None:
        return None
    if len(plain(ctx.content, turn.text)) > 20:
        return None
    reading = read_quantity(ctx.content, action.quantity, turn.text, unit_required=True)
    if reading is None:
        return None
    return estimate_answer(ctx, action, turn.text)


def register(registry: Registry) -> None:
    registry.text_hook(amount_question)
