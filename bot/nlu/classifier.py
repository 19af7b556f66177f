"""A small multinomial naive Bayes and an averaged perceptron over sparse features.

Trained at start-up from the YAML phrases (a single counting pass, a few
milliseconds). Scoring is sparse: with add-alpha smoothing,

    log P(f|c) = log(alpha / (N_c + alpha*V)) + log(1 + n_fc / alpha)

so a message's score for class c is its number of known features times the
first (per-class) term plus, for each feature, the second term for only the
classes that ever saw it. Read-only after fit(), hence safe across threads.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class SparseRows:
    """Per-feature weights by class, packed as compressed rows (NumPy), for fast scoring.

    Learning builds dicts; scoring a message sums the rows of its features. Packed, a row is a
    slice of two flat arrays (class indices and weights), so a message's rows are gathered and
    summed per class with a few vectorised operations instead of a Python loop over every
    (feature, class) pair, and the weights take a fraction of the memory of Python tuples.
    """

    # Scoring gathers whole rows of a dense copy (float32) when it takes at most this many cells:
    # a few times faster than gathering sparse slices, for 4 bytes a cell (shared by gunicorn's
    # workers, which fork after the matcher is built).
    DENSE_CELLS = 8_000_000

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                 n_classes: int) -> None:
        self.vocab, self.indptr, self.indices, self.data, self.n_classes = vocab, indptr, indices, data, n_classes
        self._dense: np.ndarray | None = None

    def dense(self) -> np.ndarray | None:
        """The weights as a (rows, classes) float32 matrix, built on first use; None when too big."""
        if self._dense is None and 0 < (len(self.indptr) - 1) * self.n_classes <= self.DENSE_CELLS:
            n_rows = len(self.indptr) - 1
            m = np.zeros((n_rows, self.n_classes), dtype=np.float32)
            m[np.repeat(np.arange(n_rows), np.diff(self.indptr)), self.indices] = self.data
            self._dense = m
        return self._dense

    @classmethod
    def pack(cls, rows: dict[str, tuple[tuple[int, float], ...]], n_classes: int) -> SparseRows:
        vocab = {f: i for i, f in enumerate(rows)}
        lengths = np.fromiter((len(r) for r in rows.values()), dtype=np.int64, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pairs = [pair for r in rows.values() for pair in r]
        indices = np.fromiter((i for i, _ in pairs), dtype=np.int32, count=len(pairs))
        data = np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))
        return cls(vocab, indptr, indices, data, n_classes)

    def reindexed(self, vocab: dict[str, int]) -> SparseRows:
        """The same weights with rows numbered by another vocabulary (a feature it lacks is dropped),
        so two models of one classifier look a message's features up once."""
        lengths = np.zeros(len(vocab), dtype=np.int64)
        mine = [(vocab[f], i) for f, i in self.vocab.items() if f in vocab]
        for row, i in mine:
            lengths[row] = self.indptr[i + 1] - self.indptr[i]
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.zeros(int(indptr[-1]), dtype=np.int32)
        data = np.zeros(int(indptr[-1]))
        for row, i in mine:
            a, b = self.indptr[i], self.indptr[i + 1]
            indices[indptr[row]:indptr[row + 1]] = self.indices[a:b]
            data[indptr[row]:indptr[row + 1]] = self.data[a:b]
        return SparseRows(vocab, indptr, indices, data, self.n_classes)

    def rows_of(self, feats: Iterable[str]) -> np.ndarray:
        """The row numbers of the features in the vocabulary (repeats kept)."""
        return np.array([r for r in map(self.vocab.get, feats) if r is not None], dtype=np.int64)

    def has(self, rows: np.ndarray) -> np.ndarray:
        """Which of these rows hold weights (a feature of a shared vocabulary this model never saw has none)."""
        out: np.ndarray = self.indptr[rows + 1] > self.indptr[rows]
        return out

    def sum(self, rows: np.ndarray) -> np.ndarray:
        """The per-class sum of these rows' weights."""
        if not len(rows):
            return np.zeros(self.n_classes)
        dense = self.dense()
        if dense is not None:
            out: np.ndarray = dense[rows].sum(axis=0).astype(np.float64)
            return out
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(self.n_classes)
        # positions of every weight of every row, without a Python loop over the rows
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return np.bincount(self.indices[offsets], weights=self.data[offsets], minlength=self.n_classes)

    def state(self) -> dict[str, Any]:
        """The arrays (the vocabulary is kept once by whoever shares it: see vocab_state)."""
        return {"indptr": self.indptr, "indices": self.indices, "data": self.data, "n_classes": self.n_classes}

    @classmethod
    def from_state(cls, s: dict[str, Any], vocab: dict[str, int]) -> SparseRows:
        return cls(vocab, np.asarray(s["indptr"]), np.asarray(s["indices"]), np.asarray(s["data"]), int(s["n_classes"]))


def vocab_state(vocab: dict[str, int]) -> str:
    """A vocabulary as one string (features never hold a newline: the normaliser removes them)."""
    return "\n".join(vocab)


def vocab_from_state(s: str) -> dict[str, int]:
    return {f: i for i, f in enumerate(s.split("\n"))} if s else {}


class NaiveBayes:
    """Multinomial naive Bayes with sparse scoring."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self.classes: list[str] = []
        self.prior: list[float] = []
        self.base: list[float] = []
        self.weights = SparseRows({}, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0), 0)
        self._prior = self._base = np.zeros(0)

    @property
    def class_index(self) -> dict[str, int]:
        """Each class's position in `classes` (worked out again only when the classes change)."""
        cached = getattr(self, "_class_index", None)
        if cached is None or cached[0] is not self.classes:
            cached = (self.classes, {c: i for i, c in enumerate(self.classes)})
            self._class_index = cached
        return cached[1]

    def fit(self, docs: Sequence[Sequence[str]], labels: Sequence[str]) -> NaiveBayes:
        """Count features per class; uniform prior (phrase counts are not frequencies)."""
        self.classes = sorted(set(labels))
        ci = {c: i for i, c in enumerate(self.classes)}
        counts: dict[str, Counter[int]] = {}
        totals = [0] * len(self.classes)
        for feats, label in zip(docs, labels):
            i = ci[label]
            for f in feats:
                counts.setdefault(f, Counter())[i] += 1
                totals[i] += 1
        vocab = len(counts)
        a = self.alpha
        self.prior = [0.0] * len(self.classes)
        self.base = [math.log(a / (totals[i] + a * vocab)) for i in range(len(self.classes))]
        self.weights = SparseRows.pack(
            {f: tuple((i, math.log1p(n / a)) for i, n in sorted(c.items())) for f, c in counts.items()},
            len(self.classes))
        self._prior, self._base = np.array(self.prior), np.array(self.base)
        return self

    def log_scores(self, feats: Sequence[str]) -> tuple[np.ndarray, int]:
        """Unnormalised log posteriors per class, and how many features were known."""
        return self.log_scores_of_rows(self.weights.rows_of(feats))

    def log_scores_of_rows(self, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """log_scores() for features already looked up (rows of weights.vocab, repeats kept)."""
        rows = rows[self.weights.has(rows)] if len(rows) else rows
        known = len(rows)
        out: np.ndarray = self._prior + known * self._base + self.weights.sum(rows)
        return out, known

    def knows(self, feature: str) -> bool:
        row = self.weights.vocab.get(feature)
        return row is not None and bool(self.weights.indptr[row + 1] > self.weights.indptr[row])

    def share_vocabulary(self, vocab: dict[str, int]) -> NaiveBayes:
        """Number the weights' rows as a vocabulary shared with other models (see SparseRows.reindexed)."""
        self.weights = self.weights.reindexed(vocab)
        return self

    def state(self) -> dict[str, Any]:
        """What a trained model is, as plain data and arrays (for the start-up cache)."""
        return {"alpha": self.alpha, "classes": self.classes, "prior": self.prior, "base": self.base,
                "weights": self.weights.state()}

    @classmethod
    def from_state(cls, state: dict[str, Any], vocab: dict[str, int]) -> NaiveBayes:
        m = cls(alpha=float(state["alpha"]))
        m.classes, m.prior, m.base = list(state["classes"]), list(state["prior"]), list(state["base"])
        m.weights = SparseRows.from_state(state["weights"], vocab)
        m._prior, m._base = np.array(m.prior), np.array(m.base)
        return m


class AveragedPerceptron:
    """A multi-class averaged perceptron over the same features (learnt in pure Python).

    Naive Bayes counts each feature on its own; the perceptron learns which
    features tell neighbouring intents apart (and which out-of-scope phrases
    merely share a word with an intent). Added to naive Bayes' log scores it
    corrects many of its confusions. Features are binary (present or not),
    updates happen whenever the right intent fails to win by `margin`, and
    the weights are averaged over every step (lazily, Daumé's trick), so a
    few passes over the phrases are enough: about a quarter of a second.
    Deterministic (a seeded shuffle); read-only after fit().
    """

    def __init__(self, epochs: int = 3, margin: float = 1.0, seed: int = 0) -> None:
        self.epochs = epochs
        self.margin = margin
        self.seed = seed
        self.classes: list[str] = []
        self.bias: list[float] = []
        self.weights = SparseRows({}, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0), 0)
        self._bias = np.zeros(0)

    def fit(
        self, docs: Sequence[Sequence[str]], labels: Sequence[str], classes: Sequence[str] | None = None
    ) -> AveragedPerceptron:
        self.classes = list(classes) if classes is not None else sorted(set(labels))
        ci = {c: i for i, c in enumerate(self.classes)}
        n_classes = len(self.classes)
        xs = [tuple(dict.fromkeys(d)) for d in docs]  # first-seen order: the same in every process
        ys = [ci[label] for label in labels]
        w: dict[str, dict[int, float]] = {}
        u: dict[str, dict[int, float]] = {}  # step-weighted updates, for the average
        bias = [0.0] * n_classes
        ub = [0.0] * n_classes
        order = list(range(len(xs)))
        rng = random.Random(self.seed)
        margin = self.margin
        get = w.get
        step = 1
        for _ in range(self.epochs):
            rng.shuffle(order)
            for j in order:
                x = xs[j]
                y = ys[j]
                s = bias[:]
                for f in x:
                    wf = get(f)
                    if wf:
                        for i, v in wf.items():
                            s[i] += v
                sy = s[y]
                s[y] = -math.inf
                top = max(s)
                if top + margin > sy:
                    p = s.index(top)
                    for f in x:
                        wf = get(f)
                        if wf is None:
                            wf = w[f] = {}
                            uf = u[f] = {}
                        else:
                            uf = u[f]
                        wf[y] = wf.get(y, 0.0) + 1.0
                        uf[y] = uf.get(y, 0.0) + step
                        wf[p] = wf.get(p, 0.0) - 1.0
                        uf[p] = uf.get(p, 0.0) - step
                    bias[y] += 1.0
                    ub[y] += step
                    bias[p] -= 1.0
                    ub[p] -= step
                step += 1
        inv = 1.0 / step
        weights = {}
        for f, wf in w.items():
            uf = u[f]
            row = tuple((i, v - uf[i] * inv) for i, v in sorted(wf.items()) if v - uf[i] * inv != 0.0)
            if row:
                weights[f] = row
        self.weights = SparseRows.pack(weights, n_classes)
        self.bias = [b - x * inv for b, x in zip(bias, ub)]
        self._bias = np.array(self.bias)
        return self

    def state(self) -> dict[str, Any]:
        """What a trained model is, as plain data and arrays (for the start-up cache)."""
        return {"epochs": self.epochs, "margin": self.margin, "classes": self.classes, "bias": self.bias,
                "weights": self.weights.state()}

    @classmethod
    def from_state(cls, state: dict[str, Any], vocab: dict[str, int]) -> AveragedPerceptron:
        m = cls(epochs=int(state["epochs"]), margin=float(state["margin"]))
        m.classes, m.bias = list(state["classes"]), list(state["bias"])
        m.weights = SparseRows.from_state(state["weights"], vocab)
        m._bias = np.array(m.bias)
        return m

    def scores(self, feats: Sequence[str]) -> np.ndarray:
        """Score per class (same order as `classes`); each distinct feature counts once."""
        return self.scores_of_rows(np.unique(self.weights.rows_of(feats)))

    def scores_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """scores() for distinct features already looked up (rows of weights.vocab)."""
        out: np.ndarray = self._bias + self.weights.sum(rows)
        return out

    def share_vocabulary(self, vocab: dict[str, int]) -> AveragedPerceptron:
        """Number the weights' rows as another model's vocabulary (see SparseRows.reindexed)."""
        self.weights = self.weights.reindexed(vocab)
        return self
