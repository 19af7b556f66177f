"""The dialogue core: one resident's turn in, the messages to send out.

No Flask and no HTTP here. The webhook, the terminal chat and the tests all reach it through
bot.deps.run_turn; state changes go through ctx.session, which the caller commits together
with the event. Flows answer intents, postbacks and states through the registry.
"""
from __future__ import annotations

import dataclasses
import logging
from enum import StrEnum

from bot import messages as msg
from bot.content.model import Content, Lang
from bot.nlu.normalize import fold_width
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.requests import two_requests
from bot.store.models import UnmatchedText
from bot.store.taps import CAMPAIGN_PARAM, record_tap
from bot.turn import Ctx, Message, Turn
from bot.words import in_words, is_cancel, is_insult, is_no, is_small_talk, is_yes

log = logging.getLogger(__name__)


class CoreState(StrEnum):
    DID_YOU_MEAN = "core.did_you_mean"  # data: intent (the first guess)


def handle(turn: Turn, ctx: Ctx) -> list[Message]:
    """Answer one turn of a 1:1 chat (or a group's mention)."""
    if turn.text:
        turn = dataclasses.replace(turn, text=fold_width(turn.text))
    choose_language(turn, ctx)
    if turn.group:
        return handle_group(turn, ctx)
    if turn.kind == "follow":
        return on_follow(turn, ctx)
    if turn.kind == "unfollow":
        ctx.user.followed, ctx.user.blocked = False, True
        ctx.clear_state()
        return []  # a block has no reply token
    ctx.user.blocked = False  # whoever writes to us can be written to
    answer = respond(turn, ctx)
    if ctx.user.created_at == ctx.now:
        # First contact without a follow (or right after deleting one's data): say what we keep.
        return [msg.text(ctx.content.text("core.privacy_notice"))] + still_opted_out(ctx) + answer
    return answer


def choose_language(turn: Turn, ctx: Ctx) -> None:
    """Answer in the language the resident writes, and remember it for buttons and broadcasts."""
    lang = ctx.user.lang
    if turn.kind == "text":
        lang = ctx.matcher.language.of(turn.text, lang)
    if not turn.group and lang != ctx.user.lang:
        ctx.user.lang = lang
    ctx.content = ctx.contents.of(lang)


def switch_language(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """ "English please" / "ภาษาไทย": answer in that language from now on."""
    for lang in (Lang.EN, Lang.TH):
        if in_words(ctx.contents.of(lang), "core.lang_words", turn.text) or \
                in_words(ctx.contents.of(other(lang)), "core.lang_words_other", turn.text):
            ctx.user.lang = lang
            ctx.content = ctx.contents.of(lang)
            return [msg.text(ctx.content.text("core.lang_now"), quick=msg.topic_quick_replies(ctx.content))]
    return None


def other(lang: Lang) -> Lang:
    return Lang.TH if lang == Lang.EN else Lang.EN


def still_opted_out(ctx: Ctx) -> list[Message]:
    """A returning resident on the suppression list is told that news stays stopped, and how to restart it."""
    if ctx.user.created_at == ctx.now and ctx.user.opted_out:
        return [msg.text(ctx.content.text("core.still_opted_out"))]
    return []


def respond(turn: Turn, ctx: Ctx) -> list[Message]:
    if turn.kind == "postback":
        return on_postback(turn, ctx)
    if turn.kind == "text" and turn.text.strip():
        return on_text(turn, ctx)
    if turn.kind == "text":  # only spaces
        return [msg.text(ctx.content.text("core.small_talk"), quick=msg.topic_quick_replies(ctx.content))]
    kind_handler = ctx.registry.kinds.get(turn.kind)
    if kind_handler is not None:
        answer = kind_handler(turn, ctx)
        if answer is not None:
            return answer
    return [msg.text(ctx.content.text("core.not_text"), quick=msg.topic_quick_replies(ctx.content))]


def on_follow(turn: Turn, ctx: Ctx) -> list[Message]:
    """Welcome a new friend (or one who unblocked us) and say what we store."""
    ctx.user.followed, ctx.user.blocked = True, False
    c = ctx.content
    return [
        msg.text(c.text("core.welcome")),
        msg.text(c.text("core.privacy_notice"), quick=msg.topic_quick_replies(c)),
    ] + still_opted_out(ctx)


def on_postback(turn: Turn, ctx: Ctx) -> list[Message]:
    """Route a tapped button to the flow that made it."""
    action, params = msg.parse_postback(turn.data)
    campaign_id = params.pop(CAMPAIGN_PARAM, None)
    if campaign_id is not None:  # a campaign's button: count the tap, never who tapped
        record_tap(ctx.session, campaign_id, action)
    handler = ctx.registry.postbacks.get(action)
    if handler is None:
        return [msg.text(ctx.content.text("core.postback_unknown"), quick=msg.topic_quick_replies(ctx.content))]
    return handler(turn, ctx, params)


def on_text(turn: Turn, ctx: Ctx) -> list[Message]:
    """Understand typed words and answer them, or ask what was meant."""
    c = ctx.content
    for first in ctx.registry.first_hooks:
        urgent = first(turn, ctx)
        if urgent is not None:
            return urgent
    switched = switch_language(turn, ctx)
    if switched is not None:
        return switched
    if is_cancel(c, turn.text):
        had_state = ctx.user.state is not None
        saved = ctx.state_value("saved")
        ctx.clear_state()
        if saved:  # say exactly what this flow already recorded
            body = c.text("pledges.stopped_after_saving", saved="\n".join(saved))
        else:
            body = c.text("core.cancelled" if had_state else "core.nothing_to_cancel")
        return [msg.text(body, quick=msg.topic_quick_replies(c))]
    if ctx.user.state:
        state_handler = ctx.registry.states.get(ctx.user.state)
        if state_handler is None:
            ctx.clear_state()  # a state from an older version of the bot
        else:
            answer = state_handler(turn, ctx)
            if answer is not None:
                return answer
    if is_small_talk(c, turn.text):
        return [msg.text(c.text("core.small_talk"), quick=msg.topic_quick_replies(c))]
    for hook in ctx.registry.text_hooks:
        hooked = hook(turn, ctx)
        if hooked is not None:
            return hooked
    if is_no(c, turn.text):
        return [msg.text(c.text("core.not_that"), quick=msg.topic_quick_replies(c))]
    if is_insult(c, turn.text):  # rude words and little else: a calm word, not "did you mean"
        remember_unmatched(ctx, turn.text, ctx.matcher.classify(turn.text))
        return [msg.text(c.text("core.insult_reply"), quick=msg.topic_quick_replies(c))]
    both = two_requests(turn, ctx, answer_intent)
    if both is not None:
        return both
    match = ctx.matcher.classify(turn.text)
    if ctx.registry.context_reader is not None and not match.settled and (
            not match.confident or match.intent == "out_of_scope" or is_topic(ctx.content, match.intent)):
        read = ctx.registry.context_reader(turn, ctx, match)  # "ได้ผลไหม" after an answer: about it
        if read is not None:
            return read
    if match.intent == "out_of_scope" and match.answer and ctx.registry.topic_answer is not None:
        return ctx.registry.topic_answer(turn, ctx, match)  # outside the campaign, but the bank knows who can help
    if match.intent == "out_of_scope":
        remember_unmatched(ctx, turn.text, match)
        return fallback(ctx)
    if not match.confident:
        remember_unmatched(ctx, turn.text, match)
        return did_you_mean(ctx, match)
    return answer_intent(turn, ctx, match)


def is_topic(content: Content, intent: str) -> bool:
    """An informational topic (climate, haze, tips…), not a flow or a greeting."""
    answer = content.answers.get(intent)
    return answer is not None and answer.informational


def answer_intent(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    handler = ctx.registry.intents.get(match.intent)
    if handler is not None:
        return handler(turn, ctx, match)
    if match.intent in ctx.content.answers:
        if ctx.registry.topic_answer is not None:
            return ctx.registry.topic_answer(turn, ctx, match)
        return msg.answer_messages(ctx.content, match.intent)
    log.warning("intent without an answer or flow: %s", match.intent)
    return fallback(ctx)


def fallback(ctx: Ctx) -> list[Message]:
    return [msg.text(ctx.content.text("core.fallback"), quick=msg.topic_quick_replies(ctx.content))]


def did_you_mean(ctx: Ctx, match: Match) -> list[Message]:
    """Ask "did you mean …?" instead of answering the wrong question."""
    c = ctx.content
    candidates = [match.intent] + [i for i, _ in match.alternatives]
    picked: list[tuple[str, Message]] = []
    for i in candidates:
        q = msg.intent_quick_reply(c, i) if i != "out_of_scope" else None
        if q and all(q["action"]["label"] != p["action"]["label"] for _, p in picked):
            picked.append((i, q))
    picked = picked[:3]
    if not picked:
        return fallback(ctx)
    items = [q for _, q in picked]
    labels = {q["action"]["label"] for q in items}
    rest = [q for q in msg.topic_quick_replies(c) if q["action"]["label"] not in labels]
    # "ใช่" answers the first guess; anything else is read afresh.
    ctx.set_state(CoreState.DID_YOU_MEAN, intent=picked[0][0])
    first = items[0]["action"]["label"]
    return [msg.text(c.text("core.did_you_mean", topic=first), quick=(items + rest)[:13])]


def did_you_mean_reply(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """ "ใช่" after "หมายถึง … ใช่ไหม": answer that topic; "ไม่ใช่": ask again; anything else: read it."""
    intent = ctx.state_value("intent")
    ctx.clear_state()
    if intent and is_yes(ctx.content, turn.text):
        return answer_intent(turn, ctx, Match(intent=str(intent), score=1.0, entities={}))
    if is_no(ctx.content, turn.text):
        return [msg.text(ctx.content.text("core.not_that"), quick=msg.topic_quick_replies(ctx.content))]
    return None


def remember_unmatched(ctx: Ctx, text: str, match: Match) -> None:
    """Keep the words (never who wrote them) so content authors can add answers."""
    ctx.session.add(UnmatchedText(text=text.strip()[:500], intent=match.intent, score=float(match.score),
                                  created_at=ctx.now))


def handle_group(turn: Turn, ctx: Ctx) -> list[Message]:
    """In a group or room: answer informational questions only, store nothing about anyone."""
    c = ctx.content
    if turn.kind == "follow":  # joined the group
        return [msg.text(c.text("core.group_hello"))]
    if turn.kind == "postback":  # a button on a card shown in the group
        action, params = msg.parse_postback(turn.data)
        if action == msg.ESTIMATE_POSTBACK:  # how a number was worked out: nothing personal
            return _without_quick_replies(msg.estimate_messages(c, params.get("id", "")))
        return [msg.text(c.text("core.group_private_only"))]
    if turn.kind != "text":
        return []
    if is_small_talk(c, turn.text):  # only the bot tagged (or an emoji): say how to use it here
        return [msg.text(c.text("core.group_hello"))]
    for first in ctx.registry.first_hooks:  # an emergency told in the group: the numbers to call
        urgent = first(turn, ctx)
        if urgent is not None:
            return _without_quick_replies(urgent)
    match = ctx.matcher.classify(turn.text)
    if (match.confident and is_topic(c, match.intent)) or (match.intent == "out_of_scope" and match.answer):
        if ctx.registry.topic_answer is not None:  # its bank entry, or the overview (the group's
            # throwaway user keeps no conversation: nothing is stored)
            return _without_quick_replies(ctx.registry.topic_answer(turn, ctx, match))
        return _without_quick_replies(msg.answer_messages(c, match.intent))
    if match.confident and match.intent in c.answers:  # a greeting or thanks
        return _without_quick_replies(msg.answer_messages(c, match.intent))
    return [msg.text(c.text("core.group_private_only"))]


def _without_quick_replies(messages: list[Message]) -> list[Message]:
    """Quick replies that send text or a postback need the bot tagged, which a group's tap does not
    do: offer none of those there; a call button (tel:) still works, so it stays."""
    out = []
    for m in messages:
        items = [q for q in (m.get("quickReply") or {}).get("items", []) if q.get("action", {}).get("type") == "uri"]
        m = {k: v for k, v in m.items() if k != "quickReply"}
        if items:
            m["quickReply"] = {"items": items}
        out.append(m)
    return out


def register(registry: Registry) -> None:
    registry.state(did_you_mean_reply, CoreState.DID_YOU_MEAN)
