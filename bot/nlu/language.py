"""Which language a resident writes in: Thai, English, or none to tell (a number, an emoji, "ok")."""
from __future__ import annotations

import re
from collections.abc import Iterable

THAI, ENGLISH = "th", "en"
_THAI_LETTER = re.compile(r"[\u0e01-\u0e4e]")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9.']*")


class LanguageGuess:
    """Thai letters make a message Thai; Latin words make it English unless they are neutral
    (units, names) or weak (English words Thai residents type too, which keep the language a
    resident already speaks)."""

    def __init__(self, neutral: Iterable[str] = (), weak: Iterable[str] = ()) -> None:
        self.neutral = frozenset(str(w).lower() for w in neutral)
        self.weak = frozenset(str(w).lower() for w in weak)

    def of(self, text: str, current: str | None) -> str | None:
        """The language of text, given the one the resident spoke so far (None: unknown)."""
        if _THAI_LETTER.search(text or ""):
            return THAI
        words = [w.strip(".'") for w in _LATIN_WORD.findall((text or "").lower())]
        words = [w for w in words if w and w not in self.neutral]
        if not words:
            return current
        if all(w in self.weak for w in words):
            return current or ENGLISH
        return ENGLISH
