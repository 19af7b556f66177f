"""Campaign broadcasts against the fake LINE API: who receives them, exactly once, through faults.

Every test asserts what the campaign office or a resident would notice: who got the message,
how many times, what `campaign status` says, and that a cut-off send resumes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot import campaigns as cp
from bot.clock import as_utc
from bot.line import SendResult
from bot.store.models import Campaign, CampaignBatch, Pledge, User
from tests import events

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # a Monday, 09:00 in Chiang Mai


# ---------------------------------------------------------------------------------- helpers
@pytest.fixture
def sleeps(app):
    """Backoff and rate waits are recorded, not slept: tests never wait for real."""
    recorded: list[float] = []
    app.extensions["deps"].sleep = recorded.append
    return recorded


def add_users(app, n: int, start: int = 1, **fields) -> list[str]:
    """n followers (LINE-shaped ids); fields override followed/blocked/opted_out/district_code."""
    rows = []
    for i in range(start, start + n):
        rows.append({"line_user_id": events.user_id(i), "followed": fields.get("followed", True),
                     "blocked": fields.get("blocked", False), "opted_out": fields.get("opted_out", False),
                     "district_code": fields.get("district_code"), "lang": fields.get("lang"),
                     "created_at": NOW, "updated_at": NOW})
    with app.extensions["deps"].db.session() as s:
        s.execute(insert(User), rows)
    return [r["line_user_id"] for r in rows]


def pledge(app, line_user_id: str, action_id: str = "sort_waste") -> None:
    with app.extensions["deps"].db.session() as s:
        uid = s.scalar(select(User.id).where(User.line_user_id == line_user_id))
        s.add(Pledge(user_id=uid, action_id=action_id, status="active", started_at=NOW))


def received(fake) -> Counter:
    """How many campaign messages (multicast requests LINE accepted) each user received."""
    c: Counter = Counter()
    for d in fake.deliveries:
        if d.kind == "multicast":
            c.update(d.recipients)
    return c


def assert_each_got_it_once(fake, users: list[str]) -> None:
    got = received(fake)
    assert set(got) == set(users) and set(got.values()) == {1}


def create(runner, *args: str) -> int:
    result = runner.invoke(args=["campaign", "create", *args])
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def send(runner, campaign_id: int, *extra: str):
    return runner.invoke(args=["campaign", "send", str(campaign_id), *extra])


def status_of(app, campaign_id: int) -> str:
    with app.extensions["deps"].db.session() as s:
        return s.get(Campaign, campaign_id).status


# ------------------------------------------------------------------------------- creating
def test_create_prints_the_id_and_waits_as_a_draft(app, runner, fake_line):
    add_users(app, 3)
    cid = create(runner, "--name", "ข่าวฝุ่น", "--text", "ฝุ่น PM2.5 สูง งดเผาเถอะค่ะ")
    assert status_of(app, cid) == "draft"
    assert fake_line.multicasts() == []
    listing = runner.invoke(args=["campaign", "list"]).output
    assert "ข่าวฝุ่น" in listing and "draft" in listing


def test_at_is_chiang_mai_time_unless_a_zone_is_given(app, runner, fake_line):
    local = create(runner, "--name", "a", "--text", "x", "--at", "2030-01-01T09:00")
    zoned = create(runner, "--name", "b", "--text", "x", "--at", "2030-01-01T09:00+00:00")
    with app.extensions["deps"].db.session() as s:
        assert as_utc(s.get(Campaign, local).scheduled_at) == datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
        assert as_utc(s.get(Campaign, zoned).scheduled_at) == datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
        assert s.get(Campaign, local).status == "scheduled"


@pytest.mark.parametrize("audience, complaint", [
    ("district:ไม่มีอำเภอนี้", "unknown district"),
    ("action:fly_less", "unknown action"),
    ("everyone", "unknown audience"),
])
def test_a_wrong_audience_is_refused_clearly(app, runner, fake_line, audience, complaint):
    result = runner.invoke(args=["campaign", "create", "--name", "n", "--text", "t", "--audience", audience])
    assert result.exit_code != 0 and complaint in result.output
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(Campaign.id)) is None


def test_invalid_flex_is_refused_and_valid_flex_carries_the_stop_button(app, runner, fake_line, tmp_path, sleeps):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "bubble", "body": {"type": "box", "contents": []}}))
    result = runner.invoke(args=["campaign", "create", "--name", "n", "--text", "t", "--flex", str(bad)])
    assert result.exit_code != 0 and "not valid Flex" in result.output
    good = tmp_path / "card.json"
    good.write_text(json.dumps({"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
        {"type": "text", "text": "ร่วมปลูกต้นไม้วันเสาร์นี้", "wrap": True}]}}), encoding="utf-8")
    users = add_users(app, 2)
    cid = create(runner, "--name", "ปลูกป่า", "--text", "ร่วมปลูกต้นไม้", "--flex", str(good))
    assert send(runner, cid).exit_code == 0
    [message] = fake_line.delivered(users[0])
    assert message["type"] == "flex" and message["altText"] == "ร่วมปลูกต้นไม้"
    footer_actions = [c["action"] for c in message["contents"]["footer"]["contents"]]
    assert {"type": "postback", "label": "หยุดรับข่าวสาร", "data": f"a=optout&c={cid}",
            "displayText": "หยุดรับข่าวสาร"} in footer_actions


def test_dry_run_shows_audience_and_quota_and_stores_nothing(app, runner, fake_line):
    add_users(app, 7)
    add_users(app, 2, start=100, opted_out=True)
    fake_line.set_quota(1000, used=10)
    result = runner.invoke(args=["campaign", "create", "--name", "n", "--text", "t", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "audience: 7 recipients" in result.output and "7 of 990 left" in result.output
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(Campaign.id)) is None
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid, "--dry-run")
    assert "audience: 7 recipients" in result.output
    assert fake_line.multicasts() == []


# -------------------------------------------------------------------------------- audiences
def test_only_followers_who_have_not_blocked_or_opted_out_receive_it(app, runner, fake_line, sleeps):
    ok = add_users(app, 1200)
    blocked = add_users(app, 3, start=5000, blocked=True, followed=False)
    opted_out = add_users(app, 3, start=6000, opted_out=True)
    cid = create(runner, "--name", "n", "--text", "ข่าวโครงการ")
    result = send(runner, cid)
    assert result.exit_code == 0, result.output
    got = received(fake_line)
    assert set(got) == set(ok) and set(got.values()) == {1}
    assert not (set(blocked) | set(opted_out)) & set(got)
    bodies = fake_line.multicasts()
    assert max(len(b["to"]) for b in bodies) <= 500 and len(bodies) == 3
    calls = fake_line.calls_to("multicast")
    assert all(c.headers.get("x-line-retry-key") for c in calls)
    assert "sent to 1,200 recipients in 3 batches" in result.output
    status = runner.invoke(args=["campaign", "status", str(cid)]).output
    assert "done" in status and "sent:      1,200" in status and "progress:  100.0%" in status
    # the text carries a "stop receiving news" quick reply
    [message] = fake_line.delivered(ok[0])
    assert message["quickReply"]["items"][0]["action"]["data"] == f"a=optout&c={cid}"
    # once sent, the campaign keeps its counts but no longer who received it
    with app.extensions["deps"].db.session() as s:
        assert all(ids == [] for ids in s.scalars(select(CampaignBatch.user_ids)))


def test_who_receives_it_is_decided_at_send_time(app, runner, fake_line, sleeps):
    users = add_users(app, 4)
    cid = create(runner, "--name", "n", "--text", "t")
    with app.extensions["deps"].db.session() as s:
        s.execute(User.__table__.update().where(User.line_user_id == users[0]).values(opted_out=True))
    add_users(app, 1, start=50)  # a new follower since
    send(runner, cid)
    assert set(received(fake_line)) == set(users[1:]) | {events.user_id(50)}


def test_district_pledged_not_pledged_and_action_audiences(app, runner, fake_line, sleeps, shared_content):
    mae_rim = shared_content.th.district_by_name("แม่ริม").code
    in_mae_rim = add_users(app, 3, district_code=mae_rim)
    elsewhere = add_users(app, 3, start=10, district_code="5001")
    pledge(app, in_mae_rim[0], "sort_waste")
    pledge(app, elsewhere[0], "plant_trees")
    audiences = {"district:แม่ริม": set(in_mae_rim), "pledged": {in_mae_rim[0], elsewhere[0]},
                 "not_pledged": set(in_mae_rim[1:] + elsewhere[1:]), "action:plant_trees": {elsewhere[0]}}
    for audience, expected in audiences.items():
        fake_line.reset()
        cid = create(runner, "--name", audience, "--text", "t", "--audience", audience)
        assert send(runner, cid).exit_code == 0
        assert set(received(fake_line)) == expected, audience


def test_checkin_reminder_goes_to_pledged_residents_with_the_pledge_flow_button(app, runner, fake_line, sleeps):
    users = add_users(app, 3)
    pledge(app, users[0])
    cid = create(runner, "--name", "เช็กอิน", "--checkin")
    with app.extensions["deps"].db.session() as s:
        assert s.get(Campaign, cid).audience == "pledged"
    assert send(runner, cid).exit_code == 0
    assert set(received(fake_line)) == {users[0]}
    [message] = fake_line.delivered(users[0])
    datas = [c["action"]["data"] for c in message["contents"]["footer"]["contents"]]
    assert datas[0].startswith("a=pledge.status") and f"a=optout&c={cid}" in datas


# --------------------------------------------------------------------------------- opt-out
def test_the_stop_button_stops_the_next_broadcast(app, runner, client, fake_line, signed_post, sleeps):
    users = add_users(app, 2)
    resp = signed_post(events.payload(events.postback("a=optout", uid=users[0])))
    assert resp.status_code == 200
    reply = fake_line.replies()[-1]["messages"][0]["text"]
    assert reply == app.extensions["deps"].content.text("core.optout_done")
    cid = create(runner, "--name", "n", "--text", "t")
    send(runner, cid)
    assert set(received(fake_line)) == {users[1]}


# -------------------------------------------------------------------------------- faults
def test_server_errors_are_retried_with_backoff_and_nobody_gets_it_twice(app, runner, fake_line, sleeps):
    users = add_users(app, 1100)
    fake_line.fail_next("multicast", status=500, count=3)
    fake_line.fail_after_accept_next("multicast", count=1)  # accepted, but answered 500: retry gets 409
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid)
    assert result.exit_code == 0, result.output
    assert_each_got_it_once(fake_line, users)
    assert fake_line.wait_for("multicast", len(fake_line.calls_to("multicast")))
    assert 409 in {c.status for c in fake_line.calls_to("multicast")}
    assert any(s >= 1.0 for s in sleeps)  # backed off
    assert "already accepted" in result.output


def test_429_is_waited_out(app, runner, fake_line, sleeps):
    users = add_users(app, 30)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    fake_line.fail_next("multicast", status=429, count=2)
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid)
    assert result.exit_code == 0, result.output
    assert_each_got_it_once(fake_line, users)
    assert "waits for rate limit: 2" in result.output


def test_a_hanging_request_times_out_and_is_retried_with_the_same_key(app, runner, fake_line, sleeps):
    users = add_users(app, 20)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    fake_line.hang_next("multicast", seconds=1.5)  # LINE accepts it after the client gave up
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid)
    assert result.exit_code == 0, result.output
    fake_line.wait_for("multicast", count=len(fake_line.calls_to("multicast")), timeout=5)
    assert_each_got_it_once(fake_line, users)
    keys = Counter(c.headers["x-line-retry-key"] for c in fake_line.calls_to("multicast"))
    assert max(keys.values()) == 2  # the timed-out batch went again under its own key


def test_a_refused_batch_is_reported_and_the_others_go_out(app, runner, fake_line, sleeps):
    users = add_users(app, 30)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    app.config["CAMPAIGN_CONCURRENCY"] = 1
    fake_line.fail_next("multicast", status=400, count=1)
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid)
    assert "FAILED: 1 batches, 10 recipients" in result.output and "HTTP 400" in result.output
    assert set(received(fake_line)) == set(users[10:])
    status = runner.invoke(args=["campaign", "status", str(cid)]).output
    assert "failed:    10" in status and "sent:      20" in status


def test_a_send_over_the_monthly_quota_is_refused_before_anything_goes_out(app, runner, fake_line, sleeps):
    add_users(app, 50)
    fake_line.set_quota(100, used=80)
    cid = create(runner, "--name", "n", "--text", "t")
    result = send(runner, cid)
    assert result.exit_code != 0 and "exceed LINE's monthly message quota" in result.output
    assert fake_line.multicasts() == []
    assert status_of(app, cid) == "interrupted"


def test_an_outage_stops_the_send_resumably(app, runner, fake_line, sleeps):
    users = add_users(app, 40)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    app.config["CAMPAIGN_CONCURRENCY"] = 1
    cid = create(runner, "--name", "n", "--text", "t")
    fake_line.fail_next("multicast", status=503, count=100)
    result = send(runner, cid)
    assert result.exit_code != 0 and "LINE is unavailable" in result.output
    assert f"campaign send {cid}" in result.output
    assert status_of(app, cid) == "interrupted"
    fake_line.clear_faults()
    assert send(runner, cid).exit_code == 0
    assert_each_got_it_once(fake_line, users)


# ------------------------------------------------------------------------------- resuming
def test_ctrl_c_half_way_then_resume_reaches_everyone_exactly_once(app, runner, fake_line, sleeps):
    users = add_users(app, 100)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    app.config["CAMPAIGN_CONCURRENCY"] = 2
    cid = create(runner, "--name", "n", "--text", "t")

    def progress(done: int, total: int) -> None:
        if done >= 30:
            raise KeyboardInterrupt

    with app.app_context():
        env = cp.SendEnv.from_deps(app.extensions["deps"])
        with pytest.raises(KeyboardInterrupt):
            cp.send_now(env, cid, progress=progress)
    assert status_of(app, cid) == "interrupted"
    first = received(fake_line)
    assert 30 <= sum(first.values()) < 100
    status = runner.invoke(args=["campaign", "status", str(cid)]).output
    assert "interrupted" in status and "pending" in status
    result = send(runner, cid)
    assert result.exit_code == 0, result.output
    assert_each_got_it_once(fake_line, users)


def test_someone_who_opts_out_before_a_resume_is_left_out_of_the_recorded_batch(app, runner, fake_line, sleeps):
    users = add_users(app, 20)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    cid = create(runner, "--name", "n", "--text", "t")
    fake_line.fail_next("multicast", status=503, count=1000)
    send(runner, cid)  # the batches are recorded, nothing accepted
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(CampaignBatch.id).where(CampaignBatch.campaign_id == cid)) is not None
        s.execute(User.__table__.update().where(User.line_user_id == users[0]).values(opted_out=True))
    fake_line.clear_faults()
    send(runner, cid)
    got = received(fake_line)
    assert set(got) == set(users[1:]) and set(got.values()) == {1}


def _subprocess_env(app, fake_line) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["DATABASE_URL"], "LINE_API_BASE_URL": fake_line.url,
        "LINE_CHANNEL_ACCESS_TOKEN": events.TOKEN, "LINE_CHANNEL_SECRET": events.SECRET,
        "CAMPAIGN_RATE": "8", "CAMPAIGN_BATCH_SIZE": "10", "CAMPAIGN_CONCURRENCY": "2",
        "PYTHONPATH": str(ROOT),
    })
    return env


def test_a_send_killed_half_way_resumes_and_nobody_gets_it_twice(app, runner, fake_line, sleeps):
    users = add_users(app, 120)
    cid = create(runner, "--name", "n", "--text", "t")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "campaign", "send", str(cid)],
                            cwd=ROOT, env=_subprocess_env(app, fake_line),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert fake_line.wait_for("multicast", count=4, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = sum(received(fake_line).values())
    assert 0 < before < 120
    assert status_of(app, cid) == "sending"  # no chance to say goodbye
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    result = send(runner, cid)  # the dead sender's claim is taken over at once on the same host
    assert result.exit_code == 0, result.output
    assert_each_got_it_once(fake_line, users)


# -------------------------------------------------------------------------------- the worker
def test_the_worker_sends_due_campaigns_only(app, runner, fake_line, sleeps):
    users = add_users(app, 5)
    due = create(runner, "--name", "due", "--text", "t", "--at", "2020-01-01T08:00")
    later = create(runner, "--name", "later", "--text", "t", "--at", "2099-01-01T08:00")
    result = runner.invoke(args=["campaign", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert status_of(app, due) == "done" and status_of(app, later) == "scheduled"
    assert set(received(fake_line)) == set(users)


def test_two_workers_racing_never_send_one_campaign_twice(app, runner, fake_line, sleeps):
    users = add_users(app, 60)
    app.config["CAMPAIGN_BATCH_SIZE"] = 10
    cid = create(runner, "--name", "n", "--text", "t", "--at", "2020-01-01T08:00")
    env = cp.SendEnv.from_deps(app.extensions["deps"])
    # Both workers have found the campaign due and try to claim it at the same moment (outside
    # any transaction, so SQLite's write gate does not line them up beforehand).
    barrier = threading.Barrier(2)
    due: list[int] = []
    claims: list[int] = []
    errors: list[BaseException] = []

    def at_the_same_time(campaign_id: int) -> None:
        due.append(campaign_id)
        barrier.wait(timeout=10)

    def worker(name: str) -> None:
        try:
            cp.worker_once(env, owner=name, on_due=at_the_same_time, on_claim=claims.append)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert due == [cid, cid]  # both tried; the barrier did not time out
    assert claims == [cid]    # one won
    assert status_of(app, cid) == "done"
    assert_each_got_it_once(fake_line, users)


def test_two_worker_processes_racing_never_send_one_campaign_twice(app, runner, fake_line, sleeps):
    users = add_users(app, 60)
    cid = create(runner, "--name", "n", "--text", "t", "--at", "2020-01-01T08:00")
    env = _subprocess_env(app, fake_line)
    env["CAMPAIGN_RATE"] = "100"
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "campaign", "worker", "--once"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    assert status_of(app, cid) == "done"
    assert_each_got_it_once(fake_line, users)


def test_a_stale_claim_is_taken_over_and_a_live_one_is_not(app, runner, fake_line, sleeps):
    users = add_users(app, 20)
    stale = create(runner, "--name", "stale", "--text", "t", "--at", "2020-01-01T08:00")
    live = create(runner, "--name", "live", "--text", "t", "--at", "2020-01-01T08:00")
    now = datetime.now(UTC)
    with app.extensions["deps"].db.session() as s:
        for cid, beat in ((stale, now - timedelta(minutes=30)), (live, now)):
            c = s.get(Campaign, cid)
            c.status, c.claimed_by, c.claimed_at = "sending", "elsewhere:1:abc", beat
    result = runner.invoke(args=["campaign", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert status_of(app, stale) == "done" and status_of(app, live) == "sending"
    assert set(received(fake_line)) == set(users)
    refused = send(runner, live)
    assert refused.exit_code != 0 and "is being sent by elsewhere:1:abc" in refused.output


def test_the_rate_limiter_spaces_requests_evenly():
    t = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)

    limiter = cp.RateLimiter(200, lambda: t[0], sleep)
    for _ in range(5):
        limiter.acquire()
    assert slept == pytest.approx([0.005, 0.010, 0.015, 0.020])


def test_retry_after_is_honoured_when_line_gives_it(app, fake_line, sleeps):
    users = add_users(app, 5)
    with app.app_context():
        runner = app.test_cli_runner()
        cid = create(runner, "--name", "n", "--text", "t")
        real = app.extensions["deps"].line

        class SaysRetryAfter:
            """LINE's 429 with a Retry-After header (the fake sends none), once."""

            def __init__(self) -> None:
                self.said = False
                self.access_token = real.access_token

            def multicast_prepared(self, *args, **kwargs):
                if not self.said:
                    self.said = True
                    return SendResult(429, retry_after=7.0)
                return real.multicast_prepared(*args, **kwargs)

            def quota(self):
                return real.quota()

        report = cp.send_now(cp.SendEnv.from_deps(app.extensions["deps"], line=SaysRetryAfter()), cid)
    assert report.status == "done" and report.rate_waits == 1
    assert 7.0 in sleeps
    assert set(received(fake_line)) == set(users)


def test_the_procfile_worker_polls_and_stops_cleanly_on_sigterm(app, runner, fake_line):
    users = add_users(app, 10)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "campaign", "worker", "--poll", "0.2"],
                            cwd=ROOT, env=_subprocess_env(app, fake_line),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        cid = create(runner, "--name", "n", "--text", "t", "--at", "2020-01-01T08:00")
        assert fake_line.wait_for("multicast", count=1, timeout=60)
        deadline = time.monotonic() + 30
        while status_of(app, cid) != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert status_of(app, cid) == "done"
    assert set(received(fake_line)) == set(users)


def test_residents_who_chose_english_get_the_english_text_and_everyone_else_the_thai(app, runner, fake_line, sleeps):
    thai = add_users(app, 7)
    english = add_users(app, 3, start=8, lang="en")
    app.config["CAMPAIGN_BATCH_SIZE"] = 4
    cid = create(runner, "--name", "n", "--text", "ข่าวโครงการเดือนนี้", "--text-en", "This month's campaign news")
    assert send(runner, cid).exit_code == 0
    assert_each_got_it_once(fake_line, thai + english)
    texts: dict[str, str] = {}
    for d in fake_line.deliveries:
        if d.kind == "multicast":
            for uid in d.recipients:
                texts[uid] = d.messages[0]["text"]
    assert {texts[u] for u in thai} == {"ข่าวโครงการเดือนนี้"}
    assert {texts[u] for u in english} == {"This month's campaign news"}
    stop_labels = {a["action"]["label"] for d in fake_line.deliveries if d.kind == "multicast"
                   for a in d.messages[0]["quickReply"]["items"]}
    assert stop_labels == {app.extensions["deps"].contents.th.text("campaigns.optout_label"),
                           app.extensions["deps"].contents.en.text("campaigns.optout_label")}
