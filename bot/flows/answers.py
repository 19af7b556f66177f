"""Answering questions: a question-bank entry, a topic's overview, follow-ups, emergencies.

The matcher names the entry a question asks (or none: the topic's overview answers). The answer
is remembered in the resident's conversation context (ids and a short hash of the question,
never the words) for ten minutes, so that "แล้วเด็กล่ะ", "ทำไม", "มีที่มาไหม" or "ลดได้เท่าไหร่"
are read against it, and so that a different question is never answered with the card that was
just sent. Symptoms and emergencies are answered before anything else, with the numbers to call.
"""
from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime, timedelta

from bot import messages as msg
from bot.clock import as_utc
from bot.content.model import Content, Entry, FollowUp
from bot.limits import MAX_QUICK_REPLIES
from bot.nlu.matcher import Match
from bot.registry import Registry
from bot.turn import Ctx, Message, Turn
from bot.words import in_words, plain

# How long an answer stays the subject of follow-up questions.
CONTEXT_LIFETIME = timedelta(minutes=10)
# A follow-up is read against the entry just shown when the bank is at least this sure.
FOLLOW_MIN = 0.15
SOURCES = "sources"
AMOUNT = "amount"
_HOTLINE = re.compile(r"(?<!\d)(1\d{2,3})(?!\d)")


# --- the conversation's context --------------------------------------------------------------------

def question_hash(text: str) -> str:
    """A short fingerprint of a question: enough to tell "the same question again" from another one."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:8]


def remember(ctx: Ctx, *, entry: str | None = None, topic: str | None = None, action: str | None = None,
             question: str | None = None) -> None:
    """Keep what was just answered (ids only) as the subject of follow-up questions."""
    ctx.user.context = {k: v for k, v in {
        "entry": entry, "topic": topic, "action": action, "q": question_hash(question) if question else None,
        "at": ctx.now.isoformat()}.items() if v is not None}


def recent(ctx: Ctx) -> dict[str, str]:
    """What was answered within the last ten minutes, or {}."""
    c = ctx.user.context or {}
    try:
        at = as_utc(datetime.fromisoformat(str(c.get("at"))))
    except ValueError:
        return {}
    if ctx.now - at > CONTEXT_LIFETIME:
        return {}
    return {k: str(v) for k, v in c.items()}


# --- answers -------------------------------------------------------------------------------------------

def call_buttons(content: Content, entry: Entry) -> list[Message]:
    """Quick replies that dial the hotlines an emergency answer names ("โทร 1669")."""
    numbers = dict.fromkeys(_HOTLINE.findall(entry.text))
    return [{"type": "action", "action": {"type": "uri", "label": content.text("core.call_label", number=n),
                                          "uri": f"tel:{n}"}} for n in numbers][:4]


def entry_quick_replies(content: Content, entry: Entry) -> list[Message]:
    """The entries it relates to, then its topic's overview and the main topics."""
    items = call_buttons(content, entry) if entry.safety else []
    for rid in entry.related:
        r = content.entries.get(rid)
        if r is not None and r.ask:
            items.append(msg.qr_text(r.label, r.ask))
    overview = msg.intent_quick_reply(content, entry.topic)
    if overview:
        items.append(overview)
    labels: set[str] = set()
    out = []
    for q in items + msg.topic_quick_replies(content):
        label = q["action"].get("label")
        if label not in labels:
            labels.add(label)
            out.append(q)
    return out[:MAX_QUICK_REPLIES]


def entry_messages(content: Content, entry: Entry) -> list[Message]:
    """An entry's answer with where it comes from, and what to ask next."""
    body = entry.text + "\n\n" + "\n".join(content.text("cards.source_line", title=s.title, url=s.url)
                                           for s in entry.sources[:3])
    return [msg.text(body, quick=entry_quick_replies(content, entry))]


def answer_entry(ctx: Ctx, entry: Entry, question: str | None) -> list[Message]:
    remember(ctx, entry=entry.id, topic=entry.topic, action=entry.action, question=question)
    return entry_messages(ctx.content, entry)


def answer_overview(ctx: Ctx, topic: str, question: str | None) -> list[Message]:
    remember(ctx, topic=topic, question=question)
    return msg.answer_messages(ctx.content, topic)


def answer_topic(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """An informational question: its bank entry, or the topic's overview; never the card just sent
    for a different question (the next best entry instead, or a plain word on what is not known)."""
    c = ctx.content
    last = recent(ctx)
    asked = turn.text or None
    again = bool(asked) and last.get("q") == question_hash(asked or "")
    choices = [m for m in ([match.answer] if match.answer else [])]
    choices += [k for k, p in match.answers if k != match.answer and not k.startswith("@") and p >= FOLLOW_MIN
                and c.entries.get(k) is not None and c.entries[k].topic == match.intent]
    shown = last.get("entry") or (f"@{last['topic']}" if last.get("topic") and not last.get("entry") else None)
    for key in choices:
        if key != shown or again:
            return answer_entry(ctx, c.entries[key], asked)
    overview = f"@{match.intent}"
    if not choices and (overview != shown or again) and match.intent in c.answers:
        return answer_overview(ctx, match.intent, asked)
    return nothing_more(ctx, match.intent)


def nothing_more(ctx: Ctx, topic: str) -> list[Message]:
    """Say plainly that the bot has no more specific answer, and where to ask."""
    c = ctx.content
    quick = []
    contact = c.entries.get(c.text("core.ask_office_entry"))
    if contact is not None:
        quick.append(msg.qr_text(contact.label, contact.ask))
    quick += msg.topic_quick_replies(c)
    return [msg.text(c.text("core.nothing_more", topic=c.label_of(topic) or topic), quick=quick[:MAX_QUICK_REPLIES])]


# --- emergencies -----------------------------------------------------------------------------------

def emergency(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A symptom or an emergency happening now: its answer and the numbers to call, before anything else."""
    eid = ctx.matcher.emergency(turn.text)
    entry = ctx.content.entries.get(eid) if eid else None
    if entry is None:
        return None
    return answer_entry(ctx, entry, turn.text)


# --- follow-ups ------------------------------------------------------------------------------------------

FOLLOW_KINDS: tuple[str, ...] = (*(k.value for k in FollowUp), SOURCES, AMOUNT)


def follow_kind(content: Content, text: str) -> str | None:
    """Which follow-up a short message is ("แล้วเด็กล่ะ" -> kids), or None."""
    for kind in FOLLOW_KINDS:
        if in_words(content, f"core.follow_{kind}", text):
            return kind
    return None


def is_about_more(content: Content, text: str) -> bool:
    """"แล้ว…ล่ะ", "what about …": a short question that only makes sense after the last answer."""
    p = plain(content, text)
    if not p or len(p) > 24:
        return False
    return _pattern(content.text("core.follow_about")).fullmatch(" ".join(text.strip().lower().split())) is not None


@functools.lru_cache(maxsize=8)
def _pattern(raw: str) -> re.Pattern[str]:
    return re.compile(raw)


def follow_up(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A follow-up question about the answer just given, within ten minutes of it; None otherwise."""
    last = recent(ctx)
    if not last.get("topic"):
        return None
    c = ctx.content
    kind = follow_kind(c, turn.text)
    if kind is None and not is_about_more(c, turn.text):
        return None
    entry = c.entries.get(last.get("entry", ""))
    topic = last["topic"]
    if kind == SOURCES:
        sources = entry.sources if entry else (c.answers[topic].sources if topic in c.answers else ())
        lines = [c.text("cards.source_line", title=s.title, url=s.url) for s in sources]
        return [msg.text(c.text("core.follow_sources_head") + "\n\n" + "\n\n".join(lines), quick=msg.topic_quick_replies(c))]
    if kind == AMOUNT:
        action = last.get("action") or (entry.action if entry else None)
        if action and action in c.actions:
            return msg.estimate_messages(c, action)
        return None  # the matcher reads "ลดได้เท่าไหร่" on its own (status, community, an action)
    chosen = None
    if kind is not None and entry is not None and FollowUp(kind) in entry.follow:
        chosen = entry.follow[FollowUp(kind)]
    elif kind is not None and entry is None and topic in c.answers:
        chosen = c.answers[topic].follow.get(kind)  # after an overview: the entry its content names
    target = c.entries.get(chosen or "")
    if target is not None:
        return answer_entry(ctx, target, turn.text)
    # Read the follow-up together with what it follows, among that topic's entries.
    base = entry.questions[0] if entry and entry.questions else (c.ask_of(topic) or "")
    only = {e.id for e in c.entries.values() if e.topic == topic and (entry is None or e.id != entry.id)}
    for key, p in ctx.matcher.rank_entries(f"{turn.text} {base}", only=only):
        target = c.entries.get(key)
        if target is not None and p >= FOLLOW_MIN:
            return answer_entry(ctx, target, turn.text)
    return nothing_more(ctx, topic)


def show_estimate(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Show how an action's yearly estimate was worked out, with its assumptions and source."""
    out = msg.estimate_messages(ctx.content, params.get("id", ""))
    if out:
        remember(ctx, topic=ctx.content.actions[params["id"]].topic, action=params["id"])
    return out or [msg.text(ctx.content.text("core.postback_unknown"), quick=msg.topic_quick_replies(ctx.content))]


def register(registry: Registry) -> None:
    registry.postback(show_estimate, msg.ESTIMATE_POSTBACK)
    registry.first_hook(emergency)
    registry.text_hook(follow_up)
    registry.topics(answer_topic)
