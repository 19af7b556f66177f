"""Short answers residents type: yes, no, cancel, "ok", laughter; matched on their letters only."""
from __future__ import annotations

import functools
import re

from bot.content.model import Content

_NOT_A_LETTER = re.compile(r"[^a-z\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e4e]+")


def plain(content: Content, text: str) -> str:
    """The text's letters only (no spaces, emoji, punctuation or digits), lower case, without the
    polite particles it ends with: "ยกเลิกนะคะ 🙏" -> "ยกเลิก", "ได้ครับ" -> "ได้", "ค่ะ" -> ""."""
    return _plain(text, _particles(content.text("core.particles")))


@functools.lru_cache(maxsize=16)
def _particles(raw: str) -> tuple[str, ...]:
    return tuple(sorted({p for p in (x.strip() for x in raw.split("|")) if p}, key=len, reverse=True))


@functools.lru_cache(maxsize=512)
def _plain(text: str, particles: tuple[str, ...]) -> str:
    # cached: a turn asks about the same message a dozen times (yes? cancel? small talk? …)
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


def word_set(content: Content, key: str) -> frozenset[str]:
    """A "|"-separated list of content words, in plain() form."""
    return _word_set(content.text(key), content.text("core.particles"))


@functools.lru_cache(maxsize=64)
def _word_set(raw_words: str, raw_particles: str) -> frozenset[str]:
    # Built once per list: these checks run on every message.
    particles = _particles(raw_particles)
    return frozenset(w for w in (_plain(x, particles) for x in raw_words.split("|")) if w)


def in_words(content: Content, key: str, text: str) -> bool:
    """The text is one of the words listed under content key (in either language's list)."""
    return plain(content, text) in word_set(content, key)


def is_cancel(content: Content, text: str) -> bool:
    return in_words(content, "core.cancel_words", text)


def is_yes(content: Content, text: str) -> bool:
    """ "ใช่", "ได้ค่ะ", "ยืนยัน", or a bare "ค่ะ"/"ครับ"/"เจ้า" answering a yes-no question."""
    p = plain(content, text)
    if not p:
        return bool(_NOT_A_LETTER.sub("", (text or "").lower()))  # only particles: a polite yes
    return p in word_set(content, "core.yes_words")


def is_no(content: Content, text: str) -> bool:
    return in_words(content, "core.no_words", text)


def is_small_talk(content: Content, text: str) -> bool:
    """Only emoji, punctuation, laughter or an acknowledgement ("โอเค", "ค่ะ", "555"): nothing to answer."""
    p = plain(content, text)
    return not p or p in word_set(content, "core.ack_words") or bool(re.fullmatch(r"[5๕\s]+", text.strip()))


def is_insult(content: Content, text: str) -> bool:
    """Rude words at the bot and little else ("บอทโง่", "you are a useless bot"): answered calmly,
    never with "did you mean"; a real question with a rude word in it is still answered."""
    low = (text or "").lower()
    thai, latin = _rude_words(content.text("core.insult_words"))
    found = [w for w in thai if w in low] + ([m.group(0) for m in latin.finditer(low)] if latin else [])
    if not found:
        return False
    rest = low
    for w in found:
        rest = rest.replace(w, " ")
    rest = re.sub(r"\b(you|are|r|u|a|an|the|this|bot|so|very|is|such|really|what|lol)\b", " ", rest)
    return len(plain(content, rest).replace("บอท", "")) < 6


@functools.lru_cache(maxsize=8)
def _rude_words(raw: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """The insult words: Thai ones found anywhere, Latin ones as whole words (one compiled search)."""
    words = [w for w in raw.split("|") if w]
    thai = tuple(w for w in words if not w.isascii())
    latin = sorted((w for w in words if w.isascii()), key=len, reverse=True)
    return thai, (re.compile(r"\b(?:" + "|".join(re.escape(w) for w in latin) + r")\b") if latin else None)
