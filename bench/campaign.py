"""Benchmark: one campaign to a million followers, against a fake LINE that enforces 200 req/s.

    .venv/bin/python bench/campaign.py [--users 1000000] [--rate 180] [--concurrency 8]
        [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a throwaway PostgreSQL database (dropped at the end), bulk-loads the followers with
COPY (plus some who blocked the bot or opted out, who must not receive it), runs the fake LINE
API in its own process with multicast limited to 200 requests a second, sends one campaign with
the production code (bot.campaigns.send_now) and prints: the time to select the audience, the
request rate reached as a share of LINE's limit, the 429s, whether everyone got it exactly
once, and the peak memory of the sending process. Goals: >= 80% of the limit with no 429,
audience selection <= 5 s, <= 300 MB. It prints figures and never fails for being slow.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

TOKEN = "bench-channel-access-token"
LINE_LIMIT = 200.0


def fake_line_process(conn, limit: float) -> None:  # type: ignore[no-untyped-def]
    """The fake LINE API in a process of its own, so it does not share the sender's GIL."""
    sys.path.insert(0, str(ROOT))
    from tests import fakeline
    from tests.fakeline import FakeLine

    # The fake writes a response's headers and body in two sends; with Nagle's algorithm on,
    # the body then waits for the client's delayed ACK (~40 ms a request), which LINE's servers
    # do not do. Answer without that delay, as a real server would.
    fakeline._Handler.disable_nagle_algorithm = True
    fake = FakeLine(token=TOKEN)
    fake.start()
    fake.rate_limit("multicast", limit)
    conn.send(fake.url)
    conn.recv()  # "stats"
    calls = fake.calls_to("multicast")
    seen: set[str] = set()
    duplicates = 0
    for d in fake.deliveries:
        if d.kind == "multicast":
            for r in d.recipients:
                if r in seen:
                    duplicates += 1
                else:
                    seen.add(r)
    statuses: dict[int, int] = {}
    for c in calls:
        statuses[c.status or 0] = statuses.get(c.status or 0, 0) + 1
    times = sorted(c.time for c in calls)
    conn.send({"statuses": statuses, "recipients": len(seen), "duplicates": duplicates,
               "first": times[0] if times else 0.0, "last": times[-1] if times else 0.0})
    fake.stop()


def load_followers(url: str, n: int, ineligible_every: int) -> int:
    """COPY n followers who receive it, and every ineligible_every-th row one who must not."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    extra = 0
    stamp = "2025-01-01 00:00:00+00"
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy("COPY users (line_user_id, followed, blocked, opted_out, district_code, "
                      "created_at, updated_at) FROM STDIN") as copy:
            made = 0
            i = 0
            while made < n:
                i += 1
                uid = "U" + f"{i:032x}"
                if ineligible_every and i % ineligible_every == 0:
                    blocked = (i // ineligible_every) % 2 == 0
                    copy.write_row((uid, not blocked, blocked, not blocked, "5001", stamp, stamp))
                    extra += 1
                    continue
                copy.write_row((uid, True, False, False, "5001" if i % 25 == 0 else "5007", stamp, stamp))
                made += 1
        conn.commit()
        conn.execute("ANALYZE users")
        conn.commit()
    return extra


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=float(os.environ.get("CAMPAIGN_RATE", 180)))
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--admin-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                         "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot import campaigns as cp
    from bot.content import load_content
    from bot.line import LineClient
    from bot.store.db import Database

    name = f"cmbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    parent, child = mp.Pipe()
    fake = mp.get_context("spawn").Process(target=fake_line_process, args=(child, LINE_LIMIT), daemon=True)
    fake.start()
    db = None
    try:
        fake_url = parent.recv()
        db = Database(url)
        db.upgrade()
        t = time.perf_counter()
        ineligible = load_followers(url, args.users, ineligible_every=50)
        print(f"loaded {args.users:,} followers (+{ineligible:,} blocked or opted out) with COPY "
              f"in {time.perf_counter() - t:.1f} s")

        content = load_content()
        line = LineClient(fake_url, TOKEN, connect_timeout=2.0, read_timeout=10.0)
        env = cp.SendEnv(db=db, line=line, content=content, rate=args.rate, concurrency=args.concurrency)
        with db.session() as s:
            campaign_id = cp.create_campaign(s, content, name="bench", text="ข่าวจากโครงการเชียงใหม่เมืองคาร์บอนต่ำ").id

        t = time.perf_counter()
        with db.session() as s:
            size = cp.count_audience(s, "all")
        count_s = time.perf_counter() - t

        # Time spent selecting the audience during the send: every page query, summed.
        page_time = [0.0, 0]
        from bot.campaigns import sender as sender_module

        real_page = sender_module.audience_page

        def timed_page(*a, **kw):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return real_page(*a, **kw)
            finally:
                page_time[0] += time.perf_counter() - t0
                page_time[1] += 1

        sender_module.audience_page = timed_page  # type: ignore[assignment]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        report = cp.send_now(env, campaign_id)
        send_s = time.perf_counter() - t
        sender_module.audience_page = real_page
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        parent.send("stats")
        stats = parent.recv()
        requests = sum(stats["statuses"].values())
        rate = report.requests / send_s if send_s else 0.0
        print(f"campaign to {size:,} recipients: {report.status}; {report.sent_batches:,} batches, "
              f"{report.failed_batches} failed")
        print(f"audience selection: count {count_s:.2f} s; {page_time[1]:,} page queries "
              f"{page_time[0]:.2f} s in all (goal <= 5 s)")
        print(f"send: {send_s:.1f} s, {report.requests:,} requests, {rate:.1f} requests/s = "
              f"{100 * rate / LINE_LIMIT:.1f}% of LINE's {LINE_LIMIT:.0f}/s (goal >= 80%); "
              f"target rate {args.rate:.0f}/s with {args.concurrency} in flight; "
              f"{report.db_seconds:.1f} s recording batches")
        print(f"fake LINE saw {requests:,} multicast requests: {stats['statuses']}; "
              f"429s: {stats['statuses'].get(429, 0)} (goal 0)")
        print(f"recipients reached: {stats['recipients']:,} of {size:,}; received twice: {stats['duplicates']}")
        print(f"peak memory (ru_maxrss) of the sending process: {peak_mb:.0f} MB "
              f"({rss_before:.0f} MB before sending; goal <= 300 MB)")
    finally:
        if fake.is_alive():
            fake.terminate()
        if db is not None:
            db.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
