"""The dialogue core: one resident's turn in, the messages to send out.

No Flask and no HTTP here. The webhook, the terminal chat and the tests all call handle();
state changes go through ctx.session, which the caller commits together with the event.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as msg
from bot.nlu.normalize import fold_width
from bot.registry import INTENTS, POSTBACKS, STATES, on_intent, on_state
from bot.store.models import UnmatchedText, User

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Turn:
    """What a resident did: typed text, tapped a postback, followed, sent a sticker…"""

    user_id: str
    kind: str  # text, postback, follow, unfollow, sticker, media, location, or other (what LINE adds later)
    text: str = ""
    data: str = ""
    # True in group chats and rooms: nothing may be stored about the members there.
    group: bool = False


@dataclass
class Ctx:
    """Everything a handler may use; passed in so tests can swap any of it."""

    session: Session
    content: Any
    matcher: Any
    now: datetime
    user: User


def find_user(session: Session, line_user_id: str) -> User | None:
    return session.scalar(select(User).where(User.line_user_id == line_user_id))


def load_user(session: Session, line_user_id: str, now: datetime) -> User:
    """The stored user, created on first contact."""
    user = find_user(session, line_user_id)
    if user is None:
        user = User(line_user_id=line_user_id, followed=True, blocked=False, opted_out=False,
                    created_at=now, updated_at=now)
        session.add(user)
        session.flush()
    return user


def handle(turn: Turn, ctx: Ctx) -> list[dict]:
    """Answer one turn of a 1:1 chat."""
    if turn.text:
        turn = dataclasses.replace(turn, text=fold_width(turn.text))
    if turn.group:
        return handle_group(turn, ctx)
    if turn.kind == "follow":
        return on_follow(turn, ctx)
    if turn.kind == "unfollow":
        ctx.user.followed, ctx.user.blocked = False, True
        clear_state(ctx)
        return []  # a block has no reply token
    ctx.user.blocked = False  # whoever writes to us can be written to
    answer = respond(turn, ctx)
    if ctx.user.created_at == ctx.now:
        # First contact without a follow (or right after deleting one's data): say what we keep.
        return [msg.text(ctx.content.text("core.privacy_notice"))] + answer
    return answer


def respond(turn: Turn, ctx: Ctx) -> list[dict]:
    if turn.kind == "postback":
        return on_postback(turn, ctx)
    if turn.kind == "text" and turn.text.strip():
        return on_text(turn, ctx)
    if turn.kind == "text":  # only spaces
        return [msg.text(ctx.content.text("core.small_talk"), quick=msg.topic_quick_replies(ctx.content))]
    return [msg.text(ctx.content.text("core.not_text"), quick=msg.topic_quick_replies(ctx.content))]


def on_follow(turn: Turn, ctx: Ctx) -> list[dict]:
    """Welcome a new friend (or one who unblocked us) and say what we store."""
    ctx.user.followed, ctx.user.blocked = True, False
    c = ctx.content
    return [
        msg.text(c.text("core.welcome")),
        msg.text(c.text("core.privacy_notice"), quick=msg.topic_quick_replies(c)),
    ]


def on_postback(turn: Turn, ctx: Ctx) -> list[dict]:
    """Route a tapped button to the flow that made it."""
    action, params = msg.parse_postback(turn.data)
    handler = POSTBACKS.get(action)
    if handler is None:
        return [msg.text(ctx.content.text("core.postback_unknown"), quick=msg.topic_quick_replies(ctx.content))]
    return handler(turn, ctx, params)


_NOT_A_LETTER = re.compile(r"[^a-z\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e4e]+")


def plain(content: Any, text: str) -> str:
    """The text's letters only (no spaces, emoji, punctuation or digits), lower case, without the
    polite particles it ends with: "ยกเลิกนะคะ 🙏" -> "ยกเลิก", "ได้ครับ" -> "ได้", "ค่ะ" -> ""."""
    return _plain(text, _particles(content.text("core.particles")))


@functools.lru_cache(maxsize=16)
def _particles(raw: str) -> tuple[str, ...]:
    return tuple(sorted({p for p in (x.strip() for x in raw.split("|")) if p}, key=len, reverse=True))


def _plain(text: str, particles: tuple[str, ...]) -> str:
    s = _NOT_A_LETTER.sub("", (text or "").lower())
    changed = True
    while changed and s:
        changed = False
        for p in particles:
            if s.endswith(p) and len(s) > len(p):
                s, changed = s[: -len(p)], True
                break
        else:
            if s in particles:
                s = ""
    return s


def word_set(content: Any, key: str) -> frozenset[str]:
    """A "|"-separated list of content words, in plain() form."""
    return _word_set(content.text(key), content.text("core.particles"))


@functools.lru_cache(maxsize=64)
def _word_set(raw_words: str, raw_particles: str) -> frozenset[str]:
    # Built once per list: these checks run on every message.
    particles = _particles(raw_particles)
    return frozenset(w for w in (_plain(x, particles) for x in raw_words.split("|")) if w)


def is_cancel(content: Any, text: str) -> bool:
    return plain(content, text) in word_set(content, "core.cancel_words")


def is_yes(content: Any, text: str) -> bool:
    """ "ใช่", "ได้ค่ะ", "ยืนยัน", or a bare "ค่ะ"/"ครับ"/"เจ้า" answering a yes-no question."""
    p = plain(content, text)
    if not p:
        return bool(_NOT_A_LETTER.sub("", (text or "").lower()))  # only particles: a polite yes
    return p in word_set(content, "core.yes_words")


def is_no(content: Any, text: str) -> bool:
    return plain(content, text) in word_set(content, "core.no_words")


def is_small_talk(content: Any, text: str) -> bool:
    """Only emoji, punctuation, laughter or an acknowledgement ("โอเค", "ค่ะ", "555"): nothing to answer."""
    p = plain(content, text)
    return not p or p in word_set(content, "core.ack_words") or bool(re.fullmatch(r"[5๕\s]+", text.strip()))


def clear_state(ctx: Ctx) -> None:
    ctx.user.state = None
    ctx.user.state_data = None


def on_text(turn: Turn, ctx: Ctx) -> list[dict]:
    """Understand typed Thai and answer it, or ask what was meant."""
    c = ctx.content
    if is_cancel(c, turn.text):
        had_state = ctx.user.state is not None
        clear_state(ctx)
        key = "core.cancelled" if had_state else "core.nothing_to_cancel"
        return [msg.text(c.text(key), quick=msg.topic_quick_replies(c))]
    if ctx.user.state:
        state_handler = STATES.get(ctx.user.state)
        if state_handler is None:
            clear_state(ctx)  # a state from an older version of the bot
        else:
            answer = state_handler(turn, ctx)
            if answer is not None:
                return answer
    if is_small_talk(c, turn.text):
        return [msg.text(c.text("core.small_talk"), quick=msg.topic_quick_replies(c))]
    if is_no(c, turn.text):
        return [msg.text(c.text("core.not_that"), quick=msg.topic_quick_replies(c))]
    match = ctx.matcher.classify(turn.text)
    if match.intent == "out_of_scope":
        remember_unmatched(ctx, turn.text, match)
        return fallback(ctx)
    if not match.confident:
        remember_unmatched(ctx, turn.text, match)
        return did_you_mean(ctx, match)
    return answer_intent(turn, ctx, match)


def answer_intent(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    handler = INTENTS.get(match.intent)
    if handler is not None:
        return handler(turn, ctx, match)
    if match.intent in ctx.content.answers:
        return msg.answer_messages(ctx.content, match.intent)
    log.warning("intent without an answer or flow: %s", match.intent)
    return fallback(ctx)


def fallback(ctx: Ctx) -> list[dict]:
    return [msg.text(ctx.content.text("core.fallback"), quick=msg.topic_quick_replies(ctx.content))]


def did_you_mean(ctx: Ctx, match: Any) -> list[dict]:
    """Ask "did you mean …?" instead of answering the wrong question."""
    c = ctx.content
    candidates = [match.intent] + [i for i, _ in match.alternatives]
    picked: list[tuple[str, dict]] = []
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
    # "ใช่" answers the first guess (state S_DID_YOU_MEAN); anything else is read afresh.
    ctx.user.state, ctx.user.state_data = S_DID_YOU_MEAN, {"i": picked[0][0]}
    first = items[0]["action"]["label"]
    return [msg.text(c.text("core.did_you_mean", topic=first), quick=(items + rest)[:13])]


S_DID_YOU_MEAN = "core.did_you_mean"


@on_state(S_DID_YOU_MEAN)
def did_you_mean_reply(turn: Turn, ctx: Ctx) -> list[dict] | None:
    """ "ใช่" after "หมายถึง … ใช่ไหม": answer that topic; "ไม่ใช่": ask again; anything else: read it."""
    intent = (ctx.user.state_data or {}).get("i")
    clear_state(ctx)
    if intent and is_yes(ctx.content, turn.text):
        from bot.nlu.matcher import Match

        return answer_intent(turn, ctx, Match(intent=intent, score=1.0, entities={}))
    if is_no(ctx.content, turn.text):
        return [msg.text(ctx.content.text("core.not_that"), quick=msg.topic_quick_replies(ctx.content))]
    return None


def remember_unmatched(ctx: Ctx, text: str, match: Any) -> None:
    """Keep the words (never who wrote them) so content authors can add answers."""
    ctx.session.add(UnmatchedText(text=text.strip()[:500], intent=match.intent, score=float(match.score),
                                  created_at=ctx.now))


def handle_group(turn: Turn, ctx: Ctx) -> list[dict]:
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
    match = ctx.matcher.classify(turn.text)
    if match.confident and match.intent in c.answers:
        return _without_quick_replies(msg.answer_messages(c, match.intent))
    return [msg.text(c.text("core.group_private_only"))]


def _without_quick_replies(messages: list[dict]) -> list[dict]:
    """Quick replies send text without tagging the bot, which it ignores in a group: offer none there."""
    return [{k: v for k, v in m.items() if k != "quickReply"} for m in messages]


@on_intent("broadcast_optout")
def broadcast_optout(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Stop campaign broadcasts for this resident, at once."""
    key = "core.optout_already" if ctx.user.opted_out else "core.optout_done"
    ctx.user.opted_out = True
    return [msg.text(ctx.content.text(key),
                     quick=[q for q in [msg.intent_quick_reply(ctx.content, "broadcast_optin")] if q])]


@on_intent("broadcast_optin")
def broadcast_optin(turn: Turn, ctx: Ctx, match: Any) -> list[dict]:
    """Start campaign broadcasts again."""
    key = "core.optin_done" if ctx.user.opted_out else "core.optin_already"
    ctx.user.opted_out = False
    return [msg.text(ctx.content.text(key), quick=msg.topic_quick_replies(ctx.content))]
