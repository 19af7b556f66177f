"""Two requests in one message: "หยุดรับข่าวแล้วก็ลบข้อมูลผมด้วย", "ฝุ่นมาจากไหน แล้วใส่หน้ากากอะไรดี".

The message is cut at its first joining word; when each half asks something different with
confidence, both are taken up. Flows answer last, so that a step still waiting for the resident
(a deletion to confirm, a pledge to confirm) keeps its buttons under the reply; two questions get
the first answered and the second offered as a quick reply.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot import messages as msg
from bot.content.model import Content
from bot.fmt import shorten
from bot.limits import MAX_QUICK_REPLIES
from bot.nlu.readings import Match
from bot.turn import Ctx, Message, Turn

SOCIAL = {"greet", "thanks", "help", "out_of_scope"}
_LETTERS = re.compile(r"[a-z\u0e01-\u0e2e]")
# A half read as a flow that acts or asks (privacy, pledge, opt-out …) is taken up only when the
# matcher is this sure: a flow started by a misreading costs the resident more than a message left
# whole. Flows that only show something need no more than the usual confidence.
FLOW_SURE = 0.8
SHOW_ONLY = {"community_stats", "pledge_status"}


def halves(content: Content, text: str) -> tuple[str, str] | None:
    """The message cut at its first joining word, each half with a few letters, or None."""
    low = text.lower()
    best: tuple[int, int] | None = None
    for word in content.text("core.and_words").split("|"):
        if not word:
            continue
        at = low.find(word)
        while at != -1:
            left, right = low[:at], low[at + len(word):]
            if len(_LETTERS.findall(left)) >= 4 and len(_LETTERS.findall(right)) >= 4:
                if best is None or at < best[0]:
                    best = (at, len(word))
                break
            at = low.find(word, at + 1)
    if best is None:
        return None
    return text[:best[0]].strip(" ,;"), text[best[0] + best[1]:].strip(" ,;")


def asks(content: Content, text: str) -> bool:
    low = text.lower()
    return any(w and w in low for w in content.text("core.question_words").split("|"))


def two_requests(turn: Turn, ctx: Ctx, answer: Callable[[Turn, Ctx, Match], list[Message]]) -> list[Message] | None:
    """Both requests of a message, or None when it holds one."""
    c = ctx.content
    parts = halves(c, turn.text)
    if parts is None:
        return None
    (left, right), matches = parts, [ctx.matcher.classify(p) for p in parts]
    first, second = matches
    if any(m.intent in SOCIAL or not m.confident for m in matches) or \
            any(m.intent not in c.answers and m.intent not in SHOW_ONLY and m.score < FLOW_SURE for m in matches) or \
            (first.answer or first.intent) == (second.answer or second.intent):
        return None
    is_topic = [m.intent in c.answers for m in matches]
    if all(is_topic):
        if not (asks(c, left) and asks(c, right)):
            return None
        answered = answer(Turn(turn.user_id, "text", text=left), ctx, first)
        offer = msg.qr_text(shorten(right), right)
        items = (answered[-1].get("quickReply") or {}).get("items", [])
        answered[-1] = {**answered[-1], "quickReply": {"items": [offer, *items][:MAX_QUICK_REPLIES]}}
        return answered
    # A flow and something else: questions first, flows last (their buttons stay under the reply).
    order = sorted(zip(matches, parts, strict=True), key=lambda mp: mp[0].intent not in c.answers)
    out: list[Message] = []
    for m, text in order:
        out += answer(Turn(turn.user_id, "text", text=text), ctx, m)
    return out
