"""Cross-validation of the question bank: how often an unseen way of asking finds its entry.

Each entry's questions (content/bank/*.yaml q_th and q_en) are dealt into K folds; for each fold
the matcher learns from everything else and reads the held-out questions, through the same
pipeline the bot uses (topic classifier, then the bank). Prints entry accuracy and topic
accuracy, by language, and the most frequent confusions. The honest estimate for questions
nobody has written yet; the blind held-out file (content/nlu/bank_holdout.tsv) is the other.

Run: .venv/bin/python bench/nlu_cv.py [--folds 4]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="try another value of a lexicon threshold (e.g. topic_weight=0.5)")
    args = ap.parse_args()
    from bot.nlu.bank import BankData, BankEntry
    from bot.nlu.matcher import Matcher, _load_yaml

    content = ROOT / "content"
    lexicon = _load_yaml(content / "nlu" / "lexicon.yaml")
    training = _load_yaml(content / "nlu" / "training.yaml")
    districts = _load_yaml(content / "districts.yaml")
    for pair in args.set:
        name, _, value = pair.partition("=")
        lexicon.setdefault("thresholds", {})[name] = float(value)
    full = BankData.from_content(content, _load_yaml)
    results: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    t0 = time.perf_counter()
    for fold in range(args.folds):
        held: list[tuple[str, str]] = []
        data = BankData(overviews=full.overviews)
        for e in full.entries.values():
            keep_q = tuple(q for i, q in enumerate(e.questions) if i % args.folds != fold)
            held += [(q, e.id) for i, q in enumerate(e.questions) if i % args.folds == fold]
            gone = set(e.questions) - set(keep_q)
            data.entries[e.id] = BankEntry(e.id, e.topic, tuple(p for p in e.phrases if p not in gone), keep_q, e.triggers)
        m = Matcher(lexicon, training, districts, bank=data)
        for q, eid in held:
            lang = "en" if q.isascii() else "th"
            r = m.classify(q)
            results[f"n_{lang}"] += 1
            results[f"entry_{lang}"] += r.answer == eid
            results[f"topic_{lang}"] += r.intent == full.entries[eid].topic
            if r.answer != eid:
                confusions[(eid, r.answer or f"-({r.intent})")] += 1
        print(f"fold {fold + 1}/{args.folds} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    n = results["n_th"] + results["n_en"]
    print(f"{args.folds}-fold cross-validation over {n} bank questions ({results['n_th']} Thai, {results['n_en']} English)")
    for what in ("entry", "topic"):
        both = (results[f"{what}_th"] + results[f"{what}_en"]) / n
        print(f"  {what} accuracy: {both:.3f}  (Thai {results[f'{what}_th'] / results['n_th']:.3f}, "
              f"English {results[f'{what}_en'] / results['n_en']:.3f})")
    print("  most frequent confusions (expected -> got):")
    for (want, got), k in confusions.most_common(12):
        print(f"    {k}  {want} -> {got}")


if __name__ == "__main__":
    main()
