"""Residents' Thai -> intent id, score and entities.

Order of decisions for one message:
1. nothing left after normalising (emoji, 555, dots) -> out_of_scope;
2. keyword rules from the lexicon (commands; opt-out first) -> their intent;
3. out-of-scope gates (lottery, prices, sport, forecasts) -> out_of_scope;
4. a district named with nothing else -> set_district;
5. a training phrase typed exactly -> its intent;
6. naive Bayes plus an averaged perceptron, over words and character
   n-grams, rank the rest;
   text the model has barely seen (gibberish, other topics) -> out_of_scope.
Built once at start-up (`Matcher.from_content`), warmed in the main thread,
then read-only: classify() is safe to call from many threads.
"""
from __future__ import annotations

import gc
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pythainlp.corpus import thai_words
from pythainlp.util import Trie

from bot.nlu.classifier import AveragedPerceptron, NaiveBayes
from bot.nlu.entities import ActionFinder, DistrictFinder, Found
from bot.nlu.normalize import Normalizer, WordSet, strip_tones

OUT_OF_SCOPE = "out_of_scope"
SET_DISTRICT = "set_district"
# Intents whose entities include the named catalogue action.
ACTION_INTENTS = frozenset({"pledge_start", "pledge_cancel"})
# Stands for whichever district a text names, so phrases about one district
# teach the classifier about all 25.
DISTRICT_SLOT = "§"

_LETTER = re.compile(r"[\u0e01-\u0e2ea-z]")


@dataclass
class Match:
    """The matcher's reading of one message."""

    intent: str
    score: float
    entities: dict[str, str] = field(default_factory=dict)
    confident: bool = True
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    normalized: str = ""  # the cleaned text (what may be kept as unmatched; no user id)

    def to_json(self, text: str) -> dict[str, Any]:
        """The CLI contract's object: {"text", "intent", "score", "entities"}."""
        return {"text": text, "intent": self.intent, "score": round(self.score, 4), "entities": self.entities}


@dataclass(frozen=True)
class _Rule:
    intent: str
    groups: tuple[tuple[str, ...], ...]
    none: tuple[str, ...]
    exact: frozenset[str]
    needs_action: bool


@dataclass(frozen=True)
class _Analysis:
    cleaned: str
    tokens: list[str]
    key: str  # tokens joined, tone marks removed
    district: Found | None
    action: str | None


def _load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader, in C)


class Matcher:
    """Classifies residents' messages into the intents of contracts/intents.yaml."""

    def __init__(
        self,
        lexicon: Mapping[str, Any],
        training: Mapping[str, Sequence[str]],
        districts: list[Mapping[str, Any]],
        trie: Trie | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.intents = list(training)
        self.norm = Normalizer(lexicon)
        clean = self.norm.clean
        self.districts = DistrictFinder(districts, lexicon, clean)
        self.actions = ActionFinder(lexicon.get("actions") or {}, clean)
        # PyThaiNLP's words merged with the bot's own (a custom dictionary replaces the default).
        self.norm.trie = trie or WordSet(set(thai_words()) | self._extra_words(districts))

        def words(items: Iterable[str]) -> tuple[str, ...]:
            return tuple(k for k in (self._key_of(w) for w in items) if k)

        self.rules = [
            _Rule(
                intent=r["intent"],
                groups=tuple(words(g) for g in r.get("all") or ()),
                none=words(r.get("none") or ()),
                exact=frozenset(words(r.get("exact") or ())),
                needs_action=bool(r.get("needs_action")),
            )
            for r in lexicon.get("rules") or ()
        ]
        self.oos_keywords = words(lexicon.get("oos_keywords") or ())
        self.domain_keywords = words(lexicon.get("domain_keywords") or ())
        self.cue_keys = words(lexicon.get("district_cues") or ())
        thresholds = lexicon.get("thresholds") or {}
        self.t_confident = float(thresholds.get("confident", 0.55))
        self.t_coverage = float(thresholds.get("min_coverage", 0.45))
        self.t_oos = float(thresholds.get("oos", 0.35))
        self.temperature = float(thresholds.get("temperature", 4.0))
        self.min_letters = int(lexicon.get("min_letters", 2))
        self.topic_boost = float(thresholds.get("topic_boost", 0.3))
        self.topics = [(intent, words(kws)) for intent, kws in (lexicon.get("topic_keywords") or {}).items()]

        self.exact: dict[str, str] = {}
        docs, labels = [], []
        for intent, phrases in training.items():
            for phrase in phrases or ():
                a = self._analyse(str(phrase))
                if not a.key:
                    continue
                self.exact.setdefault(a.key, intent)
                docs.append(self.features(a))
                labels.append(intent)
        self.model = NaiveBayes(alpha=float(thresholds.get("alpha", 0.1))).fit(docs, labels)
        # the perceptron's scores are added to naive Bayes' log scores (weight 0: off)
        self.perceptron_weight = float(thresholds.get("perceptron_weight", 1.0))
        self.perceptron: AveragedPerceptron | None = None
        if self.perceptron_weight:
            self.perceptron = AveragedPerceptron(
                epochs=int(thresholds.get("perceptron_epochs", 3)),
                margin=float(thresholds.get("perceptron_margin", 1.0)),
            ).fit(docs, labels, self.model.classes)
        self._warm_lock = threading.Lock()
        self._warmed = False

    # -- construction ------------------------------------------------------
    @classmethod
    def from_content(cls, content_dir: Path) -> Matcher:
        """Build from content/nlu/lexicon.yaml, content/nlu/training.yaml, content/districts.yaml."""
        content_dir = Path(content_dir)
        lexicon = _load_yaml(content_dir / "nlu" / "lexicon.yaml") or {}
        training = _load_yaml(content_dir / "nlu" / "training.yaml") or {}
        districts = _load_yaml(content_dir / "districts.yaml") or []
        return cls(lexicon, training, districts)

    def _extra_words(self, districts: list[Mapping[str, Any]]) -> set[str]:
        words = set(self.norm.vocabulary())
        words.update(str(w) for w in self.lexicon.get("domain_words") or ())
        for d in districts:
            for form in (d["name"], *(d.get("aliases") or ())):
                cleaned = self.norm.clean(str(form))
                if cleaned and not cleaned.isascii():
                    words.add(cleaned.replace(" ", ""))
        return {w for w in words if w and not w.isascii()}

    def warm(self) -> None:
        """Run the tokeniser once (its first call is slow and not thread-safe).

        Then move everything built so far out of the garbage collector's view:
        the dictionary trie is a few hundred thousand objects, and a full
        collection walking them would stall a message by several milliseconds
        (and, under gunicorn --preload, touch pages that workers share).
        """
        with self._warm_lock:
            if not self._warmed:
                self.classify("สวัสดีครับ อยากรู้เรื่องโลกร้อนกับฝุ่น PM2.5 ที่แม่ริม")
                gc.collect()
                gc.freeze()
                self._warmed = True

    # -- analysis ----------------------------------------------------------
    def _key_of(self, word: str) -> str:
        return strip_tones(self.norm.clean(str(word))).replace(" ", "")

    def _analyse(self, text: str) -> _Analysis:
        cleaned = self.norm.clean(text)
        district = self.districts.find(cleaned)
        slotted = cleaned
        if district is not None:
            slotted = f"{cleaned[: district.start]} {DISTRICT_SLOT} {cleaned[district.end :]}".strip()
        tokens = self.norm.tokens(slotted)
        key = strip_tones("".join(tokens))
        action = self.actions.find(" ".join(tokens))
        return _Analysis(cleaned, tokens, key, district, action)

    # feature recipe: (word weight, word-pair weight, character n-gram sizes)
    WORD_WEIGHT = 2
    PAIR_WEIGHT = 0
    CHAR_NGRAMS: tuple[int, ...] = (2, 3)

    def features(self, a: _Analysis) -> list[str]:
        """Words, word pairs and character n-grams (tone marks ignored)."""
        toks = [strip_tones(t) for t in a.tokens]
        feats = ["w" + t for t in toks] * self.WORD_WEIGHT
        feats += ["b" + x + "|" + y for x, y in zip(toks, toks[1:])] * self.PAIR_WEIGHT
        s = "^" + a.key + "$"
        for n in self.CHAR_NGRAMS:
            feats += ["c" + s[i : i + n] for i in range(len(s) - n + 1)]
        return feats

    def find_district(self, text: str, fuzzy: bool = True) -> str | None:
        """The official name of the district text names, allowing a one-letter typo when fuzzy."""
        found = self.districts.find(self.norm.clean(text), fuzzy=fuzzy)
        return found.value if found is not None else None

    def find_action(self, text: str) -> str | None:
        """The catalogue id of the action text names ("แยกขยะ" -> sort_waste), or None."""
        return self.actions.find(" ".join(self.norm.tokens(self.norm.clean(text))))

    def normalize(self, text: str) -> str:
        """The cleaned text, as kept for unmatched-text review (no user data added)."""
        return self.norm.clean(text)

    # -- classification ----------------------------------------------------
    def _rule(self, a: _Analysis) -> str | None:
        key = a.key
        for r in self.rules:
            if key in r.exact:
                return r.intent
            if not r.groups:
                continue
            if r.needs_action and a.action is None:
                continue
            if all(any(w in key for w in g) for g in r.groups) and not any(w in key for w in r.none):
                return r.intent
        return None

    def _entities(self, intent: str, a: _Analysis) -> dict[str, str]:
        ents: dict[str, str] = {}
        if a.district is not None:
            ents["district"] = a.district.value
        if a.action is not None and intent in ACTION_INTENTS:
            ents["action"] = a.action
        return ents

    def _make(self, intent: str, score: float, a: _Analysis, confident: bool = True,
              alternatives: list[tuple[str, float]] | None = None) -> Match:
        if intent == SET_DISTRICT and a.district is None:
            # "ย้ายไปอยู่สารพีแล้ว": try once more forgiving one wrong letter
            found = self.districts.find(a.cleaned, fuzzy=True)
            if found is not None:
                a = _Analysis(a.cleaned, a.tokens, a.key, found, a.action)
        return Match(
            intent=intent,
            score=max(0.0, min(1.0, score)),
            entities=self._entities(intent, a),
            confident=confident,
            alternatives=list(alternatives or []),
            normalized=a.cleaned,
        )

    def classify(self, text: str) -> Match:
        """The intent, score and entities of one message."""
        a = self._analyse(text or "")
        letters = len(_LETTER.findall(a.key))
        if letters < self.min_letters and a.district is None:
            # a very short phrase typed exactly as trained ("ดีครับ") still counts
            if a.key in self.exact:
                return self._make(self.exact[a.key], 1.0, a)
            return self._make(OUT_OF_SCOPE, 1.0, a)

        intent = self._rule(a)
        if intent is not None:
            return self._make(intent, 1.0, a)

        key = a.key
        if any(w in key for w in self.oos_keywords) and not any(w in key for w in self.domain_keywords):
            return self._make(OUT_OF_SCOPE, 0.95, a)

        if a.district is not None:
            rest = key.replace(DISTRICT_SLOT, "")
            for cue in self.cue_keys:
                rest = rest.replace(cue, "")
            if len(_LETTER.findall(rest)) <= 2:
                return self._make(SET_DISTRICT, 0.95, a)

        if key in self.exact:
            return self._make(self.exact[key], 1.0, a)

        ranked, coverage = self.rank(a)
        best, p = ranked[0]
        alternatives = [(i, s) for i, s in ranked[1:4]]
        if best == OUT_OF_SCOPE or coverage < self.t_coverage:
            alts = [(i, s) for i, s in ranked if i != OUT_OF_SCOPE][:3]
            return self._make(OUT_OF_SCOPE, max(p if best == OUT_OF_SCOPE else 0.0, 1.0 - coverage), a, True, alts)
        p_oos = dict(ranked).get(OUT_OF_SCOPE, 0.0)
        if p < self.t_oos and p_oos >= p / 2:
            alts = [(i, s) for i, s in ranked if i != OUT_OF_SCOPE][:3]
            return self._make(OUT_OF_SCOPE, p_oos, a, False, alts)
        return self._make(best, p, a, p >= self.t_confident, alternatives)

    def rank(self, a: _Analysis) -> tuple[list[tuple[str, float]], float]:
        """Intents by probability (best first) and the share of trigrams the model knows."""
        feats = self.features(a)
        scores, known = self.model.log_scores(feats)
        if self.perceptron is not None:
            pw = self.perceptron_weight
            scores = [s + pw * q for s, q in zip(scores, self.perceptron.scores(feats))]
        if self.topic_boost:
            # naive Bayes' margins grow with the number of features, so does the boost
            boost = self.topic_boost * known
            index = {c: i for i, c in enumerate(self.model.classes)}
            for intent, kws in self.topics:
                if intent in index and any(w in a.key for w in kws):
                    scores[index[intent]] += boost
        trigrams = [f for f in feats if f[0] == "c" and len(f) == 4]
        known_tri = sum(1 for f in trigrams if self.model.knows(f))
        coverage = known_tri / len(trigrams) if trigrams else 0.0
        t = self.temperature
        top = max(scores)
        exps = [math.exp((s - top) / t) for s in scores]
        z = sum(exps)
        ranked = sorted(
            ((c, e / z) for c, e in zip(self.model.classes, exps)), key=lambda x: x[1], reverse=True
        )
        return ranked, coverage
