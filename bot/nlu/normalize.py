"""Turn what residents type into the plain Thai the matcher compares.

Two stages: `clean()` works on the raw string (PyThaiNLP normalize, Thai
digits, laughter, emoji, repeated letters, Thai-English phrases, long chat
spellings); `Normalizer.tokens()` tokenises with newmm over a custom
dictionary and maps whole tokens (short chat spellings and คำเมือง, whose
letters also occur inside other words, so they are never replaced inside one).
All the words come from content/nlu/lexicon.yaml.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pythainlp import (
    thai_above_vowels,
    thai_below_vowels,
    thai_consonants,
    thai_follow_vowels,
    thai_lead_vowels,
    thai_tonemarks,
    thai_vowels,
)
from pythainlp.tokenize import word_tokenize
from pythainlp.util import Trie, thai_digit_to_arabic_digit

# Thai tone marks (ไม้เอก, ไม้โท, ไม้ตรี, ไม้จัตวา): often missing or wrong in chat.
TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b"
_TONE_TABLE = str.maketrans("", "", TONE_MARKS)

_LAUGH = re.compile(r"5{3,}|(?:ถ){3,}|(?:ฮ่า){2,}|(?:อิ){2,}|(?:คิ){2,}")
# Keep Thai letters, Latin letters, digits, the decimal point and spaces.
_NOT_KEPT = re.compile(r"[^\u0e01-\u0e4e\u0e50-\u0e59a-z0-9. ]+")
_AMPHOE_ABBR = re.compile(r"(?<![\u0e01-\u0e4e])อ\s*\.\s*")
_DOT_NOT_DECIMAL = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_REPEAT = re.compile(r"([\u0e01-\u0e4ea-z])\1{2,}")
_SPACES = re.compile(r"\s+")
_MAI_YAMOK = "\u0e46"


# Full-width ASCII ("ＰＭ２．５", "ｃａｎｃｅｌ", typed with CJK and some Thai keyboards) and the ideographic
# space, as plain ASCII. Not NFKC: that would also split Thai SARA AM (ำ) into two characters.
_FULL_WIDTH = {**{c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


# PyThaiNLP's normalize(), in the same order with the same rules, but each pattern compiled once and
# the 25 one-letter "no repeat" passes folded into one (tests/test_nlu.py checks they agree): it
# runs on every message, and was a tenth of the matcher's time.
_DANGLING = f"{thai_above_vowels}{thai_below_vowels}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_NO_REPEAT = f"{thai_follow_vowels}{thai_lead_vowels}{thai_above_vowels}{thai_below_vowels}\u0e3a\u0e4c\u0e4d\u0e4e"
_TH_NEWLINES = re.compile("[ \n]*\n[ \n]*")
_TH_SPACE_BEFORE_MARK = re.compile(
    f"([{thai_consonants}])(?<![{thai_vowels}][{thai_consonants}]) ([{_DANGLING}])")
_TH_REORDER = [(re.compile(a), b) for a, b in (
    ("\u0e40\u0e40", "\u0e41"),
    (f"([{thai_tonemarks}\u0e4c]+)([{thai_above_vowels}{thai_below_vowels}]+)", "\\2\\1"),
    (f"\u0e4d([{thai_tonemarks}]*)\u0e32", "\\1\u0e33"),
    (f"([{thai_follow_vowels}]+)([{thai_tonemarks}]+)", "\\2\\1"),
    ("([^\u0e24\u0e26])\u0e45", "\\1\u0e32"),
)]
_TH_NO_REPEAT = re.compile(f"([{_NO_REPEAT}])(?:[ ]*\\1)+")
_TH_TONES = re.compile(f"[{thai_tonemarks}]*([{thai_tonemarks}])")
_TH_DANGLING_START = re.compile(f"^[{_DANGLING}]+")
_TH_DANGLING_AFTER_SPACE = re.compile(f" +[{_DANGLING}]+")


def th_normalize(text: str) -> str:
    """What pythainlp.util.normalize(text) returns: zero-width and doubled spaces removed, vowels and
    tone marks in their standard order and not repeated, no dangling marks at the start."""
    text = text.replace("\u200b", "").replace("\u200c", "")
    while "  " in text:
        text = text.replace("  ", " ")
    text = _TH_NEWLINES.sub("\n", text).strip()
    if text.isascii():
        return text  # every rule below needs a Thai letter or mark
    text = _TH_SPACE_BEFORE_MARK.sub(r"\1\2", text)
    for pattern, repl in _TH_REORDER:
        text = pattern.sub(repl, text)
    text = _TH_NO_REPEAT.sub(r"\1", text)
    text = _TH_TONES.sub(r"\1", text)
    text = _TH_DANGLING_START.sub("", text)
    return _TH_DANGLING_AFTER_SPACE.sub(" ", text)


def fold_width(text: str) -> str:
    """Full-width Latin letters, digits and punctuation as their plain forms."""
    return text.translate(_FULL_WIDTH)


def strip_tones(text: str) -> str:
    """Text without tone marks, for matching that forgives missing ones."""
    return text.translate(_TONE_TABLE)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


class Normalizer:
    """Normalises text with the lexicon's maps; tokenises over a shared trie."""

    def __init__(self, lexicon: Mapping[str, Any], trie: Trie | None = None) -> None:
        def strings(name: str) -> dict[str, str]:
            return {str(k).lower(): str(v) for k, v in (lexicon.get(name) or {}).items()}

        self.latin_map = strings("latin_map")
        self.string_map = strings("string_map")
        self.token_map = strings("token_map")
        self.final_token_map = strings("final_token_map")
        self.drop_tokens = frozenset(str(t) for t in lexicon.get("drop_tokens") or ())
        self._latin_re = (
            re.compile(r"(?<![a-z])(?:" + _alternation(self.latin_map) + r")(?![a-z])")
            if self.latin_map
            else None
        )
        self._string_re = (
            re.compile(_alternation(self.string_map)) if self.string_map else None
        )
        self.trie = trie

    def vocabulary(self) -> set[str]:
        """Words the tokeniser must know so the maps see them whole."""
        words: set[str] = set()
        for mapping in (self.string_map, self.token_map, self.final_token_map):
            words.update(mapping)
            words.update(mapping.values())
        words.update(self.latin_map.values())
        words.update(self.drop_tokens)
        return {w for part in words for w in part.split() if w}

    def clean(self, text: str) -> str:
        """String-level normalisation: the same for messages, phrases and aliases."""
        text = fold_width(str(text)).lower()
        text = thai_digit_to_arabic_digit(text)
        text = th_normalize(text)
        text = text.replace(_MAI_YAMOK, " ")
        text = _LAUGH.sub(" ", text)
        text = _AMPHOE_ABBR.sub("อำเภอ", text)
        text = _NOT_KEPT.sub(" ", text)
        text = _DOT_NOT_DECIMAL.sub(" ", text)
        text = _REPEAT.sub(r"\1", text)
        if self._latin_re is not None:
            text = self._latin_re.sub(lambda m: " " + self.latin_map[m.group(0)] + " ", text)
        if self._string_re is not None:
            text = self._string_re.sub(lambda m: self.string_map[m.group(0)], text)
        return _SPACES.sub(" ", text).strip()

    def tokens(self, cleaned: str) -> list[str]:
        """Tokenise cleaned text and map chat/dialect tokens; particles dropped."""
        raw = [
            t.strip()
            for t in word_tokenize(cleaned, custom_dict=self.trie, engine="newmm", keep_whitespace=False)
        ]
        raw = [t for t in raw if t]
        # the question particle is the last word before any politeness particles
        last = len(raw) - 1
        while last >= 0 and raw[last] in self.drop_tokens:
            last -= 1
        out: list[str] = []
        for i, tok in enumerate(raw[: last + 1]):
            if i == last and tok in self.final_token_map:
                tok = self.final_token_map[tok]
            else:
                tok = self.token_map.get(tok, tok)
            if tok not in self.drop_tokens:
                out.append(tok)
        return out


class AnyOf:
    """Whether a text holds any of some words: one compiled search instead of a loop over them."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(dict.fromkeys(w for w in words if w))
        self._search = re.compile(_alternation(self.words)).search if self.words else None

    def __call__(self, text: str) -> bool:
        return self._search is not None and self._search(text) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __bool__(self) -> bool:
        return bool(self.words)


class WordSet(Trie):
    """PyThaiNLP's dictionary Trie, kept as two sets (the words, and their proper prefixes).

    newmm only asks a dictionary for the words starting at a position (`prefixes`). Adding the
    60,000 words of `thai_words()` node by node was most of the matcher's start-up; building two
    sets takes a fraction of it, and the answers are the same.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._words: set[str] = {w for w in (word.strip() for word in words) if w}
        self._stems: set[str] = {w[:i] for w in self._words for i in range(1, len(w))}

    def add(self, word: str) -> None:
        word = word.strip()
        if word:
            self._words.add(word)
            self._stems.update(word[:i] for i in range(1, len(word)))

    def remove(self, word: str) -> None:  # the dictionary is read-only once built
        raise NotImplementedError("WordSet is built once and never changed")

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        words, stems = self._words, self._stems
        found = []
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            if piece in words:
                found.append(piece)
            if piece not in stems:
                break
        return found

    def __contains__(self, key: str) -> bool:
        return key in self._words

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)
