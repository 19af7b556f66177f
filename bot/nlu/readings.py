"""What the matcher reads from a message (Match), what it reads it against (Context), and its
working notes on one message (Analysis, Rule)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.nlu.entities import Found
from bot.nlu.normalize import AnyOf


@dataclass(frozen=True)
class Context:
    """What a conversation was just about: the topic, the class shown (an entry id or "@<topic>"),
    the entries that answer names as related or as follow-ups, and the question it answered."""

    topic: str
    shown: str | None = None
    related: frozenset[str] = frozenset()
    question: str = ""
    favoured: str | None = None  # the entry the answer names for this kind of follow-up ("แล้วเด็กล่ะ")


@dataclass
class Match:
    """The matcher's reading of one message."""

    intent: str
    score: float
    entities: dict[str, str] = field(default_factory=dict)
    confident: bool = True
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    normalized: str = ""  # the cleaned text (what may be kept as unmatched; no user id)
    settled: bool = False  # decided before any classifier: a rule, an out-of-scope gate, gibberish
    # The question-bank entry that answers the message (None: the topic's overview, or a flow),
    # and the next best bank classes with their probabilities (entry ids, "@<topic>" overviews).
    answer: str | None = None
    answers: list[tuple[str, float]] = field(default_factory=list)

    @property
    def answer_p(self) -> float:
        """The bank's own probability of the entry that answers (0 when none does)."""
        return dict(self.answers).get(self.answer, 0.0) if self.answer is not None else 0.0

    def to_json(self, text: str) -> dict[str, Any]:
        """The CLI contract's object: {"text", "intent", "score", "entities", "answer"}."""
        return {"text": text, "intent": self.intent, "score": round(self.score, 4), "entities": self.entities,
                "answer": self.answer}


@dataclass(frozen=True)
class Rule:
    intent: str
    groups: tuple[AnyOf, ...]  # a word of each group
    none: AnyOf                # and none of these
    exact: frozenset[str]
    needs_action: bool


@dataclass(frozen=True)
class Analysis:
    cleaned: str
    tokens: list[str]
    key: str  # tokens joined, tone marks removed
    district: Found | None
    action: str | None
    # The message's features looked up in the shared vocabulary, once rank() has done it
    # (a list so the frozen analysis can carry it; never more than one item).
    rows: list[Any] = field(default_factory=list)
    _distinct: list[Any] = field(default_factory=list)

    def distinct_rows(self) -> Any:
        """The looked-up rows without repeats (sorted), worked out once for every model that needs them."""
        if not self._distinct:
            self._distinct.append(np.unique(self.rows[0]))
        return self._distinct[0]
