"""Benchmark of content: load time at start-up, `content check` time, rendering per answer.

Run: .venv/bin/python bench/content.py [--repeat N]
Prints its figures; never fails for being slow.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="renders of every answer")
    args = parser.parse_args()

    from bot import messages as msg
    from bot.content import load_content
    from bot.content.check import check_content

    t0 = time.perf_counter()
    content = load_content()
    load_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    problems = check_content()
    check_ms = (time.perf_counter() - t0) * 1000

    per: list[float] = []
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):
        for intent in content.answers:
            t = time.perf_counter()
            out = msg.answer_messages(content, intent)
            per.append((time.perf_counter() - t) * 1e6)
            sizes[intent] = len(json.dumps(out, ensure_ascii=False).encode())
    print(f"load_content: {load_ms:.1f} ms ({len(content.answers)} answers, {len(content.actions)} actions)")
    print(f"content check: {check_ms:.1f} ms, {len(problems)} problem(s)")
    print(f"answer_messages: median {statistics.median(per):.0f} µs, max {max(per):.0f} µs")
    biggest = max(sizes, key=sizes.__getitem__)
    print(f"largest reply: {biggest} {sizes[biggest]} bytes of JSON")


if __name__ == "__main__":
    main()
