"""Check-in answers typed instead of tapped: "ทำแล้ว", "ยังไม่ได้ทำ ฝนตก", and corrections such as
"จริงๆ ทำแล้วนะ ขอแก้" or "แก้เป็นยังไม่ได้ทำ", for this week or last week.

They are read only while a check-in is open (the status card or a check-in answer was just shown,
CheckinState.OPEN) or in the week a reminder went out, before the language matcher, which would
read "ขอแก้" as a wish to withdraw a pledge.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from bot import messages as msg
from bot.clock import as_utc
from bot.content.model import Content
from bot.flows.checkin import CheckinState, answer_word, fix_quick, record_answer, with_milestones
from bot.flows.common import next_quick, row_id, t, title_of
from bot.impact import WEEK, current_week_start
from bot.limits import MAX_LABEL, MAX_QUICK_REPLIES
from bot.registry import Registry
from bot.store.models import Pledge
from bot.store.pledges import active_pledges, checkins_of
from bot.store.users import lock_user
from bot.turn import Ctx, Message, Turn

_THAI_OR_LETTER = re.compile(r"[^a-z\u0e01-\u0e4e]+")
_ASCII_WORD = re.compile(r"[^a-z ]+")


@dataclass(frozen=True)
class TypedAnswer:
    done: bool
    last_week: bool = False  # "สัปดาห์ที่แล้ว"
    fix: bool = False        # a correction of the answer just given
    all: bool = False        # "ทุกข้อ"


@functools.lru_cache(maxsize=64)
def _phrases(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Thai phrases without spaces, English phrases as space-padded words)."""
    thai, english = [], []
    for p in (x.strip().lower() for x in raw.split("|")):
        if not p:
            continue
        if re.search(r"[\u0e01-\u0e4e]", p):
            thai.append(_THAI_OR_LETTER.sub("", p))
        else:
            english.append(" " + " ".join(_ASCII_WORD.sub("", p.replace("'", "")).split()) + " ")
    return tuple(thai), tuple(english)


def has_phrase(content: Content, key: str, text: str) -> bool:
    """The text contains one of the phrases listed under content key: Thai anywhere (spaces and
    punctuation ignored), English as whole words ("all" is not in "actually")."""
    thai, english = _phrases(content.text(key))
    low = (text or "").lower()
    squeezed = _THAI_OR_LETTER.sub("", low)
    words = " " + " ".join(_ASCII_WORD.sub(" ", low.replace("'", "").replace("’", "")).split()) + " "
    return any(p and p in squeezed for p in thai) or any(p.strip() and p in words for p in english)


def read_answer(content: Content, text: str) -> TypedAnswer | None:
    """What a typed check-in answer says, or None when it is not one (a question, anything else)."""
    if len(text) > 120 or "?" in text or has_phrase(content, "pledges.question_words", text):
        return None
    if has_phrase(content, "pledges.checkin_not_done_words", text):
        done = False
    elif has_phrase(content, "pledges.checkin_done_words", text):
        done = True
    else:
        return None
    return TypedAnswer(done=done, last_week=has_phrase(content, "pledges.checkin_last_week_words", text),
                       fix=has_phrase(content, "pledges.checkin_fix_words", text),
                       all=has_phrase(content, "pledges.checkin_all_words", text))


def typed_while_open(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """Words typed while a check-in is open: an answer or a correction; anything else goes on to the matcher."""
    answer = read_answer(ctx.content, turn.text)
    if answer is None:
        ctx.clear_state()
        return None
    try:
        week = date.fromisoformat(str(ctx.state_value("week") or ""))
    except ValueError:
        week = current_week_start(ctx.now)
    return answer_typed(turn, ctx, answer, week, row_id(str(ctx.state_value("last") or "")))


def typed_after_reminder(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """In the week a reminder went out, "ทำแล้ว" typed out of the blue answers it."""
    this_week = current_week_start(ctx.now)
    if ctx.user.state is not None or ctx.user.reminded_week != this_week:
        return None
    answer = read_answer(ctx.content, turn.text)
    if answer is None:
        return None
    return answer_typed(turn, ctx, answer, this_week, None)


def answer_typed(turn: Turn, ctx: Ctx, answer: TypedAnswer, week: date, last: int | None) -> list[Message] | None:
    """Record a typed answer for the pledge it is about, or ask which when that is unclear."""
    c = ctx.content
    this_week = current_week_start(ctx.now)
    if answer.last_week:
        week = this_week - WEEK
    elif week > this_week or week.weekday() != 0:
        week = this_week
    lock_user(ctx.session, ctx.user)
    pledges = active_pledges(ctx.session, ctx.user.id)
    if not pledges:
        ctx.clear_state()
        return None  # nothing to check in: let the matcher answer
    eligible = [p for p in pledges if current_week_start(as_utc(p.started_at)) <= week]
    if not eligible:
        ctx.set_state(CheckinState.OPEN, week=this_week.isoformat())
        return [msg.text("\n".join(t(c, "checkin_none_then", title=title_of(c, p.action_id)) for p in pledges),
                         quick=next_quick(ctx, "status"))]
    named = ctx.matcher.find_action(turn.text)
    answered = checkins_of(ctx.session, [p.id for p in eligible])
    targets: list[Pledge]
    if named and any(p.action_id == named for p in eligible):
        targets = [p for p in eligible if p.action_id == named]
    elif answer.all or len(eligible) == 1:
        targets = eligible
    elif answer.fix and any(p.id == last for p in eligible):
        targets = [p for p in eligible if p.id == last]
    else:
        open_ = [p for p in eligible if week not in answered.get(p.id, {})]
        if len(open_) != 1:
            return ask_which(ctx, eligible, week, answer.done)
        targets = open_
    lines = [record_answer(ctx, p, week, answer.done) for p in targets]
    quick = fix_quick(ctx, targets[0], week, answer.done) if len(targets) == 1 else []
    return with_milestones(ctx, [msg.text("\n\n".join(lines), quick=quick + next_quick(ctx, "status", "stats"))])


def ask_which(ctx: Ctx, pledges: list[Pledge], week: date, done: bool) -> list[Message]:
    """Several pledges could be meant: one button each, and one for all of them."""
    c = ctx.content
    ctx.set_state(CheckinState.OPEN, week=week.isoformat())
    d = "1" if done else "0"
    quick = []
    for n, p in enumerate(pledges[: MAX_QUICK_REPLIES - 2], 1):
        title = title_of(c, p.action_id)
        label = title if len(title) <= MAX_LABEL else t(c, "label.pledge_n", n=n)
        quick.append(msg.qr_postback(label, msg.postback_data("pledge.checkin", p=str(p.id), w=week.isoformat(), d=d),
                                     f"{title}: {answer_word(c, done)}"))
    all_label = t(c, "label.all_done" if done else "label.all_not_done")
    quick.append(msg.qr_postback(all_label, msg.postback_data("pledge.checkin_all", w=week.isoformat(), d=d), all_label))
    names = "\n".join(f"{n}. {title_of(c, p.action_id)}" for n, p in enumerate(pledges, 1))
    return [msg.text(t(c, "checkin_which", week=c.date(week), pledges=names), quick=quick)]


def check_in_all(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """"ทำแล้วทุกข้อ" / "ยังไม่ได้ทำทุกข้อ": the same answer for every pledge of that week."""
    try:
        week = date.fromisoformat(params.get("w", ""))
    except ValueError:
        week = current_week_start(ctx.now)
    answer = TypedAnswer(done=params.get("d") == "1", all=True)
    return answer_typed(turn, ctx, answer, week, None) or [
        msg.text(t(ctx.content, "status_none"), quick=next_quick(ctx, "start", "stats"))]


def register(registry: Registry) -> None:
    registry.state(typed_while_open, CheckinState.OPEN)
    registry.postback(check_in_all, "pledge.checkin_all")
    registry.text_hook(typed_after_reminder)
