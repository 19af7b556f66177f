"""Benchmark: live air quality — reading requests, an Air4Thai refresh, one haze alert.

    .venv/bin/python bench/air.py [--subscribers 20000] [--db-url postgresql+psycopg://…/db]

Prints:
- the text hook that catches reading and alert requests before the matcher: time per message
  (median, p99) over the NLU test sets and the staged question bank, and how many it took;
- `air refresh` against a fake Air4Thai on loopback serving a 173-station feed: time per refresh;
- one haze alert to N subscribers of one district, sent by the campaign sender against a fake LINE
  that allows 200 multicast requests a second: time to make the alert, time to send it, and
  whether everyone got it exactly once.
SQLite in a temporary folder unless --db-url names a database (its tables are emptied). Prints
figures; never fails for being slow.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

TOKEN = "bench-channel-access-token"
NOW = datetime(2025, 3, 3, 3, 0, tzinfo=UTC)  # 10:00 in Chiang Mai


def phrases() -> list[str]:
    import yaml

    out = []
    for name in ("eval.tsv", "holdout.tsv", "holdout2.tsv"):
        for line in (ROOT / "content" / "nlu" / name).read_text(encoding="utf-8").splitlines():
            if "\t" in line and not line.startswith("#"):
                out.append(line.split("\t")[0])
    for f in glob.glob("/work/staging/bank/*.yaml"):
        for e in (yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}).get("entries") or []:
            out += [str(q) for q in (e.get("q_th") or []) + (e.get("q_en") or [])]
    return out


def feed() -> list[dict]:
    from tests import airdata
    from tests.fakeair import station

    stations = airdata.feed(city_hall="55.0")
    for i in range(173 - len(stations)):  # the rest of the country, as in the 2026 feed
        stations.append(station(f"{i}t", f"สถานี {i}", f"Station {i}", "ต.ในเมือง อ.เมือง, ขอนแก่น",
                                "Nai Mueang, Mueang, Khon Kaen", f"{14 + i % 5}.{i:04d}", f"{100 + i % 4}.5",
                                "2025-03-03", "10:00", f"{10 + i % 60}.4"))
    return stations


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=20000)
    ap.add_argument("--db-url", default=None)
    args = ap.parse_args()

    from sqlalchemy import insert, select, text

    from bot import create_app
    from bot.air.alerts import run_alerts
    from bot.air.requests import Reader
    from bot.air.service import refresh
    from bot.campaigns.sender import SendEnv
    from bot.store.models import AirSubscription, Base, User
    from tests import fakeline
    from tests.fakeair import FakeAir4Thai
    from tests.fakeline import FakeLine

    fakeline._Handler.disable_nagle_algorithm = True
    line = FakeLine(token=TOKEN).start()
    line.rate_limit("multicast", 200)
    air = FakeAir4Thai().start()
    air.serve(*feed())
    url = args.db_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                      "LINE_API_BASE_URL": line.url, "AIR_QUALITY_URL": air.url, "AIR_QUALITY_TIMEOUT": 5.0})
    deps = app.extensions["deps"]
    deps.db.upgrade()
    if args.db_url:
        with deps.db.session() as s:
            for t in reversed(Base.metadata.sorted_tables):
                s.execute(text(f"DELETE FROM {t.name}"))
    deps.clock = lambda: NOW

    # 1. the text hook
    reader = Reader(deps.contents)
    texts = phrases()
    times, taken = [], 0
    for t in texts:
        t0 = time.perf_counter()
        got = reader.read(t, lambda s: deps.matcher.find_district(s, fuzzy=False))
        times.append((time.perf_counter() - t0) * 1e6)
        taken += got is not None
    times.sort()
    print(f"text hook: {len(texts)} messages, median {statistics.median(times):.0f} µs, "
          f"p99 {times[int(len(times) * 0.99)]:.0f} µs per message; {taken} taken as air requests")

    # 2. refresh
    runs = []
    for _ in range(10):
        t0 = time.perf_counter()
        report = refresh(deps)
        runs.append(time.perf_counter() - t0)
    print(f"air refresh: {report.in_feed} stations in the feed, {report.stored} stored; "
          f"median {statistics.median(runs) * 1000:.0f} ms per refresh")

    # 3. one alert to N subscribers in Mae Rim
    with deps.db.session() as s:
        rows = [{"line_user_id": "U%032x" % i, "followed": True, "blocked": False, "opted_out": i % 10 == 0,
                 "district_code": "5007", "created_at": NOW, "updated_at": NOW} for i in range(args.subscribers)]
        for i in range(0, len(rows), 5000):
            s.execute(insert(User), rows[i:i + 5000])
        ids = list(s.scalars(select(User.id)))
        for i in range(0, len(ids), 5000):
            s.execute(insert(AirSubscription), [{"user_id": uid, "created_at": NOW} for uid in ids[i:i + 5000]])
    env = SendEnv.from_deps(deps)
    t0 = time.perf_counter()
    report = run_alerts(env, deps.contents)
    total = time.perf_counter() - t0
    send = sum(r.seconds for r in report.sent)
    got: dict[str, int] = {}
    for d in line.deliveries:
        if d.kind == "multicast":
            for r in d.recipients:
                got[r] = got.get(r, 0) + 1
    requests = sum(r.requests for r in report.sent)
    print(f"haze alert: {args.subscribers:,} subscribers (a tenth with campaign news off), "
          f"{len(got):,} received it, {sum(1 for v in got.values() if v > 1)} twice; "
          f"made in {total - send:.2f} s, sent in {send:.2f} s ({requests / send if send else 0:.0f} requests/s, "
          f"LINE allows 200)")
    air.stop()
    line.stop()


if __name__ == "__main__":
    main()
