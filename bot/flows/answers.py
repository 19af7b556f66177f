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
from bot.nlu.bank import OVERVIEW
from bot.nlu.readings import Context, Match
from bot.registry import Registry
from bot.turn import Ctx, Message, Turn
from bot.words import in_words, is_insult, plain

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
    action = content.actions.get(entry.action or "")
    if action is not None:  # an answer about a household action: pledge it, or see what it cuts
        pledge, estimate = content.text("cards.pledge_button"), content.text("cards.estimate_button")
        items.append(msg.qr_postback(pledge, msg.postback_data(msg.PLEDGE_PICK, id=action.id),
                                     f"{pledge}: {action.title}"))
        items.append(msg.qr_postback(estimate, msg.postback_data(msg.ESTIMATE_POSTBACK, id=action.id),
                                     f"{estimate}: {action.title}"))
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
    shown = last.get("entry") or (f"@{last['topic']}" if last.get("topic") and not last.get("entry") else None)
    primary = match.answer or (f"@{match.intent}" if match.intent in c.answers else None)
    if primary is not None and (primary != shown or again):
        if match.answer:
            return answer_entry(ctx, c.entries[match.answer], asked)
        return answer_overview(ctx, match.intent, asked)
    # The same card for a different question: the next entry of the topic the bank finds likely.
    for key, p in match.answers:
        entry = c.entries.get(key)
        if key != shown and entry is not None and entry.topic == match.intent and p >= FOLLOW_MIN \
                and not entry.safety:
            return answer_entry(ctx, entry, asked)
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
    eid = ctx.matcher.emergency(turn.text, ctx.matcher.classify(turn.text))
    entry = ctx.content.entries.get(eid) if eid else None
    if entry is None:
        return None
    return answer_entry(ctx, entry, turn.text)


# --- follow-ups ------------------------------------------------------------------------------------------

FOLLOW_KINDS: tuple[str, ...] = (SOURCES, AMOUNT, *(k.value for k in FollowUp))


def follow_kind(content: Content, text: str) -> tuple[str | None, bool]:
    """Which follow-up a message is ("แล้วเด็กล่ะ" -> kids, "80% นี่เอามาจากไหน" -> sources), or None;
    and whether the whole message is one of core.follow_<kind>'s words (else it holds a match of
    the pattern core.follow_<kind>_in, inside a longer message that may say more)."""
    spaced = " ".join(text.strip().lower().split())
    for kind in FOLLOW_KINDS:
        if in_words(content, f"core.follow_{kind}", text):
            return kind, True
    for kind in FOLLOW_KINDS:
        raw = content.texts.get(f"core.follow_{kind}_in")
        if raw and _pattern(raw).search(spaced):
            return kind, False
    return None, False


def is_about_more(content: Content, text: str) -> bool:
    """"แล้ว…ล่ะ", "what about …": a short question that only makes sense after the last answer."""
    p = plain(content, text)
    if not p or len(p) > 24:
        return False
    return _pattern(content.text("core.follow_about")).fullmatch(" ".join(text.strip().lower().split())) is not None


@functools.lru_cache(maxsize=32)
def _pattern(raw: str) -> re.Pattern[str]:
    return re.compile(raw)


def follow_up(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A follow-up question about the answer just given ("มีที่มาไหม", "แล้วเด็กล่ะ", "why?"),
    within ten minutes of it; None for anything else."""
    last = recent(ctx)
    if not last.get("topic"):
        return None
    c = ctx.content
    kind, whole = follow_kind(c, turn.text)
    if kind is None and not is_about_more(c, turn.text):
        return None
    entry = c.entries.get(last.get("entry", ""))
    topic = last["topic"]
    if kind not in (None, SOURCES) and not whole and names_its_own_answer(turn, ctx, entry):
        return None  # "แจ้งไฟป่าเบอร์อะไร": a question of its own, not about the last answer
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
    if chosen is None and kind == FollowUp.CONTACT.value:  # who to ask, when the answer names no one
        office = c.text("core.ask_office_entry")
        chosen = office if entry is None or office != entry.id else None
    target = c.entries.get(chosen or "")
    if target is not None and whole:  # "แล้วเด็กล่ะ": the entry the answer's content names
        return answer_entry(ctx, target, turn.text)
    # "แล้วลูกต้องไปโรงเรียนไหม": that entry is the likeliest, but the rest of the words may say otherwise
    read = read_in_context(turn, ctx, marked=True, favoured=target.id if target is not None else None)
    return read if read is not None else nothing_more(ctx, topic)


def names_its_own_answer(turn: Turn, ctx: Ctx, entry: Entry | None) -> bool:
    """The matcher alone is sure which entry the message asks, and it is not the one just shown."""
    m = ctx.matcher.classify(turn.text)
    return m.answer is not None and m.confident and m.answer_p >= ctx.matcher.t_entry and (entry is None or m.answer != entry.id)


def in_context(turn: Turn, ctx: Ctx, match: Match) -> list[Message] | None:
    """A question the matcher alone finds vague, or answers with a topic, asked within ten minutes
    of an answer: read as part of that conversation (None: no conversation, or not about it)."""
    if not recent(ctx).get("topic") or is_insult(ctx.content, turn.text):
        return None
    return read_in_context(turn, ctx, marked=False)


def read_in_context(turn: Turn, ctx: Ctx, *, marked: bool, favoured: str | None = None) -> list[Message] | None:
    """The answer to a message read as the next turn after the last answer, or None.

    marked: the message says it follows on ("แล้ว…ล่ะ", "why?"); favoured: the entry the last
    answer names for this kind of follow-up. A safety entry answers only when the last answer
    names it (the asthma answer, then "ถ้ากำเริบล่ะ")."""
    last = recent(ctx)
    topic = last.get("topic")
    if not topic or last.get("q") == question_hash(turn.text):
        return None  # nothing to follow, or the same question again (answered as before)
    c = ctx.content
    entry = c.entries.get(last.get("entry", ""))
    question = (entry.questions[0] if entry and entry.questions else c.ask_of(topic)) or ""
    named = {*entry.related, *entry.follow.values()} if entry else set()
    context = Context(topic, entry.id if entry else f"{OVERVIEW}{topic}", frozenset(named), question,
                      favoured=favoured)
    read = ctx.matcher.in_context(turn.text, context)
    if read is None:
        return None
    if read.topic is not None:  # an overview: another topic's, or out of scope
        if read.topic in c.answers and c.answers[read.topic].informational and read.topic != topic:
            return answer_overview(ctx, read.topic, turn.text)
        return None
    target = c.entries.get(read.key)
    if target is None or (target.safety and target.id not in named and target.id != favoured):
        return None
    return answer_entry(ctx, target, turn.text)


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
    registry.in_context(in_context)
