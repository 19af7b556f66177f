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
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pythainlp.corpus import thai_words
from pythainlp.util import Trie

from bot.nlu import model_cache
from bot.nlu.bank import OTHER as OTHER_CLASS
from bot.nlu.bank import OUT as OUT_OF_SCOPE_CLASS
from bot.nlu.bank import OVERVIEW as OVERVIEW_PREFIX
from bot.nlu.bank import BankData, BankModel, Ranked
from bot.nlu.classifier import AveragedPerceptron, NaiveBayes, vocab_from_state, vocab_state
from bot.nlu.entities import ActionFinder, DistrictFinder
from bot.nlu.language import LanguageGuess
from bot.nlu.normalize import AnyOf, Normalizer, WordSet, strip_tones
from bot.nlu.readings import Analysis, Context, Match, Rule

OUT_OF_SCOPE = "out_of_scope"
SET_DISTRICT = "set_district"
# Intents whose entities include the named catalogue action.
ACTION_INTENTS = frozenset({"pledge_start", "pledge_cancel"})
# Stands for whichever district a text names, so phrases about one district
# teach the classifier about all 25.
DISTRICT_SLOT = "§"

_LETTER = re.compile(r"[\u0e01-\u0e2ea-z]")


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
        bank: BankData | None = None,
        trained: Mapping[str, Any] | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.intents = list(training)
        self.norm = Normalizer(lexicon)
        lang = lexicon.get("language") or {}
        self.language = LanguageGuess(lang.get("neutral") or (), lang.get("weak") or ())
        clean = self.norm.clean
        self.districts = DistrictFinder(districts, lexicon, clean)
        self.actions = ActionFinder(lexicon.get("actions") or {}, clean)
        # PyThaiNLP's words merged with the bot's own (a custom dictionary replaces the default).
        self.norm.trie = trie or WordSet(set(thai_words()) | self._extra_words(districts))

        def words(items: Iterable[str]) -> tuple[str, ...]:
            return tuple(k for k in (self._key_of(w) for w in items) if k)

        self.rules = [
            Rule(
                intent=r["intent"],
                groups=tuple(AnyOf(words(g)) for g in r.get("all") or ()),
                none=AnyOf(words(r.get("none") or ())),
                exact=frozenset(words(r.get("exact") or ())),
                needs_action=bool(r.get("needs_action")),
            )
            for r in lexicon.get("rules") or ()
        ]
        self.oos_keywords = AnyOf(words(lexicon.get("oos_keywords") or ()))
        self.domain_keywords = AnyOf(words(lexicon.get("domain_keywords") or ()))
        self.cue_keys = words(lexicon.get("district_cues") or ())
        # intents the classifier alone may name only when the text has one of their words
        self.intent_cues = {str(i): AnyOf(words(ws)) for i, ws in (lexicon.get("intent_cues") or {}).items()}
        self.intent_not = {str(i): AnyOf(words(ws)) for i, ws in (lexicon.get("intent_not") or {}).items()}
        self.not_now = AnyOf(w.replace(" ", "").lower() for w in (lexicon.get("emergency_not_now") or ()))
        self.now = AnyOf(w.replace(" ", "").lower() for w in (lexicon.get("emergency_now") or ()))
        thresholds = lexicon.get("thresholds") or {}
        self.t_confident = float(thresholds.get("confident", 0.55))
        self.t_coverage = float(thresholds.get("min_coverage", 0.45))
        self.t_oos = float(thresholds.get("oos", 0.35))
        self.temperature = float(thresholds.get("temperature", 4.0))
        self.min_letters = int(lexicon.get("min_letters", 2))
        self.topic_boost = float(thresholds.get("topic_boost", 0.3))
        self.topics = [(intent, AnyOf(words(kws))) for intent, kws in (lexicon.get("topic_keywords") or {}).items()]

        self.thresholds = thresholds
        # An entry answers when the bank is this sure of it: among all entries when the topic is in
        # doubt, among its topic's entries and overview when the classifier is sure of the topic.
        self.t_entry = float(thresholds.get("entry", 0.6))
        self.t_entry_in_topic = float(thresholds.get("entry_in_topic", 0.25))
        self.topic_weight = float(thresholds.get("topic_weight", 1.0))
        self.min_letters_to_override = int(thresholds.get("min_letters_to_override", 8))
        self.t_entry_sure = float(thresholds.get("entry_sure", 0.98))
        self.t_entry_own = float(thresholds.get("entry_own", 0.98))
        self.min_key_for_entry = int(thresholds.get("min_key_for_entry", 5))
        self.perceptron_weight = float(thresholds.get("perceptron_weight", 1.0))
        self.topic_floor = float(thresholds.get("topic_floor", 1e-4))
        # Reading a message as the next turn of a conversation (in_context).
        self.context_prior = float(thresholds.get("context_prior", 10.0))
        self.context_related = float(thresholds.get("context_related", 3.0))
        self.context_with_question = float(thresholds.get("context_with_question", 0.3))
        self.context_short = float(thresholds.get("context_short", 1000))
        self.context_favoured = float(thresholds.get("context_favoured", 10.0))
        if trained is not None:
            self._restore(trained)
        else:
            self._fit(training, bank or BankData())
        self._topics_of_classes: list[str | None] | None = None
        self._recent = threading.local()
        self._question_cache: dict[str, np.ndarray] = {}
        self._class_topic_index: np.ndarray | None = None
        self._warm_lock = threading.Lock()
        self._warmed = False

    def _fit(self, training: Mapping[str, Sequence[str]], bank: BankData) -> None:
        """Learn the topics and the bank from the phrases (a few seconds; then cached, see from_content)."""
        self.exact: dict[str, str] = {}
        thresholds = self.thresholds
        # The bank's questions and the overviews' broad questions teach the topics too.
        by_topic: dict[str, list[str]] = {intent: [str(p) for p in phrases or ()] for intent, phrases in training.items()}
        for e in bank.entries.values():
            by_topic.setdefault(e.topic, []).extend(e.questions)
        for topic, broad in bank.overviews.items():
            by_topic.setdefault(topic, []).extend(broad)
        for topic, asks in bank.asks.items():
            by_topic.setdefault(topic, []).extend(asks)
        analysed: dict[str, Analysis] = {}

        def analyse(text: str) -> Analysis:
            if text not in analysed:
                analysed[text] = self._analyse(text)
            return analysed[text]

        docs, labels = [], []
        for intent, phrases in by_topic.items():
            for phrase in phrases:
                a = analyse(phrase)
                if not a.key:
                    continue
                if phrase in (training.get(intent) or ()):
                    self.exact.setdefault(a.key, intent)
                docs.append(self.features(a))
                labels.append(intent)
        self.model = NaiveBayes(alpha=float(thresholds.get("alpha", 0.1))).fit(docs, labels)
        # the perceptron's scores are added to naive Bayes' log scores (weight 0: off)
        self.perceptron: AveragedPerceptron | None = None
        if self.perceptron_weight:
            self.perceptron = AveragedPerceptron(
                epochs=int(thresholds.get("perceptron_epochs", 3)),
                margin=float(thresholds.get("perceptron_margin", 1.0)),
            ).fit(docs, labels, self.model.classes).share_vocabulary(self.model.weights.vocab)
        self.informational = frozenset(e.topic for e in bank.entries.values()) | frozenset(bank.overviews) \
            | frozenset(bank.asks)
        self.bank = BankModel.train(bank, lambda text: self.features(analyse(text)), lambda text: analyse(text).key,
                              out_of_scope=[str(x) for x in training.get(OUT_OF_SCOPE) or ()],
                              other=[str(x) for i, xs in training.items() if i not in self.informational
                                     and i != OUT_OF_SCOPE for x in xs or ()],
                              epochs=int(thresholds.get("bank_epochs", 1)),
                              temperature=float(thresholds.get("bank_temperature", 10.0)))
        # One vocabulary for the four models: a message's features are looked up once.
        vocab = dict(self.model.weights.vocab)
        for f in self.bank.nb.weights.vocab:
            vocab.setdefault(f, len(vocab))
        self.vocab = vocab
        self.model.share_vocabulary(vocab)
        if self.perceptron is not None:
            self.perceptron.share_vocabulary(vocab)
        self.bank.share_vocabulary(vocab)

    def trained_state(self) -> dict[str, Any]:
        """The learnt models as plain data: what the start-up cache keeps."""
        return {"intents": self.intents, "exact": self.exact, "vocab": vocab_state(self.vocab),
                "model": self.model.state(),
                "perceptron": self.perceptron.state() if self.perceptron else None,
                "informational": sorted(self.informational), "bank": self.bank.state()}

    def _restore(self, t: Mapping[str, Any]) -> None:
        self.intents = list(t["intents"])
        self.exact = dict(t["exact"])
        self.vocab = vocab_from_state(str(t["vocab"]))
        self.model = NaiveBayes.from_state(t["model"], self.vocab)
        self.perceptron = AveragedPerceptron.from_state(t["perceptron"], self.vocab) if t["perceptron"] else None
        self.informational = frozenset(t["informational"])
        self.bank = BankModel.from_state(t["bank"], self.vocab)

    # -- construction ------------------------------------------------------
    @classmethod
    def from_content(cls, content_dir: Path, cache_dir: Path | None = None) -> Matcher:
        """Build from content/nlu/*.yaml, content/bank/*.yaml and content/districts.yaml.

        Learning the phrases takes seconds; with cache_dir the learnt models are kept there, under
        a hash of every file they come from (and of this code), and read back at the next start.
        """
        content_dir = Path(content_dir)
        lexicon = _load_yaml(content_dir / "nlu" / "lexicon.yaml") or {}
        districts = _load_yaml(content_dir / "districts.yaml") or []
        cache = model_cache.path_for(cache_dir, content_dir) if cache_dir else None
        trained = model_cache.read(cache) if cache else None
        if trained is not None:
            return cls(lexicon, {}, districts, trained=trained)
        training = _load_yaml(content_dir / "nlu" / "training.yaml") or {}
        matcher = cls(lexicon, training, districts, bank=BankData.from_content(content_dir, _load_yaml))
        if cache:
            model_cache.write(cache, matcher.trained_state())
        return matcher

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

    def _analyse(self, text: str) -> Analysis:
        cleaned = self.norm.clean(text)
        district = self.districts.find(cleaned)
        slotted = cleaned
        if district is not None:
            slotted = f"{cleaned[: district.start]} {DISTRICT_SLOT} {cleaned[district.end :]}".strip()
        tokens = self.norm.tokens(slotted)
        key = strip_tones("".join(tokens))
        action = self.actions.find(" ".join(tokens))
        return Analysis(cleaned, tokens, key, district, action)

    # feature recipe: (word weight, word-pair weight, character n-gram sizes)
    WORD_WEIGHT = 2
    PAIR_WEIGHT = 0
    CHAR_NGRAMS: tuple[int, ...] = (2, 3)

    def features(self, a: Analysis) -> list[str]:
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
    def _rule(self, a: Analysis) -> str | None:
        key = a.key
        for r in self.rules:
            if key in r.exact:
                return r.intent
            if not r.groups:
                continue
            if r.needs_action and a.action is None:
                continue
            if all(g(key) for g in r.groups) and not r.none(key):
                return r.intent
        return None

    def _entities(self, intent: str, a: Analysis) -> dict[str, str]:
        ents: dict[str, str] = {}
        if a.district is not None:
            ents["district"] = a.district.value
        if a.action is not None and intent in ACTION_INTENTS:
            ents["action"] = a.action
        return ents

    def _make(self, intent: str, score: float, a: Analysis, confident: bool = True,
              alternatives: list[tuple[str, float]] | None = None) -> Match:
        if intent == SET_DISTRICT and a.district is None:
            # "ย้ายไปอยู่สารพีแล้ว": try once more forgiving one wrong letter
            found = self.districts.find(a.cleaned, fuzzy=True)
            if found is not None:
                a = Analysis(a.cleaned, a.tokens, a.key, found, a.action)
        return Match(
            intent=intent,
            score=max(0.0, min(1.0, score)),
            entities=self._entities(intent, a),
            confident=confident,
            alternatives=list(alternatives or []),
            normalized=a.cleaned,
        )

    def classify(self, text: str) -> Match:
        """The intent, score, entities and question-bank answer of one message."""
        a = self._analyse(text or "")
        match, settled, topics = self._topic(a)
        self._recent.reading = (text or "", a, match.intent, settled, topics)
        if settled:
            match.settled = True
            return match
        return self._answer(a, match, topics)

    def _reading(self, text: str) -> tuple[Analysis, str, bool, dict[str, float]]:
        """The analysis and topic reading of text: classify()'s of this thread when it read the same
        words last (the dialogue asks about one message several times), else worked out anew."""
        last = getattr(self._recent, "reading", None)
        if last is not None and last[0] == text:
            return last[1], last[2], last[3], last[4]
        a = self._analyse(text)
        m, settled, topics = self._topic(a)
        return a, m.intent, settled, topics

    def _question_rows(self, question: str) -> np.ndarray:
        """The features of a question an answer answers, in the shared vocabulary (kept: a few hundred)."""
        rows = self._question_cache.get(question)
        if rows is None:
            rows = self.bank.nb.weights.rows_of(self.features(self._analyse(question)))
            if len(self._question_cache) < 4096:
                self._question_cache[question] = rows
        return rows

    def emergency(self, text: str, match: Match | None = None) -> str | None:
        """The safety entry (a symptom or an emergency happening now) the text reports, or None:
        its trigger words, or the bank sure of it; never a past event or news ("ปีที่แล้วพ่อหายใจไม่ออก")
        unless the text says it is happening now too. match: the text's classify(), when known."""
        if self._told_as_past(text):
            return None
        found = self.bank.emergency(text)
        if found is not None:
            return found
        m = match if match is not None else self.classify(text)
        if m.answer in self.bank.safety_ids and m.answer_p >= self.t_entry:
            return m.answer
        return None

    def rank_entries(self, text: str, only: set[str] | None = None, limit: int = 5) -> list[tuple[str, float]]:
        """Bank classes (entry ids, "@<topic>") for text, best first, optionally among `only`."""
        a = self._analyse(text or "")
        return [(r.key, r.p) for r in self.bank.rank(self.features(a), a.key, only=only, limit=limit)]

    def topic_of(self, entry: str) -> str | None:
        return self.bank.topic_of.get(entry)

    def in_context(self, text: str, context: Context) -> Ranked | None:
        """The bank class a message asks when read as the next turn of a conversation, or None.

        "ได้ผลไหม", "what about rice?", "ใครเสี่ยงสุด": on their own these say little; after an
        answer they ask about its subject. Each class keeps the bank's probability for the words
        alone, weighted by a prior from the conversation (context_prior for the topic just answered,
        context_related more for the entries that answer names as related), and by how well it
        fits the words read together with the question just answered (context_with_question).
        A clear question on another subject keeps its own reading. The answer just shown is never
        the result. Returns the winner with its share of the weighted total.
        """
        a, reading, settled, topics = self._reading(text or "")
        if settled or not a.key:
            return None
        classes = self.bank.classes
        _, own = self._bank_scores(a, reading, topics)
        index = self.bank.class_index
        same: np.ndarray = self.bank.class_topics == context.topic  # a new array
        shown = index.get(context.shown or "")
        if shown is not None:
            same[shown] = False
        # the words read together with the question just answered (its features added to the message's)
        rows = np.concatenate([a.rows[0] if a.rows else self.bank.nb.weights.rows_of(self.features(a)),
                               self._question_rows(context.question)])
        q = self.bank.probabilities([], "", rows=rows, mask=same) if same.any() else np.zeros(len(classes))
        prior = np.where(same, self.context_prior, 1.0)
        related = [index[k] for k in context.related if k in index]
        prior[related] *= self.context_related
        if context.favoured in index:
            prior[index[context.favoured]] *= self.context_favoured
        # a long message says what it asks; the conversation weighs less the more it says
        fade = min(1.0, self.context_short / max(1, len(_LETTER.findall(a.key))))
        score = own + fade * (np.log(prior) + self.context_with_question * np.log(np.maximum(q, 1e-3)))
        # the dialogue reads a message in context only when no flow claimed it: never "@other"
        for i in (shown, index.get(OTHER_CLASS)):
            if i is not None:
                score[i] = -np.inf
        w = np.exp(score - score.max())
        best = int(np.argmax(score))
        return Ranked(classes[best], float(w[best] / w.sum()))

    def _answer(self, a: Analysis, m: Match, topics: dict[str, float]) -> Match:
        """Read the message against the bank: the entry it asks, or its topic's overview.

        Each bank class (an entry, a topic's overview) scores its own probability times its topic's
        probability (to the power topic_weight) from the topic classifier, which has learnt from
        many more phrases: the bank tells close questions apart, the topics keep it on subject.
        A flow or a greeting the classifier is sure of stays what it is.
        """
        if m.confident and m.intent not in self.informational and m.intent != OUT_OF_SCOPE:
            return m
        classes = self.bank.classes
        p, combined = self._bank_scores(a, m.intent, topics)
        order = np.argsort(-combined, kind="stable")
        # "call 1669" only for a message that reads as an emergency now: sure, and not told as past
        sure = p >= self.t_entry
        if (sure & self.bank.safety_mask).any() and self._told_as_past(a.cleaned):
            sure = np.zeros_like(sure)
        safe = ~self.bank.safety_mask | sure
        order = order[safe[order]]
        # the topic weighting can bury an entry the bank alone is near certain of under one it barely
        # considers ("my neighbor is burning plastic": waste by topic, reporting a neighbour by the bank)
        own = int(order[np.argmax(p[order])])
        if p[own] >= self.t_entry_own and p[order[0]] < 0.1 and classes[order[0]] in self.bank.topic_of \
                and classes[own] in self.bank.topic_of:  # an entry over an entry; a topic's overview stays
            order = np.concatenate(([own], order[order != own]))
        m.answers = [(classes[i], float(p[i])) for i in order[:5]]
        r = Ranked(classes[order[0]], float(p[order[0]]))
        if r.key in (OUT_OF_SCOPE_CLASS, OTHER_CLASS):
            return m
        topic = r.topic or self.bank.topic_of[r.key]
        sure_topic = m.confident and topic == m.intent
        if r.p < (self.t_entry_in_topic if sure_topic else self.t_entry):
            return m
        if r.p < 1.0 and len(a.key) < self.min_key_for_entry:
            return m  # "โลก", "ฝุ่น": too little said for a specific answer; the overview (or a question) fits
        if not sure_topic and r.p < self.t_entry_sure and len(_LETTER.findall(a.key)) < self.min_letters_to_override:
            return m  # too little said to overrule the classifier's doubt (unless the bank is all but certain)
        if topic != m.intent:
            alts = [(i, s) for i, s in [(m.intent, m.score), *m.alternatives] if i != topic]
            m.alternatives = sorted(alts, key=lambda x: -x[1])[:3]
            m.intent, m.score, m.confident = topic, r.p, True
        elif not m.confident:  # the classifier doubted this topic; the bank is sure of one of its entries
            m.score, m.confident = max(m.score, r.p), True
        m.answer = r.entry
        return m

    def _bank_scores(self, a: Analysis, reading: str, topics: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Each bank class's own probability, and its log score with its topic's probability
        (worked out once per analysis: in_context() reuses classify()'s)."""
        last = getattr(self._recent, "scores", None)
        if last is not None and last[0] is a:
            return last[1], last[2]
        p, combined = self._work_out_bank_scores(a, reading, topics)
        self._recent.scores = (a, p, combined)
        return p, combined

    def _work_out_bank_scores(self, a: Analysis, reading: str, topics: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        classes = self.bank.classes
        p = self.bank.probabilities([], a.key, rows=a.rows[0], distinct=a.distinct_rows()) if a.rows else \
            self.bank.probabilities(self.features(a), a.key)
        topic_p = topics or {reading: 1.0}
        # each class's topic: an entry's, an overview's own, out_of_scope, or (flows) the reading's
        class_topic = self._class_topics()
        tp = np.fromiter((topic_p.get(t or reading, 0.0) for t in class_topic), dtype=float, count=len(classes)) \
            if len(topic_p) < 3 else self._topic_vector(topic_p, reading)
        # The floors keep a class the bank is sure of in the running when the topic classifier
        # all but rules its topic out ("a way to cut methane from the paddies" read as haze).
        combined = np.log(np.maximum(p, 1e-6)) + self.topic_weight * np.log(np.maximum(tp, self.topic_floor))
        return p, combined

    def _told_as_past(self, text: str) -> bool:
        """"ปีที่แล้ว…", "in the news…", without "ตอนนี้"/"right now": not happening now."""
        compact = re.sub(r"\s+", "", (text or "").lower())
        return self.not_now(compact) and not self.now(compact)

    def _topic_vector(self, topic_p: dict[str, float], reading: str) -> np.ndarray:
        """Each bank class's topic probability, from the classifier's (vectorised)."""
        if self._class_topic_index is None:
            classes = list(self.model.classes)
            self._class_topic_index = np.array([classes.index(t) if t in classes else -1
                                                for t in self._class_topics()], dtype=np.int64)
        probs = np.fromiter((topic_p.get(c, 0.0) for c in self.model.classes), dtype=float,
                            count=len(self.model.classes))
        idx = self._class_topic_index
        out: np.ndarray = np.where(idx >= 0, probs[np.maximum(idx, 0)], topic_p.get(reading, 0.0))
        return out

    def _class_topics(self) -> list[str | None]:
        """The topic each bank class stands for (None: a flow or greeting, whatever was read)."""
        if self._topics_of_classes is None:
            out: list[str | None] = []
            for c in self.bank.classes:
                if c == OUT_OF_SCOPE_CLASS:
                    out.append(OUT_OF_SCOPE)
                elif c == OTHER_CLASS:
                    out.append(None)
                else:
                    out.append(self.bank.topic_of.get(c) or c[len(OVERVIEW_PREFIX):])
            self._topics_of_classes = out
        return self._topics_of_classes

    def _topic(self, a: Analysis) -> tuple[Match, bool, dict[str, float]]:
        """The topic classifier's reading, and whether it is settled (a rule, a tiny text, a district…)."""
        letters = len(_LETTER.findall(a.key))
        if letters < self.min_letters and a.district is None:
            # a very short phrase typed exactly as trained ("ดีครับ") still counts
            if a.key in self.exact:
                return self._make(self.exact[a.key], 1.0, a), True, {}
            return self._make(OUT_OF_SCOPE, 1.0, a), True, {}

        intent = self._rule(a)
        if intent is not None:
            return self._make(intent, 1.0, a), True, {}

        key = a.key
        if self.oos_keywords(key) and not self.domain_keywords(key):
            return self._make(OUT_OF_SCOPE, 0.95, a), True, {}

        if a.district is not None:
            rest = key.replace(DISTRICT_SLOT, "")
            for cue in self.cue_keys:
                rest = rest.replace(cue, "")
            if len(_LETTER.findall(rest)) <= 2:
                return self._make(SET_DISTRICT, 0.95, a), True, {}

        if key in self.exact:
            return self._make(self.exact[key], 1.0, a), False, {}

        ranked, coverage = self.rank(a)
        ranked = [(i, q) for i, q in ranked if (i not in self.intent_cues or self.intent_cues[i](key))
                  and not (i in self.intent_not and self.intent_not[i](key))]
        best, p = ranked[0]
        alternatives = [(i, s) for i, s in ranked[1:4]]
        if best == OUT_OF_SCOPE or coverage < self.t_coverage:
            alts = [(i, s) for i, s in ranked if i != OUT_OF_SCOPE][:3]
            return self._make(OUT_OF_SCOPE, max(p if best == OUT_OF_SCOPE else 0.0, 1.0 - coverage), a, True, alts), \
                coverage < self.t_coverage, dict(ranked)
        p_oos = dict(ranked).get(OUT_OF_SCOPE, 0.0)
        if p < self.t_oos and p_oos >= p / 2:
            alts = [(i, s) for i, s in ranked if i != OUT_OF_SCOPE][:3]
            return self._make(OUT_OF_SCOPE, p_oos, a, False, alts), False, dict(ranked)
        return self._make(best, p, a, p >= self.t_confident, alternatives), False, dict(ranked)

    def rank(self, a: Analysis) -> tuple[list[tuple[str, float]], float]:
        """Intents by probability (best first) and the share of trigrams the model knows."""
        feats = self.features(a)
        weights = self.model.weights
        looked_up = [weights.vocab.get(f) for f in feats]
        rows = np.fromiter((r for r in looked_up if r is not None), dtype=np.int64)
        a.rows.append(rows)  # the shared vocabulary: the bank reuses them
        scores, known = self.model.log_scores_of_rows(rows)
        if self.perceptron is not None:
            scores = scores + self.perceptron_weight * self.perceptron.scores_of_rows(a.distinct_rows())
        if self.topic_boost:
            # naive Bayes' margins grow with the number of features, so does the boost
            boost = self.topic_boost * known
            index = self.model.class_index
            for intent, kws in self.topics:
                if intent in index and kws(a.key):
                    scores[index[intent]] += boost
        # the character trigrams are features()'s last block: one per letter of the key
        n_trigrams = len(a.key) if self.CHAR_NGRAMS[-1] == 3 else 0
        tri_rows = np.fromiter((r for r in looked_up[len(looked_up) - n_trigrams:] if r is not None),
                               dtype=np.int64)
        known_tri = int(weights.has(tri_rows).sum()) if len(tri_rows) else 0
        coverage = known_tri / n_trigrams if n_trigrams else 0.0
        exps = np.exp((scores - scores.max()) / self.temperature)
        probs = (exps / exps.sum()).tolist()
        ranked = sorted(zip(self.model.classes, probs, strict=True), key=lambda x: x[1], reverse=True)
        return ranked, coverage
