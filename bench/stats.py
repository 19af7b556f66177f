"""How fast community_stats and a resident's pledge_status answer with 1,000,000 pledges.

Creates a throwaway PostgreSQL database, migrates it, bulk-loads 200,000 households with
1,000,000 pledges (COPY) and weekly check-ins, rebuilds the community counters, then times
the two answers through the same code the bot runs (bot/flows/community.py, bot/flows/checkin.py),
and drops the database.
Prints figures; never fails for slowness. Goal: each at most 50 ms at the median.

    .venv/bin/python bench/stats.py [--households 200000] [--pledges 1000000] [--runs 200]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot import CONTENT_DIR  # noqa: E402
from bot.content import load_contents  # noqa: E402
from bot.flows.checkin import status_messages  # noqa: E402
from bot.flows.community import community_messages  # noqa: E402
from bot.impact import current_week_start  # noqa: E402
from bot.registry import Registry  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.models import Pledge  # noqa: E402
from bot.store.pledges import recount  # noqa: E402
from bot.store.users import load_user  # noqa: E402
from bot.turn import Ctx  # noqa: E402

NOW = datetime(2025, 6, 4, 5, 0, tzinfo=UTC)


def load(db: Database, content, households: int, n_pledges: int, seed: int = 7) -> tuple[int, int]:
    """Bulk-load users, pledges and check-ins with COPY; returns (pledge rows, check-in rows)."""
    rnd = random.Random(seed)
    codes = [d.code for d in content.districts]
    weights = [rnd.uniform(0.2, 3.0) for _ in codes]
    actions = list(content.actions)
    per_user = max(1, min(len(actions), round(n_pledges / households)))
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            t0 = time.perf_counter()
            with cur.copy("COPY users (id, line_user_id, followed, blocked, opted_out, district_code, "
                          "created_at, updated_at) FROM STDIN") as cp:
                for uid in range(1, households + 1):
                    d = rnd.choices(codes, weights)[0] if rnd.random() > 0.05 else None
                    created = NOW - timedelta(days=rnd.randint(1, 365))
                    cp.write_row((uid, f"U{uid:032x}", True, False, rnd.random() < 0.1, d, created, created))
            print(f"  users:    {households:>9,} rows in {time.perf_counter() - t0:5.1f} s")
            t0 = time.perf_counter()
            pid = 0
            checkins = []
            with cur.copy("COPY pledges (id, user_id, action_id, status, started_at, ended_at) FROM STDIN") as cp:
                for uid in range(1, households + 1):
                    for a in rnd.sample(actions, per_user):
                        if pid >= n_pledges:
                            break
                        pid += 1
                        started = NOW - timedelta(days=rnd.randint(0, 300), seconds=rnd.randint(0, 86399))
                        if rnd.random() < 0.1:
                            cp.write_row((pid, uid, a, "cancelled", started, started + timedelta(days=rnd.randint(1, 30))))
                        else:
                            cp.write_row((pid, uid, a, "active", started, None))
                            if rnd.random() < 0.5:
                                week = current_week_start(NOW)
                                for k in range(1, rnd.randint(1, 8) + 1):
                                    w = week - timedelta(days=7 * k)
                                    if w >= current_week_start(started):
                                        checkins.append((pid, w, rnd.random() < 0.8, NOW))
            print(f"  pledges:  {pid:>9,} rows in {time.perf_counter() - t0:5.1f} s")
            t0 = time.perf_counter()
            now_text = NOW.isoformat()
            with cur.copy("COPY checkins (pledge_id, week_start, done, created_at) FROM STDIN") as cp:
                buf = []
                for p_id, w, done, _ in checkins:  # text rows: much faster than write_row for dates
                    buf.append(f"{p_id}\t{w.isoformat()}\t{'t' if done else 'f'}\t{now_text}\n")
                    if len(buf) >= 50_000:
                        cp.write("".join(buf))
                        buf.clear()
                cp.write("".join(buf))
            print(f"  checkins: {len(checkins):>9,} rows in {time.perf_counter() - t0:5.1f} s")
            cur.execute("SELECT setval('users_id_seq', %s)", (households,))
            cur.execute("SELECT setval('pledges_id_seq', %s)", (max(pid, 1),))
        conn.commit()
        with conn.cursor() as cur:
            conn.autocommit = True
            cur.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return pid, len(checkins)


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    verdict = "within" if statistics.median(ms) <= 50 else "OVER"
    print(f"  {name:<34} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   max {ms[-1]:7.2f} ms"
          f"   ({verdict} the 50 ms goal, {len(ms)} runs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL",
                                                     "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--households", type=int, default=200_000)
    ap.add_argument("--pledges", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()

    contents = load_contents(CONTENT_DIR)
    content = contents.th
    name = f"cmbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.url).set(database=name).render_as_string(hide_password=False)
    print(f"database {name} (dropped at the end)")
    db = Database(url)
    try:
        db.upgrade()
        print(f"loading {args.households:,} households, {args.pledges:,} pledges:")
        load(db, content, args.households, args.pledges)
        t0 = time.perf_counter()
        with db.session() as s:
            recount(s)
        print(f"  counters rebuilt (bot.store.pledges.recount) in {time.perf_counter() - t0:.1f} s")
        with db.session() as s:
            active = s.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == "active"))
        print(f"  active pledges: {active:,}")

        rnd = random.Random(1)

        def turn(fn) -> None:
            """One resident's question, as the webhook runs it (load the user, answer, roll back)."""
            uid = rnd.randint(1, args.households)
            s = db.sessions()
            try:
                user = load_user(s, f"U{uid:032x}", NOW)
                ctx = Ctx(session=s, contents=contents, matcher=None, registry=Registry(),  # type: ignore[arg-type]
                          now=NOW, user=user, content=content)
                fn(ctx)
            finally:
                s.rollback()
                s.close()

        for fn in (community_messages, status_messages):  # warm caches and the pool
            for _ in range(20):
                turn(fn)
        print("timings (each run: load the resident, build the whole answer):")
        report("community_stats", timed(lambda: turn(community_messages), args.runs))
        report("pledge_status", timed(lambda: turn(status_messages), args.runs))

        # For comparison: the same totals by aggregating the pledges at each question.
        def aggregate() -> None:
            with db.engine.connect() as c:
                c.execute(text("SELECT action_id, count(*) FROM pledges WHERE status = 'active' GROUP BY action_id")).all()
                c.execute(text("SELECT count(DISTINCT user_id) FROM pledges WHERE status = 'active'")).all()
                c.execute(text("SELECT u.district_code, count(DISTINCT p.user_id) FROM pledges p JOIN users u "
                               "ON u.id = p.user_id WHERE p.status = 'active' GROUP BY u.district_code")).all()
        report("(no counters: GROUP BY pledges)", timed(aggregate, 5))
    finally:
        db.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"database {name} dropped")


if __name__ == "__main__":
    main()
