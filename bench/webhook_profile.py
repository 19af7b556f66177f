"""Where the webhook's time goes: py-spy samples the bot's gunicorn workers under load.

    .venv/bin/pip install py-spy      # in your own venv; not a dependency of the project
    python bench/webhook_profile.py [--db sqlite|postgres] [--clients 32] [--seconds 10]

Starts the bot exactly as bench/webhook.py does (the Procfile's web command, the fake LINE API),
drives it with signed text events, samples every worker thread while it holds the GIL (so waits for locks, sockets and
the database do not count)
and prints the share of samples by part of the path (each sample goes to the innermost part
it is in) and the functions with the most samples of their own.
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing as mp
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import Fake, drive, start_server, stop_server  # noqa: E402
from tests import events  # noqa: E402

# (part, patterns of "function (file)" frames); a sample belongs to the innermost frame that matches.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("gunicorn: accept, read, write", ("gunicorn/",)),
    ("Flask/Werkzeug request and response", ("flask/", "werkzeug/")),
    ("webhook: verify and parse", ("callback (bot/webhook.py", "linebot/v3/webhook.py", "linebot/v3/webhooks/",
                                   "pydantic", "turn_for (bot/webhook.py", "events_of", "bot/webhook.py")),
    ("run_turn: transaction, SQL, ORM", ("bot/deps.py", "bot/store/", "sqlalchemy/", "sqlite3/", "psycopg/",
                                         "psycopg_pool/")),
    ("dialogue, flows, messages", ("bot/dialogue.py", "bot/flows/", "bot/messages.py", "bot/words.py",
                                   "bot/content/", "bot/registry.py")),
    ("matcher (NLU)", ("bot/nlu/", "pythainlp/")),
    ("reply: build and send", ("bot/line.py", "linebot/v3/messaging", "urllib3/", "http/client.py",
                               "concurrent/futures/")),
    ("json", ("json/",)),
    ("logging", ("logging/",)),
    ("threads, locks, sockets", ("threading.py", "socket.py", "selectors.py", "queue.py")),
]


def part_of(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for part, patterns in PARTS:
            if any(p in frame for p in patterns):
                return part
    return "other"


def summarise(raw: Path, top: int) -> None:
    parts: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        n = int(count_text)
        stack = stack_text.split(";")
        stack = [f for f in stack if not f.startswith("process ") and not f.startswith("thread ")]
        if not stack:
            continue
        total += n
        parts[part_of(stack)] += n
        own[stack[-1]] += n
    print(f"{total} samples of running threads")
    print("by part of the path (innermost):")
    for part, n in parts.most_common():
        print(f"  {100 * n / total:5.1f}%  {part}")
    print(f"top {top} functions by own samples:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        sys.exit("py-spy is not installed in this venv: .venv/bin/pip install py-spy")

    fake = Fake()
    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    admin = name = None
    import os

    if args.db == "postgres":
        from sqlalchemy import create_engine, text

        name = f"bench_profile_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        env_db = {"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"}
        subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env={**os.environ, **env_db}, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    else:
        env_db = {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
    env = {**os.environ, **env_db, "LINE_CHANNEL_SECRET": events.SECRET, "LINE_CHANNEL_ACCESS_TOKEN": events.TOKEN,
           "LINE_API_BASE_URL": fake.url, "PYTHONPATH": str(ROOT)}
    raw = tmp / "profile.txt"
    proc, port = start_server("wsgi:app", env)
    try:
        drive(port, 8, 2.0, fake)  # warm-up
        spy = subprocess.Popen([str(py_spy), "record", "--pid", str(proc.pid), "--subprocesses", "--format", "raw",
                                "--rate", "200", "--nonblocking", "--gil", "--duration", str(int(args.seconds)), "--output",
                                str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(drive(port, args.clients, args.seconds, fake)))
        t.start()
        t.join()
        spy.wait(timeout=60)
    finally:
        stop_server(proc)
        fake.stop()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"{args.db}, {args.clients} clients: {result['rps']:.1f} req/s, p99 {result['p99']:.1f} ms "
          f"(while sampled at 200 Hz, which slows it)")
    summarise(raw, args.top)


if __name__ == "__main__":
    mp.set_start_method("fork")
    main()
