"""Which question-bank entry a message asks, and whether it is an emergency.

The bank's entries (content/bank/*.yaml) each come with the questions residents ask for them,
in Thai and English, their labels and their answers; content/nlu/bank_phrases.yaml adds more
ways of asking. Naive Bayes plus an averaged perceptron (the same as for topics) learn to tell
the entries apart, together with one class per topic's overview (content/nlu/overviews.yaml:
broad questions such as "ฝุ่นคืออะไร") and one for messages outside the bot's scope. Safety
entries carry trigger words: a message holding a word of every group is that emergency,
whatever else it says.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.nlu.classifier import AveragedPerceptron, NaiveBayes

OVERVIEW = "@"  # prefix of the classes that stand for a topic's overview answer
OUT = "@out_of_scope"
OTHER = "@other"  # flows and greetings: not a question for the bank
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class BankEntry:
    """What the matcher needs of an entry."""

    id: str
    topic: str
    phrases: tuple[str, ...]            # how residents ask it (training)
    questions: tuple[str, ...] = ()     # the ones an editor wrote in the entry (exact matches)
    triggers: tuple[tuple[str, ...], ...] = ()


@dataclass
class BankData:
    """The bank as the matcher reads it from content/."""

    entries: dict[str, BankEntry] = field(default_factory=dict)
    overviews: dict[str, tuple[str, ...]] = field(default_factory=dict)  # topic -> broad questions
    # What each topic's quick reply sends (answers.yaml ask, ask_en): always the overview.
    asks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_content(cls, content_dir: Path, load: Callable[[Path], Any]) -> BankData:
        data = cls()
        extra: dict[str, list[str]] = {}
        extra_file = content_dir / "nlu" / "bank_phrases.yaml"
        if extra_file.exists():
            extra = {str(k): [str(x) for x in v or ()] for k, v in (load(extra_file) or {}).items()}
        for f in sorted((content_dir / "bank").glob("*.yaml")):
            for e in (load(f) or {}).get("entries") or ():
                eid = str(e["id"])
                questions = tuple(str(q) for q in (*(e.get("q_th") or ()), *(e.get("q_en") or ())))
                # Labels and the answer's sentences carry the words people use for the topic.
                answer = [s for k in ("th", "en") for s in _SENTENCE.split(str(e.get(k) or "")) if len(s) > 5]
                labels = [str(e[k]) for k in ("label_th", "label_en") if e.get(k)]
                data.entries[eid] = BankEntry(
                    id=eid, topic=str(e.get("topic")),
                    phrases=(*questions, *extra.get(eid, ()), *labels, *answer), questions=questions,
                    triggers=tuple(tuple(str(w).lower().replace(" ", "") for w in g) for g in e.get("triggers") or ()))
        overviews = content_dir / "nlu" / "overviews.yaml"
        if overviews.exists():
            data.overviews = {str(k): tuple(str(x) for x in v or ()) for k, v in (load(overviews) or {}).items()}
        answers = content_dir / "answers.yaml"
        if answers.exists():
            for intent, a in ((load(answers) or {}).get("answers") or {}).items():
                if (a or {}).get("kind", "informational") == "informational":
                    data.asks[str(intent)] = tuple(str(a[k]) for k in ("ask", "ask_en", "label", "label_en") if a.get(k))
        return data


@dataclass(frozen=True)
class Ranked:
    """A bank class and its probability: an entry id, "@<topic>" (its overview) or "@out_of_scope"."""

    key: str
    p: float

    @property
    def entry(self) -> str | None:
        return None if self.key.startswith(OVERVIEW) else self.key

    @property
    def topic(self) -> str | None:
        return self.key[len(OVERVIEW):] if self.key.startswith(OVERVIEW) else None


class BankModel:
    """Ranks the bank's entries (and the topics' overviews) for a message's features."""

    def __init__(self, nb: NaiveBayes, perceptron: AveragedPerceptron, topic_of: dict[str, str],
                 exact: dict[str, str], safety: list[tuple[str, tuple[tuple[str, ...], ...]]],
                 temperature: float) -> None:
        self.nb, self.perceptron = nb, perceptron
        self.topic_of, self.exact, self.safety, self.temperature = topic_of, exact, safety, temperature

    @classmethod
    def train(cls, data: BankData, features: Callable[[str], list[str]], key_of: Callable[[str], str],
              out_of_scope: Sequence[str] = (), other: Sequence[str] = (), epochs: int = 1,
              temperature: float = 6.0) -> BankModel:
        """Learn the bank from its questions, labels, answers, the overviews and out-of-scope phrases."""
        docs: list[list[str]] = []
        labels: list[str] = []
        for e in data.entries.values():
            for ph in e.phrases:
                docs.append(features(ph))
                labels.append(e.id)
        for topic in sorted(set(data.overviews) | set(data.asks)):  # one order in every process
            for ph in (*data.overviews.get(topic, ()), *data.asks.get(topic, ())):
                docs.append(features(ph))
                labels.append(OVERVIEW + topic)
        for ph in out_of_scope:
            docs.append(features(ph))
            labels.append(OUT)
        for ph in other:
            docs.append(features(ph))
            labels.append(OTHER)
        nb = NaiveBayes(alpha=0.1).fit(docs, labels)
        perceptron = AveragedPerceptron(epochs=epochs).fit(docs, labels, nb.classes).share_vocabulary(nb.weights.vocab)
        return cls(nb, perceptron,
                   {e.id: e.topic for e in data.entries.values()},
                   {**{key_of(q): e.id for e in data.entries.values() for q in e.questions if key_of(q)},
                    **{key_of(q): OVERVIEW + t for t, qs in data.asks.items() for q in qs if key_of(q)}},
                   [(e.id, e.triggers) for e in data.entries.values() if e.triggers], temperature)

    def state(self) -> dict[str, Any]:
        return {"nb": self.nb.state(), "perceptron": self.perceptron.state(), "topic_of": self.topic_of,
                "exact": self.exact, "safety": [[eid, [list(g) for g in groups]] for eid, groups in self.safety],
                "temperature": self.temperature}

    def share_vocabulary(self, vocab: dict[str, int]) -> None:
        self.nb.share_vocabulary(vocab)
        self.perceptron.share_vocabulary(vocab)

    @classmethod
    def from_state(cls, s: dict[str, Any], vocab: dict[str, int]) -> BankModel:
        return cls(NaiveBayes.from_state(s["nb"], vocab), AveragedPerceptron.from_state(s["perceptron"], vocab),
                   dict(s["topic_of"]),
                   dict(s["exact"]), [(str(eid), tuple(tuple(g) for g in groups)) for eid, groups in s["safety"]],
                   float(s["temperature"]))

    def classes_of(self, topic: str) -> set[str]:
        """The topic's entries and its overview class."""
        if not hasattr(self, "_by_topic"):
            by: dict[str, set[str]] = {}
            for eid, t in self.topic_of.items():
                by.setdefault(t, set()).add(eid)
            self._by_topic = by
        return self._by_topic.get(topic, set()) | {OVERVIEW + topic}

    def emergency(self, text: str) -> str | None:
        """The safety entry whose trigger words the text holds (one of each group), or None."""
        s = re.sub(r"\s+", "", (text or "").lower())
        for eid, groups in self.safety:
            if all(any(w in s for w in g) for g in groups):
                return eid
        return None

    @property
    def classes(self) -> list[str]:
        return self.nb.classes

    @functools.cached_property
    def class_index(self) -> dict[str, int]:
        """Each class's position in `classes`."""
        return {c: i for i, c in enumerate(self.classes)}

    @functools.cached_property
    def class_topics(self) -> np.ndarray:
        """Each class's entry topic ("" for overviews and the others), in `classes` order: for masks."""
        return np.array([self.topic_of.get(c, "") for c in self.classes], dtype=object)

    @functools.cached_property
    def safety_ids(self) -> frozenset[str]:
        """The safety entries (emergencies)."""
        return frozenset(eid for eid, _ in self.safety)

    @functools.cached_property
    def safety_mask(self) -> np.ndarray:
        """Which classes are safety entries, in `classes` order."""
        return np.fromiter((c in self.safety_ids for c in self.classes), dtype=bool, count=len(self.classes))

    def probabilities(self, feats: list[str], key: str = "", only: set[str] | None = None,
                      rows: np.ndarray | None = None, mask: np.ndarray | None = None,
                      distinct: np.ndarray | None = None) -> np.ndarray:
        """Every class's probability (in `classes` order; zero outside `only`, or where `mask` is
        False, when given); rows: the features already looked up in the shared vocabulary."""
        classes = self.nb.classes
        if key in self.exact and (only is None or self.exact[key] in only):
            p = np.zeros(len(classes))
            p[classes.index(self.exact[key])] = 1.0
            return p
        if rows is None:
            rows = self.nb.weights.rows_of(feats)
        if distinct is None:
            distinct = np.unique(rows)
        scores = self.nb.log_scores_of_rows(rows)[0] + self.perceptron.scores_of_rows(distinct)
        if only is not None:
            mask = np.fromiter((c in only for c in classes), dtype=bool, count=len(classes))
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        exps = np.exp((scores - scores.max()) / self.temperature)
        probs: np.ndarray = exps / exps.sum()
        return probs

    def rank(self, feats: list[str], key: str = "", only: set[str] | None = None, limit: int = 5) -> list[Ranked]:
        """Classes by probability, best first (restricted to `only` when given)."""
        if only is not None and not only:
            return []
        p = self.probabilities(feats, key, only)
        order = np.argsort(-p, kind="stable")[:limit or None]
        return [Ranked(self.nb.classes[i], float(p[i])) for i in order if p[i] > 0.0]


def load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader, in C)


def as_mapping(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}
