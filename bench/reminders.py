"""Benchmark: one weekly reminder slot with personal messages, through the campaigns' sender.

    .venv/bin/python bench/reminders.py [--residents 2000] [--rate 180]

Loads residents with one or two pledges and a few weeks of check-ins into a throwaway SQLite
file, runs the worker's reminder job (which makes the slot's campaign) and sends it with the
production sender against the fake LINE API (multicast limited to 200 requests a second, in this
process). Each resident's words differ (their own pledges and check-in cards), so each gets a
batch of their own: prints the time spent composing per resident, the requests a second reached
against LINE's limit, and whether everyone got exactly one reminder. Prints, never fails.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

TOKEN = "bench-channel-access-token"
SUNDAY_18 = datetime(2025, 3, 16, 11, 5, tzinfo=UTC)  # Sunday 18:05 in Chiang Mai: the default slot


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=180.0)
    args = ap.parse_args()

    from sqlalchemy import insert, select

    from bot import create_app
    from bot.campaigns import SendEnv, worker_once
    from bot.campaigns.reminders import make_due_reminders
    from bot.store.models import CheckIn, Pledge, User
    from tests.fakeline import FakeLine

    fake = FakeLine(token=TOKEN)
    fake.start()
    fake.rate_limit("multicast", 200.0)
    tmp = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                      "LINE_CHANNEL_SECRET": "x", "LINE_API_BASE_URL": fake.url, "CAMPAIGN_RATE": args.rate})
    deps = app.extensions["deps"]
    deps.clock = lambda: SUNDAY_18
    start = SUNDAY_18 - timedelta(weeks=6)
    with deps.db.session() as s:
        s.execute(insert(User), [{"line_user_id": "U" + f"{i:032x}", "followed": True, "blocked": False,
                                  "opted_out": False, "district_code": "5019", "created_at": start,
                                  "updated_at": start} for i in range(1, args.residents + 1)])
        ids = list(s.scalars(select(User.id)))
        s.execute(insert(Pledge), [{"user_id": u, "action_id": a, "status": "active", "started_at": start}
                                   for u in ids for a in (["led_lighting", "sort_waste"][: 1 + u % 2])])
        pledges = list(s.scalars(select(Pledge.id)))
        monday = (start + timedelta(days=1)).date()
        monday -= timedelta(days=monday.weekday())
        s.execute(insert(CheckIn), [{"pledge_id": p, "week_start": monday + timedelta(weeks=w), "done": (p + w) % 3 != 0,
                                     "created_at": start} for p in pledges for w in range(4)])
    t0 = time.perf_counter()
    with deps.db.session() as s:
        made = make_due_reminders(s, deps.contents, SUNDAY_18)
    t1 = time.perf_counter()
    reports = worker_once(SendEnv.from_deps(deps))
    t2 = time.perf_counter()
    got = Counter(r for d in fake.deliveries if d.kind == "multicast" for r in d.recipients)
    requests = sum(r.requests for r in reports)
    print(f"residents with a pledge: {args.residents:,}; slot campaigns made: {len(made)} in {(t1 - t0) * 1000:.0f} ms")
    print(f"sent: {sum(r.sent_recipients for r in reports):,} reminders in {requests:,} requests, {t2 - t1:.1f} s "
          f"({requests / (t2 - t1):.0f} requests/s, {requests / (t2 - t1) / 200:.0%} of LINE's multicast limit)")
    print(f"composing and recording: {sum(r.db_seconds for r in reports):.1f} s "
          f"({sum(r.db_seconds for r in reports) / max(1, args.residents) * 1000:.1f} ms a resident, overlapping the sending)")
    print(f"everyone exactly once: {set(got.values()) == {1} and len(got) == args.residents}")
    deps.line.flush(5)
    deps.db.dispose()
    fake.stop()


if __name__ == "__main__":
    main()
