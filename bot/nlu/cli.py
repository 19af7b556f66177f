"""`flask nlu …`: classify messages, evaluate the matcher, list unmatched texts."""
from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from bot.nlu.matcher import OUT_OF_SCOPE, Matcher

nlu_cli = AppGroup("nlu", help="The language matcher: classify, evaluate, unmatched texts.")

def get_matcher() -> Matcher:
    """The app's matcher."""
    from bot.deps import deps_of

    return deps_of().matcher


@nlu_cli.command("classify")
def classify_command() -> None:
    """Read one message a line on stdin; write one JSON object a line on stdout."""
    matcher = get_matcher()
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        m = matcher.classify(text)
        click.echo(json.dumps(m.to_json(text), ensure_ascii=False))


def read_tsv(path: Path) -> list[tuple[str, str, str | None]]:
    """text<TAB>intent[<TAB>entry] rows; a header row ("text<TAB>intent…") and # comments are skipped.

    The entry column holds the question-bank entry that should answer, "-" when the topic's
    overview (or a flow) should, and is absent when only the intent is tested.
    """
    rows: list[tuple[str, str, str | None]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if n == 0 and parts[0] == "text":
                continue
            if len(parts) not in (2, 3) or not parts[0]:
                raise click.ClickException(f"{path}:{n + 1}: expected text<TAB>intent[<TAB>entry]")
            rows.append((parts[0], parts[1].strip(), parts[2].strip() if len(parts) == 3 else None))
    return rows


def evaluate(matcher: Matcher, rows: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """Accuracy (intent, and entry where the file says it), per-intent precision/recall, out-of-scope
    rates and confusions."""
    tp: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    gold_n: Counter[str] = Counter()
    confusions: dict[tuple[str, str], list[str]] = defaultdict(list)
    entry_confusions: dict[tuple[str, str], list[str]] = defaultdict(list)
    oos = oos_ok = ins = ins_rejected = ins_unsure = 0
    entries = entries_ok = 0
    for text, gold, gold_entry in rows:
        m = matcher.classify(text)
        gold_n[gold] += 1
        predicted[m.intent] += 1
        if m.intent == gold:
            tp[gold] += 1
        else:
            confusions[(gold, m.intent)].append(text)
        if gold_entry is not None:
            entries += 1
            want = None if gold_entry == "-" else gold_entry
            if m.answer == want and (want is not None or m.intent == gold):
                entries_ok += 1
            else:
                entry_confusions[(gold_entry, m.answer or f"-({m.intent})")].append(text)
        if gold == OUT_OF_SCOPE:
            oos += 1
            oos_ok += m.intent == OUT_OF_SCOPE
        else:
            ins += 1
            ins_rejected += m.intent == OUT_OF_SCOPE
            ins_unsure += m.intent != OUT_OF_SCOPE and not m.confident
    intents = sorted(set(gold_n) | set(predicted))
    per_intent = {
        i: {
            "precision": tp[i] / predicted[i] if predicted[i] else 0.0,
            "recall": tp[i] / gold_n[i] if gold_n[i] else 0.0,
            "support": gold_n[i],
        }
        for i in intents
    }
    return {
        "n": len(rows),
        "accuracy": sum(tp.values()) / len(rows) if rows else 0.0,
        "entry_n": entries,
        "entry_accuracy": entries_ok / entries if entries else None,
        "oos_rejected": oos_ok / oos if oos else None,
        "false_rejection": ins_rejected / ins if ins else None,
        "unsure_in_scope": ins_unsure / ins if ins else None,
        "per_intent": per_intent,
        "confusions": sorted(confusions.items(), key=lambda kv: -len(kv[1])),
        "entry_confusions": sorted(entry_confusions.items(), key=lambda kv: -len(kv[1])),
    }


@nlu_cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top", default=15, show_default=True, help="How many confusions to list.")
def eval_command(file: Path, top: int) -> None:
    """Accuracy, per-intent precision and recall, and the main confusions on a TSV of text<TAB>intent."""
    report = evaluate(get_matcher(), read_tsv(file))
    click.echo(f"messages\t{report['n']}")
    click.echo(f"accuracy\t{report['accuracy']:.3f}")
    if report["entry_accuracy"] is not None:
        click.echo(f"entry_accuracy\t{report['entry_accuracy']:.3f}\t({report['entry_n']} rows with an entry)")
    if report["oos_rejected"] is not None:
        click.echo(f"out_of_scope_rejected\t{report['oos_rejected']:.3f}")
    if report["false_rejection"] is not None:
        click.echo(f"in_scope_wrongly_rejected\t{report['false_rejection']:.3f}")
        click.echo(f"in_scope_low_confidence\t{report['unsure_in_scope']:.3f}")
    click.echo("")
    click.echo("intent\tprecision\trecall\tsupport")
    for intent, r in report["per_intent"].items():
        click.echo(f"{intent}\t{r['precision']:.2f}\t{r['recall']:.2f}\t{r['support']}")
    if report["confusions"]:
        click.echo("")
        click.echo("expected\tgot\tcount\texamples")
        for (gold, got), texts in report["confusions"][:top]:
            click.echo(f"{gold}\t{got}\t{len(texts)}\t{' | '.join(texts[:3])}")
    if report["entry_confusions"]:
        click.echo("")
        click.echo("expected_entry\tgot\tcount\texamples")
        for (gold, got), texts in report["entry_confusions"][:top]:
            click.echo(f"{gold}\t{got}\t{len(texts)}\t{' | '.join(texts[:3])}")


@nlu_cli.command("unmatched")
@click.option("--limit", default=30, show_default=True, help="How many texts to list.")
def unmatched_command(limit: int) -> None:
    """The most frequent texts the bot could not place (no user ids are kept), for content authors."""
    from sqlalchemy import func, select

    from bot.deps import deps_of
    from bot.store.models import UnmatchedText

    matcher = get_matcher()
    counts: Counter[str] = Counter()
    guesses: dict[str, Counter[str]] = defaultdict(Counter)
    with deps_of().db.session() as session:
        stmt = select(UnmatchedText.text, UnmatchedText.intent, func.count()).group_by(
            UnmatchedText.text, UnmatchedText.intent
        )
        for text, intent, n in session.execute(stmt):
            # spellings of the same words count together ("โลกร้อนนน" = "โลกร้อน")
            key = matcher.normalize(text or "") or (text or "")
            counts[key] += n
            guesses[key][intent or ""] += n
    if not counts:
        click.echo("no unmatched texts")
        return
    click.echo("count\ttext\tbest_guess")
    for key, n in counts.most_common(limit):
        guess = guesses[key].most_common(1)[0][0]
        click.echo(f"{n}\t{key}\t{guess}")
