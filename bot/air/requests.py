"""Is a typed message a request for today's air, or to start or stop haze alerts?

Precise on purpose: "ฝุ่นที่ฝางเป็นไง", "pm2.5 แม่ริมวันนี้", "aqi" and "is the air ok today" are
readings; "ฝุ่น PM2.5 อันตรายยังไง" or "หน้ากากกันฝุ่นได้ไหม" are questions about haze and go on to
the question bank. The word lists are content (content/texts/air.yaml and texts/en/air.yaml), read in
both languages whichever the resident writes in.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.content.model import Contents
from bot.words import plain

THAI = re.compile(r"[\u0e00-\u0e7f]")
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
LATIN_WORD = re.compile(r"[a-z]{2,}")


class Ask(StrEnum):
    READING = "reading"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True)
class Request:
    ask: Ask
    district: str | None  # the official name of a district the message names


@dataclass(frozen=True)
class _WordList:
    thai: tuple[str, ...]          # compact (no spaces), found anywhere in the compact text
    latin: re.Pattern[str] | None  # whole words in the spaced text


@functools.lru_cache(maxsize=64)
def _word_list(raw: str) -> _WordList:
    words = [w.strip().lower().translate(THAI_DIGITS) for w in raw.split("|") if w.strip()]
    thai = tuple(sorted({w.replace(" ", "") for w in words if THAI.search(w)}, key=len, reverse=True))
    latin = [w for w in words if not THAI.search(w)]
    pattern = None
    if latin:
        alts = sorted((r"\s*".join(re.escape(part) for part in w.split()) for w in latin), key=len, reverse=True)
        pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])")
    return _WordList(thai, pattern)


@dataclass(frozen=True)
class _Text:
    spaced: str   # lower case, Thai digits as Arabic, one space between words
    compact: str  # the same without spaces


def _prepare(text: str) -> _Text:
    spaced = " ".join(text.lower().translate(THAI_DIGITS).split())
    return _Text(spaced, spaced.replace(" ", ""))


class Reader:
    """Reads messages against the air word lists of both languages."""

    def __init__(self, contents: Contents) -> None:
        self.contents = contents

    def _lists(self, key: str) -> list[_WordList]:
        return [_word_list(view.text(f"air.{key}")) for view in (self.contents.th, self.contents.en)]

    def hits(self, key: str, t: _Text) -> list[str]:
        """The words of list `key` the text contains (compact forms, longest first)."""
        found: list[str] = []
        for wl in self._lists(key):
            found += [w for w in wl.thai if w in t.compact]
            if wl.latin is not None:
                found += [m.group(0).replace(" ", "") for m in wl.latin.finditer(t.spaced)]
        return sorted(set(found), key=len, reverse=True)

    def read(self, text: str, find_district: Callable[[str], str | None]) -> Request | None:
        """The request the message makes, or None for anything else."""
        t = _prepare(text)
        if not t.compact:
            return None
        subject = self.hits("words_subject", t) + self.hits("words_metric", t)
        if not subject:
            return None
        general = self.hits("words_not", t)
        if self.hits("words_alert", t):
            if self.hits("words_stop", t):
                return Request(Ask.UNSUBSCRIBE, None)
            if not general:
                return Request(Ask.SUBSCRIBE, find_district(text))
            return None
        if general:
            return None
        district = find_district(text)
        if self.hits("words_now", t) or self.hits("words_level", t):
            return Request(Ask.READING, district)
        if (district or self.hits("words_metric", t)) and self._only_place_left(t, subject, district):
            return Request(Ask.READING, district)
        return None

    def leftover(self, text: str, district: str | None) -> str:
        """The letters a message has besides air, time and level words, a district, joining words
        and polite particles: "" for "ฝุ่นแม่ริมวันนี้เป็นไงคะ", "ล้างจมูกด้วยน้ำเกลือช่วยตอน" for a
        question about rinsing one's nose on a dusty day."""
        t = _prepare(text)
        words = self.hits("words_subject", t) + self.hits("words_metric", t) + self.hits("words_now", t) \
            + self.hits("words_level", t)
        return plain(self.contents.th, plain(self.contents.en, self._rest(t, words, district)))

    def _only_place_left(self, t: _Text, subject: list[str], district: str | None) -> bool:
        """Nothing but air words, a district and small joining words: "aqi", "pm2.5 แม่ริม"."""
        rest = self._rest(t, subject, district)
        return not plain(self.contents.th, rest) and not plain(self.contents.en, rest)

    def _rest(self, t: _Text, subject: list[str], district: str | None) -> str:
        rest = t.compact
        forms: list[str] = list(subject)
        if district:
            d = self.contents.th.district_by_name(district)
            if d is not None:
                forms += [f.lower().replace(" ", "") for f in (d.name, d.name_en, *d.aliases)]
        for form in sorted(set(forms), key=len, reverse=True):
            rest = rest.replace(form, "")
        for form in self.hits("words_connect", _Text(rest, rest)):
            rest = rest.replace(form, "")
        return rest


def looks_english(text: str) -> bool:
    """Written in English: no Thai letters and at least two English words ("air quality today")."""
    if THAI.search(text):
        return False
    return len(LATIN_WORD.findall(text.lower())) >= 2
