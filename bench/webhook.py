"""Webhook throughput and latency: the bot against the SDK's echo example and a bare Flask app,
all three under the Procfile's gunicorn settings and against the same fake LINE API.

    python bench/webhook.py                    # SQLite, then PostgreSQL
    python bench/webhook.py --db sqlite        # one of them (postgres: 127.0.0.1:5432, a throwaway database)
    python bench/webhook.py --seconds 8 --rounds 3

The peers:
- bare Flask (bench/bare_app.py): answers "OK", nothing else;
- the echo (bench/echo_app.py): line-bot-sdk's flask-kitchensink text echo (WebhookHandler, an
  ApiClient per request, the reply sent inside the request);
- the bot (wsgi:app): verifies, commits each event once, understands the Thai, replies from a
  background pool.

Each is driven with signed text events from 8 and 32 concurrent clients, in rounds that take turns
between the servers (the machine is shared, so the median of the rounds is reported). A run of the
bot or the echo counts as finished only when the fake LINE API has received every reply, so the
bot's replies sent after its 200s are inside the measured time. Prints requests/s, p50/p99 latency
and the ratios bot/echo and bot/bare; never fails for speed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import events  # noqa: E402

QUESTIONS = ["สวัสดีค่ะ", "ภาวะโลกร้อนคืออะไร", "ฝุ่น PM2.5 มาจากไหน", "วิธีประหยัดไฟ", "ขอบคุณครับ",
             "เมนู", "ทำไมโลกร้อน", "ราคาน้ำมันวันนี้", "คำมั่นของฉัน", "ยอดรวมทั้งจังหวัด"]
SERVERS = (("bare Flask", "bench.bare_app:app"), ("echo", "bench.echo_app:app"), ("bot", "wsgi:app"))
REPLIES = {"echo", "bot"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_command(port: int, app_spec: str) -> list[str]:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    cmd = line.split(":", 1)[1].strip().replace("$PORT", str(port))
    parts = shlex.split(cmd)
    parts[-1] = app_spec
    parts[0] = str(Path(sys.executable).with_name("gunicorn"))
    return parts


def wait_ready(port: int, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def run_fake(conn: Connection) -> None:
    """The fake LINE API in a process of its own; answers ("replies",) with (count, last time) and forgets them."""
    from tests.fakeline import FakeLine

    fake = FakeLine(token=events.TOKEN).start()
    conn.send(fake.url)
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            break
        if cmd == "replies":
            got = [d.time for d in fake.deliveries if d.kind == "reply"]
            conn.send((len(got), max(got) if got else 0.0))
        elif cmd == "reset":
            fake.reset()
            conn.send(True)
    fake.stop()


class Fake:
    def __init__(self) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=run_fake, args=(child,), daemon=True)
        self.proc.start()
        self.url: str = self.conn.recv()
        self.lock = threading.Lock()

    def ask(self, cmd: str):  # type: ignore[no-untyped-def]
        with self.lock:
            self.conn.send(cmd)
            return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.proc.join(timeout=10)


def client_proc(port: int, threads: int, seconds: float, seed: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    lat: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        i = 0
        while time.perf_counter() < stop_at:
            i += 1
            uid = events.user_id(seed * 10000 + n * 100 + i % 50)
            ev = events.text(QUESTIONS[(i + n) % len(QUESTIONS)], uid)
            ev["webhookEventId"] = uuid.uuid4().hex.upper()[:26]
            body = events.body_of(events.payload(ev))
            headers = {"X-Line-Signature": events.sign(body), "Content-Type": "application/json"}
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/callback", body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            if ok:
                local.append(time.perf_counter() - t0)
        with lock:
            lat.extend(local)

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(lat)


def drive(port: int, clients: int, seconds: float, fake: Fake | None = None) -> dict:
    """Load the server; with `fake`, wait for every reply and count the time until the last one."""
    if fake is not None:
        fake.ask("reset")
    procs_n = min(4, clients)
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [mp.Process(target=client_proc, args=(port, clients // procs_n, seconds, p, out)) for p in range(procs_n)]
    t0, wall0 = time.perf_counter(), time.time()
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat.extend(out.get())
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    replies = None
    if fake is not None:
        deadline = time.time() + 60
        n, last = fake.ask("replies")
        while n < len(lat) and time.time() < deadline:
            time.sleep(0.05)
            n, last = fake.ask("replies")
        replies = n
        elapsed = max(elapsed, last - wall0)
    lat.sort()
    if not lat:
        return {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "n": 0, "replies": replies}
    return {"rps": len(lat) / elapsed, "p50": statistics.median(lat) * 1000,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "n": len(lat), "replies": replies}


def start_server(app_spec: str, env: dict) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    port = free_port()
    proc = subprocess.Popen(web_command(port, app_spec), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_ready(port)
    time.sleep(1.0)
    return proc, port


def stop_server(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def median_run(runs: list[dict]) -> dict:
    """The round with the median throughput (its latencies come with it)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def bench_database(db: str, fake: Fake, seconds: float, rounds: int) -> dict[tuple[str, int], dict]:
    tmp = tempfile.mkdtemp(prefix="bench-webhook-")
    pg_admin = name = None
    if db == "postgres":
        from sqlalchemy import create_engine, text

        name = f"bench_webhook_{uuid.uuid4().hex[:8]}"
        pg_admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        env_db = {"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"}
        subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env={**os.environ, **env_db, "LINE_API_BASE_URL": fake.url}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        env_db = {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
    env = {**os.environ, **env_db, "LINE_CHANNEL_SECRET": events.SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": events.TOKEN, "LINE_API_BASE_URL": fake.url, "PYTHONPATH": str(ROOT)}
    servers: dict[str, tuple[subprocess.Popen, int]] = {}  # type: ignore[type-arg]
    runs: dict[tuple[str, int], list[dict]] = {}
    try:
        for label, spec in SERVERS:
            servers[label] = start_server(spec, env)
            drive(servers[label][1], 8, 1.0, fake if label in REPLIES else None)  # warm-up
        for clients in (8, 32):
            for _ in range(rounds):
                for label, _spec in SERVERS:
                    r = drive(servers[label][1], clients, seconds, fake if label in REPLIES else None)
                    runs.setdefault((label, clients), []).append(r)
                    replies = f"  {r['replies']} replies" if r["replies"] is not None else ""
                    print(f"  [{db}] {label:10s} {clients:2d} clients: {r['rps']:8.1f} req/s  p50 {r['p50']:6.1f} ms  "
                          f"p99 {r['p99']:6.1f} ms  ({r['n']} requests{replies})", flush=True)
    finally:
        for proc, _port in servers.values():
            stop_server(proc)
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_admin.dispose()
    return {k: median_run(v) for k, v in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    fake = Fake()
    results: dict[str, dict[tuple[str, int], dict]] = {}
    try:
        for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
            results[db] = bench_database(db, fake, args.seconds, args.rounds)
    finally:
        fake.stop()
    print(f"\nmedian of {args.rounds} rounds of {args.seconds:g} s; replies included in the bot's and the echo's time")
    for db, res in results.items():
        for clients in (8, 32):
            bare, echo, bot = (res[(label, clients)] for label, _ in SERVERS)
            print(f"{db:8s} {clients:2d} clients: bare {bare['rps']:7.1f}  echo {echo['rps']:7.1f}  bot {bot['rps']:7.1f} "
                  f"req/s | bot/echo {bot['rps'] / echo['rps']:5.2f}x  bot/bare {bot['rps'] / bare['rps']:5.2f}x | "
                  f"p99 bot {bot['p99']:6.1f} ms  echo {echo['p99']:6.1f} ms")
    print("goals: bot/echo >= 1.0x at 32 clients on each database; bot p99 < 100 ms at 8 clients")
    print(json.dumps({db: {f"{k[0]}@{k[1]}": v for k, v in res.items()} for db, res in results.items()}))


if __name__ == "__main__":
    main()
