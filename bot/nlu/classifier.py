"""A small multinomial naive Bayes and an averaged perceptron over sparse features, in pure Python.

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
from collections.abc import Sequence
from typing import Any


class NaiveBayes:
    """Multinomial naive Bayes with sparse scoring."""

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha
        self.classes: list[str] = []
        self.prior: list[float] = []
        self.base: list[float] = []
        self.weights: dict[str, tuple[tuple[int, float], ...]] = {}

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
        self.weights = {
            f: tuple((i, math.log1p(n / a)) for i, n in sorted(c.items())) for f, c in counts.items()
        }
        return self

    def log_scores(self, feats: Sequence[str]) -> tuple[list[float], int]:
        """Unnormalised log posteriors per class, and how many features were known."""
        scores = [0.0] * len(self.classes)
        known = 0
        weights = self.weights
        for f in feats:
            w = weights.get(f)
            if w is None:
                continue
            known += 1
            for i, v in w:
                scores[i] += v
        base = self.base
        prior = self.prior
        return [prior[i] + known * base[i] + scores[i] for i in range(len(scores))], known

    def knows(self, feature: str) -> bool:
        return feature in self.weights

    def state(self) -> dict[str, Any]:
        """What a trained model is, as plain data (for the start-up cache)."""
        return {"alpha": self.alpha, "classes": self.classes, "prior": self.prior, "base": self.base,
                "weights": {f: [i for pair in w for i in pair] for f, w in self.weights.items()}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NaiveBayes:
        m = cls(alpha=float(state["alpha"]))
        m.classes, m.prior, m.base = list(state["classes"]), list(state["prior"]), list(state["base"])
        m.weights = {f: tuple(zip(w[::2], w[1::2], strict=True)) for f, w in state["weights"].items()}
        return m


class AveragedPerceptron:
    """A multi-class averaged perceptron over the same features, in pure Python.

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
        self.weights: dict[str, tuple[tuple[int, float], ...]] = {}

    def fit(
        self, docs: Sequence[Sequence[str]], labels: Sequence[str], classes: Sequence[str] | None = None
    ) -> AveragedPerceptron:
        self.classes = list(classes) if classes is not None else sorted(set(labels))
        ci = {c: i for i, c in enumerate(self.classes)}
        n_classes = len(self.classes)
        xs = [tuple(set(d)) for d in docs]
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
        self.weights = weights
        self.bias = [b - x * inv for b, x in zip(bias, ub)]
        return self

    def state(self) -> dict[str, Any]:
        """What a trained model is, as plain data (for the start-up cache)."""
        return {"epochs": self.epochs, "margin": self.margin, "classes": self.classes, "bias": self.bias,
                "weights": {f: [i for pair in w for i in pair] for f, w in self.weights.items()}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AveragedPerceptron:
        m = cls(epochs=int(state["epochs"]), margin=float(state["margin"]))
        m.classes, m.bias = list(state["classes"]), list(state["bias"])
        m.weights = {f: tuple(zip(w[::2], w[1::2], strict=True)) for f, w in state["weights"].items()}
        return m

    def scores(self, feats: Sequence[str]) -> list[float]:
        """Score per class (same order as `classes`); each distinct feature counts once."""
        s = self.bias[:]
        weights = self.weights
        for f in set(feats):
            row = weights.get(f)
            if row is not None:
                for i, v in row:
                    s[i] += v
        return s
