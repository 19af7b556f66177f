"""Entities in residents' messages: Chiang Mai districts and catalogue actions.

Both work on the cleaned text with spaces and tone marks removed, so
"อ.แม่ริม", "แม่ ริม", "แมริม" and "mae rim" all meet the same key.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.nlu.normalize import TONE_MARKS, strip_tones

# A misspelt district is only looked for in keys at least this long: short
# names ("ฝาง", "ฮอด") are one letter away from too many ordinary words.
_FUZZY_MIN_LEN = 5


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)))


_DROPPED = " " + TONE_MARKS
_DROP = str.maketrans("", "", _DROPPED)


def compact(cleaned: str) -> tuple[str, list[int]]:
    """Cleaned text without spaces and tone marks, with each kept char's index."""
    return cleaned.translate(_DROP), [i for i, ch in enumerate(cleaned) if ch not in _DROPPED]


@dataclass(frozen=True)
class Found:
    """An entity value and the span of cleaned text that named it."""

    value: str
    start: int
    end: int


def _span(cleaned: str, index: list[int], start: int, end: int) -> tuple[int, int]:
    a = index[start]
    b = index[end - 1] + 1
    while b < len(cleaned) and cleaned[b] in TONE_MARKS:
        b += 1
    return a, b


class DistrictFinder:
    """Finds one of the 25 districts from its name, aliases or a one-letter typo."""

    def __init__(self, districts: list[Mapping[str, Any]], lexicon: Mapping[str, Any], clean: Callable[[str], str]) -> None:
        def key(form: str) -> str:
            return strip_tones(clean(str(form))).replace(" ", "")

        weak_keys = {key(w) for w in lexicon.get("district_weak_aliases") or ()}
        self.strong: dict[str, str | None] = {}
        self.weak: dict[str, str] = {}
        for d in districts:
            forms = [d["name"], *(d.get("aliases") or ())]
            if len(key(d.get("name_en") or "")) >= 5:
                forms.append(d["name_en"])
            for form in forms:
                k = key(form)
                if not k:
                    continue
                if k in weak_keys:
                    self.weak[k] = d["name"]
                else:
                    self.strong.setdefault(k, d["name"])
        for word in lexicon.get("district_not") or ():
            self.strong[key(word)] = None
        self.cues = [key(c) for c in lexicon.get("district_cues") or ()]
        self.block_next = tuple(key(w) for w in lexicon.get("district_weak_block_next") or ())
        self._strong_re = _alternation(self.strong)
        self._weak_re = _alternation(self.weak) if self.weak else None
        self._cue_re = _alternation(self.cues) if self.cues else None
        # one deletion away from a key (SymSpell): covers a missing, extra or wrong letter
        self._deletes: dict[str, set[str]] = {}
        for k, name in self.strong.items():
            if name is None or len(k) < _FUZZY_MIN_LEN:
                continue
            self._deletes.setdefault(k, set()).add(name)
            for i in range(len(k)):
                self._deletes.setdefault(k[:i] + k[i + 1 :], set()).add(name)
        lengths = {len(k) for k in self._deletes}
        # longest first: a window one letter longer than a key may hold an extra letter
        self._window_sizes = sorted({m for n in lengths for m in (n - 1, n, n + 1)}, reverse=True)

    def find(self, cleaned: str, fuzzy: bool = False) -> Found | None:
        """The district the text names, or None; fuzzy=True also tries typos."""
        text, index = compact(cleaned)
        if not text:
            return None
        for m in self._strong_re.finditer(text):
            name = self.strong[m.group(0)]
            if name is not None:
                return Found(name, *_span(cleaned, index, m.start(), m.end()))
        cue_ends = [m.end() for m in self._cue_re.finditer(text)] if self._cue_re else []
        if self._weak_re is not None:
            for m in self._weak_re.finditer(text):
                whole = m.start() == 0 and m.end() == len(text)
                cued = any(e <= m.start() for e in cue_ends)
                blocked = text.startswith(self.block_next, m.end()) if self.block_next else False
                if (whole or cued) and not blocked:
                    return Found(self.weak[m.group(0)], *_span(cleaned, index, m.start(), m.end()))
        if fuzzy or cue_ends:
            return self._fuzzy(cleaned, text, index, [0, *cue_ends] if fuzzy else cue_ends)
        return None

    def _fuzzy(self, cleaned: str, text: str, index: list[int], starts: list[int]) -> Found | None:
        best: tuple[int, str, int, int] | None = None
        deletes = self._deletes
        for s in sorted(set(starts)):
            for n in self._window_sizes:
                if best is not None and n <= best[0]:
                    break
                w = text[s : s + n]
                if len(w) != n:
                    continue
                names = deletes.get(w)
                if names is None:
                    hits: set[str] = set()
                    for i in range(n):
                        hit = deletes.get(w[:i] + w[i + 1 :])
                        if hit:
                            hits |= hit
                    names = hits
                if len(names) == 1:
                    best = (n, next(iter(names)), s, s + n)
                    break
        if best is None:
            return None
        return Found(best[1], *_span(cleaned, index, best[2], best[3]))


class ActionFinder:
    """Finds the catalogue action a message names ("จะแยกขยะ" -> sort_waste)."""

    def __init__(self, actions: Mapping[str, list[str]], clean: Callable[[str], str]) -> None:
        self.keywords: dict[str, str] = {}
        for action_id, words in (actions or {}).items():
            for w in words:
                k = strip_tones(clean(str(w))).replace(" ", "")
                if k:
                    self.keywords.setdefault(k, action_id)
        self._re = _alternation(self.keywords) if self.keywords else None

    def find(self, cleaned: str) -> str | None:
        """The action id named in the text (the longest keyword wins), or None."""
        if self._re is None:
            return None
        text, _ = compact(cleaned)
        best = ""
        for m in self._re.finditer(text):
            if len(m.group(0)) > len(best):
                best = m.group(0)
        return self.keywords[best] if best else None
