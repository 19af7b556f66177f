"""Webhook throughput and latency, against a bare Flask app under the same gunicorn settings.

    python bench/webhook.py                 # SQLite (the embedded default)
    python bench/webhook.py --db postgres   # PostgreSQL at 127.0.0.1:5432 (a throwaway database)

Starts the Procfile's web command against the fake LINE API, and the bare app with the same
gunicorn flags; drives both with signed requests from 8 and 32 concurrent clients; prints
requests/s and p50/p99 latency for each, and the ratios. Prints figures; never fails for speed.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import events  # noqa: E402

QUESTIONS = ["สวัสดีค่ะ", "ภาวะโลกร้อนคืออะไร", "ฝุ่น PM2.5 มาจากไหน", "วิธีประหยัดไฟ", "ขอบคุณครับ",
             "เมนู", "ทำไมโลกร้อน", "ราคาน้ำมันวันนี้", "คำมั่นของฉัน", "ยอดรวมทั้งจังหวัด"]


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


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def run_fake(port_q: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    from tests.fakeline import FakeLine

    fake = FakeLine(token=events.TOKEN).start()
    port_q.put(fake.url)
    stop.wait()
    fake.stop()


def client_proc(port: int, threads: int, seconds: float, seed: int, out: mp.Queue) -> None:  # type: ignore[valid-type]
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


def drive(port: int, clients: int, seconds: float) -> dict:
    procs_n = min(4, clients)
    out: mp.Queue = mp.Queue()
    procs = [mp.Process(target=client_proc, args=(port, clients // procs_n, seconds, p, out)) for p in range(procs_n)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat.extend(out.get())
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    lat.sort()
    if not lat:
        return {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "n": 0}
    return {"rps": len(lat) / elapsed, "p50": statistics.median(lat) * 1000,
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "n": len(lat)}


def start_server(app_spec: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(web_command(port, app_spec), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_ready(port)
    time.sleep(1.0)
    return proc, port


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()

    port_q: mp.Queue = mp.Queue()
    stop = mp.Event()
    fake = mp.Process(target=run_fake, args=(port_q, stop), daemon=True)
    fake.start()
    fake_url = port_q.get(timeout=30)

    tmp = tempfile.mkdtemp(prefix="bench-webhook-")
    pg_admin = None
    if args.db == "postgres":
        from sqlalchemy import create_engine, text

        name = f"bench_webhook_{uuid.uuid4().hex[:8]}"
        pg_admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        env_db = {"DATABASE_URL": db_url}
        subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, env={**os.environ, **env_db, "LINE_API_BASE_URL": fake_url}, check=True,
                       stdout=subprocess.DEVNULL)
    else:
        env_db = {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
    env = {**os.environ, **env_db, "LINE_CHANNEL_SECRET": events.SECRET,
           "LINE_CHANNEL_ACCESS_TOKEN": events.TOKEN, "LINE_API_BASE_URL": fake_url,
           "PYTHONPATH": str(ROOT)}

    results: dict[tuple[str, int], dict] = {}
    try:
        for label, spec in (("bare Flask", "bench.bare_app:app"), ("bot", "wsgi:app")):
            proc, port = start_server(spec, env)
            try:
                drive(port, 8, 1.0)  # warm-up
                for clients in (8, 32):
                    results[(label, clients)] = r = drive(port, clients, args.seconds)
                    print(f"{label:10s} {clients:2d} clients: {r['rps']:8.1f} req/s  p50 {r['p50']:6.1f} ms  "
                          f"p99 {r['p99']:6.1f} ms  ({r['n']} requests)", flush=True)
            finally:
                stop_server(proc)
    finally:
        stop.set()
        fake.join(timeout=10)
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"database: {args.db}")
    for clients in (8, 32):
        bare, bot = results[("bare Flask", clients)], results[("bot", clients)]
        ratio = bot["rps"] / bare["rps"] if bare["rps"] else float("nan")
        print(f"{clients:2d} clients: bot/bare throughput {ratio:5.1%}; bot p99 {bot['p99']:.1f} ms "
              f"(goal: 32 clients >= 50%, 8 clients p99 < 100 ms)")
    print(json.dumps({f"{k[0]}@{k[1]}": v for k, v in results.items()}))


if __name__ == "__main__":
    main()
