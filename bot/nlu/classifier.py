"""A small multinomial naive Bayes over sparse features, in pure Python.

Trained at start-up from the YAML phrases (a single counting pass, a few
milliseconds). Scoring is sparse: with add-alpha smoothing,

    log P(f|c) = log(alpha / (N_c + alpha*V)) + log(1 + n_fc / alpha)

so a message's score for class c is its number of known features times the
first (per-class) term plus, for each feature, the second term for only the
classes that ever saw it. Read-only after fit(), hence safe across threads.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


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
        counts: dict[str, Counter] = {}
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
