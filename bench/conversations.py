"""Follow-up questions in conversation: does "แล้วเด็กล่ะ", "why?", "มีที่มาไหม" reach the right answer?

Plays every conversation of content/nlu/bank_conversations*.tsv (written blind, never trained on)
through the bot's own turn (bot.deps.run_turn) on a throwaway SQLite database, one resident per
conversation, and checks what each turn answered: the question-bank entry (the resident's
context after the turn), the sources of the last answer (SOURCES), or an action's estimate
(ESTIMATE). Prints the share answered as expected, first questions and follow-ups apart.

Run: .venv/bin/python bench/conversations.py [--show-misses] [file.tsv ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")


def load(path: Path) -> dict[str, list[tuple[str, str]]]:
    convs: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        parts = line.split("\t")
        if (n == 0 and parts[0] == "conv_id") or len(parts) != 4:
            continue
        convs[parts[0]].append((int(parts[1]), parts[2], parts[3].strip()))
    return {k: [(t, e) for _, t, e in sorted(v)] for k, v in convs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("files", nargs="*", help="conversation TSVs (default: content/nlu/bank_conversations*.tsv)")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from bot import create_app

    with tempfile.TemporaryDirectory() as d:
        app = create_app({"DATABASE_URL": f"sqlite:///{d}/bench.sqlite3", "LINE_CHANNEL_SECRET": "x",
                          "LINE_CHANNEL_ACCESS_TOKEN": "y", "LINE_API_BASE_URL": "http://127.0.0.1:9",
                          "LINE_BOT_BASIC_ID": "@bench", "AIR_QUALITY_URL": "http://127.0.0.1:9/none"})
        deps = app.extensions["deps"]
        files = [Path(f) for f in args.files] or sorted((ROOT / "content" / "nlu").glob("bank_conversations*.tsv"))
        for k, path in enumerate(files):
            play(deps, path, k, args.show_misses)


def play(deps: Any, path: Path, k: int, show_misses: bool) -> None:
    """Play one file's conversations, each as a new resident, and print the shares."""
    from sqlalchemy import select

    from bot.deps import run_turn
    from bot.store.models import User
    from bot.turn import Turn
    from tests.reading import all_text

    views = (deps.contents.th, deps.contents.en)
    sources_head = {v.text("core.follow_sources_head") for v in views}
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    misses = []
    for n, (cid, turns) in enumerate(load(path).items()):
        uid = f"U{k:08x}{n + 1:024x}"
        for i, (text, expected) in enumerate(turns):
            said = all_text(run_turn(deps, Turn(uid, "text", text=text)) or [])
            with deps.db.session() as s:
                context = (s.scalar(select(User.context).where(User.line_user_id == uid)) or {})
            if expected == "SOURCES":
                ok = any(h in said for h in sources_head)
            elif expected == "ESTIMATE":  # the worked-out figure, or the honest "no figure yet"
                action = context.get("action", "")
                ok = action in views[0].actions and ("×" in said or any(
                    (v.actions[action].no_estimate or "-")[:40] in said for v in views))
            elif expected == "-":
                ok = not context.get("entry")
            else:
                ok = context.get("entry") == expected
            kind = "first question" if i == 0 else "follow-up"
            total[kind] += 1
            right[kind] += ok
            if not ok:
                misses.append((cid, text, expected, context.get("entry") or context.get("topic")))
    print(path.name)
    for kind in ("first question", "follow-up"):
        print(f"  {kind:15s} {right[kind]:3d} of {total[kind]:3d} answered as expected ({right[kind] / total[kind]:.0%})")
    if show_misses:
        for m in misses:
            print("  miss:", *m, sep="\t")


if __name__ == "__main__":
    main()
