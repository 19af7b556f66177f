"""The office's console through the Flask test client: sign-in, roles, CSRF, headers, the
dashboard's numbers against the database, campaigns from the composer to the worker, what
residents asked, the audit log. (tests/test_console_browser.py drives a real browser.)"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot import campaigns as cp
from bot import create_app
from bot.campaigns.sender import SendEnv
from bot.deps import run_turn
from bot.store.models import AuditEntry, Campaign, CheckIn, Pledge, UnmatchedText, User
from bot.store.pledges import add_pledge, set_user_district
from bot.store.users import load_user
from bot.turn import Turn
from tests import events
from tests.console_helpers import NOW, PASSWORD, csrf_of, make_account, post_form, sign_in, signed_in

ROOT = Path(__file__).resolve().parent.parent
FLEX = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
    {"type": "text", "text": "ชวนปลูกต้นไม้วันเสาร์นี้", "weight": "bold", "wrap": True}]},
    "footer": {"type": "box", "layout": "vertical", "contents": [
        {"type": "button", "style": "primary",
         "action": {"type": "postback", "label": "ร่วมด้วย", "data": "a=pledge.pick&id=plant_trees"}}]}}


def audit_actions(app) -> list[str]:
    with app.extensions["deps"].db.session() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ------------------------------------------------------------------------------ on and off
def test_without_secret_key_the_console_is_off_and_says_why(app_config, caplog):
    with caplog.at_level(logging.INFO):
        app = create_app({**app_config, "SECRET_KEY": None})
    assert app.test_client().get("/admin/").status_code == 404
    assert any("console is off: SECRET_KEY is not set" in r.getMessage() for r in caplog.records)
    make_account(app, "first@office.example", "admin")  # accounts can be made before it is on
    app.extensions["deps"].db.dispose()


def test_signed_out_the_console_redirects_to_a_sign_in_form_with_email_and_password(console_app):
    client = console_app.test_client()
    resp = client.get("/admin/")
    assert resp.status_code == 302 and "/admin/sign-in" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page


def test_sign_in_and_wrong_password_are_audited(console_app):
    make_account(console_app, "staff@office.example", "viewer")
    client = console_app.test_client()
    bad = sign_in(client, "staff@office.example", "not the password")
    assert bad.status_code == 401 and "Wrong email or password" in bad.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    ok = sign_in(client, "Staff@Office.example", PASSWORD)
    assert ok.status_code == 302
    assert "Dashboard" in client.get("/admin/").get_data(as_text=True)
    assert audit_actions(console_app)[-2:] == ["sign_in_failed", "sign_in"]


def test_wrong_passwords_slow_down_then_lock_alike_for_known_and_unknown_emails(console_app, clock):
    make_account(console_app, "staff@office.example", "viewer")
    client = console_app.test_client()
    for email in ("staff@office.example", "nobody@office.example"):
        for _ in range(3):
            assert sign_in(client, email, "wrong password!").status_code == 401
            clock.advance(seconds=1)
        slowed = sign_in(client, email, "wrong password!")  # the 4th within a second of the 3rd
        assert slowed.status_code == 429 and "wait" in slowed.get_data(as_text=True)
    # Keep failing at the pace allowed until the lock (10 wrong passwords)
    for _ in range(7):
        clock.advance(seconds=61)
        assert sign_in(client, "staff@office.example", "wrong password!").status_code == 401
    clock.advance(seconds=61)
    locked = sign_in(client, "staff@office.example", PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and "locked" in locked.get_data(as_text=True)
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client, "staff@office.example", PASSWORD).status_code == 302
    assert "sign_in_refused" in audit_actions(console_app)


def test_an_admins_new_password_lifts_a_lock(console_app, clock):
    make_account(console_app, "staff@office.example", "viewer")
    admin = signed_in(console_app, "admin")
    client = console_app.test_client()
    for _ in range(10):
        sign_in(client, "staff@office.example", "wrong password!")
        clock.advance(seconds=61)
    assert sign_in(client, "staff@office.example", PASSWORD).status_code == 429
    with console_app.extensions["deps"].db.session() as s:
        staff_id = s.scalar(text("SELECT id FROM accounts WHERE email = 'staff@office.example'"))
    post_form(admin, f"/admin/accounts/{staff_id}", {"what": "password", "password": "a brand new password"})
    assert sign_in(client, "staff@office.example", "a brand new password").status_code == 302


def test_a_viewer_cannot_reach_the_composer_nor_send(console_app):
    viewer = signed_in(console_app, "viewer")
    assert "New campaign" not in viewer.get("/admin/campaigns").get_data(as_text=True)
    assert viewer.get("/admin/campaigns/new").status_code == 403
    assert post_form(viewer, "/admin/campaigns/new", {"name": "n", "text": "t", "confirm": "1"}).status_code == 403
    assert viewer.get("/admin/audit").status_code == 403 and viewer.get("/admin/accounts").status_code == 403
    sender = signed_in(console_app, "sender")
    assert sender.get("/admin/campaigns/new").status_code == 200
    assert sender.get("/admin/accounts").status_code == 403
    with console_app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_form_without_this_sessions_csrf_token_is_refused(console_app):
    sender = signed_in(console_app, "sender")
    assert sender.post("/admin/campaigns/new", data={"name": "n", "text": "t", "confirm": "1"}).status_code == 400
    other = signed_in(console_app, "viewer", "other@office.example")
    foreign = csrf_of(other.get("/admin/").get_data(as_text=True))
    resp = sender.post("/admin/campaigns/new", data={"name": "n", "text": "t", "confirm": "1", "csrf_token": foreign})
    assert resp.status_code == 400 and "Form refused" in resp.get_data(as_text=True)
    assert console_app.test_client().post("/admin/sign-in", data={"email": "x", "password": "y"}).status_code == 400


def test_the_webhook_needs_no_csrf_token(console_app, fake_line):
    client = console_app.test_client()
    body = events.body_of(events.payload(events.text("สวัสดีค่ะ", uid=events.user_id(3))))
    resp = client.post("/callback", data=body, headers={"X-Line-Signature": events.sign(body),
                                                        "Content-Type": "application/json"})
    assert resp.status_code == 200


def test_security_headers_and_cookie_flags(app_config):
    app = create_app({**app_config, "SECRET_KEY": "k" * 40})  # the default: secure cookies
    make_account(app, "a@office.example", "admin")
    client = app.test_client()
    page = client.get("/admin/sign-in", base_url="https://console.example")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["Cache-Control"] == "no-store"
    # Over HTTPS the CSRF check also wants this console as the Referer (browsers send it: same-origin).
    resp = client.post("/admin/sign-in", base_url="https://console.example",
                       headers={"Referer": "https://console.example/admin/sign-in"}, data={
        "email": "a@office.example", "password": PASSWORD, "csrf_token": csrf_of(page.get_data(as_text=True))})
    cookie = resp.headers["Set-Cookie"]
    assert resp.status_code == 302
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/admin"):
        assert flag in cookie
    assert "unsafe-inline" not in client.get("/admin/", base_url="https://console.example").headers["Content-Security-Policy"]
    app.extensions["deps"].db.dispose()


def test_pages_have_no_inline_script_or_style(console_app):
    admin = signed_in(console_app, "admin")
    for path in ("/admin/", "/admin/campaigns", "/admin/campaigns/new", "/admin/asked", "/admin/audit",
                 "/admin/accounts", "/admin/me"):
        html = admin.get(path).get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert "cdn" not in html.lower(), path


def test_changing_the_password_or_disabling_ends_other_sessions(console_app):
    make_account(console_app, "staff@office.example", "sender")
    first, second = console_app.test_client(), console_app.test_client()
    sign_in(first, "staff@office.example")
    sign_in(second, "staff@office.example")
    post_form(first, "/admin/me/password", {"password": PASSWORD, "new_password": "another long password",
                                           "new_password_again": "another long password"})
    assert first.get("/admin/").status_code == 200
    assert second.get("/admin/").status_code == 302
    assert console_app.test_cli_runner().invoke(args=["users", "disable", "staff@office.example"]).exit_code == 0
    assert first.get("/admin/").status_code == 302
    assert sign_in(second, "staff@office.example", "another long password").status_code == 401


# ------------------------------------------------------------------------------- dashboard
def residents(app, clock, plan: list[tuple[str | None, list[str]]], start: int = 1) -> list[str]:
    """Residents with a district and pledges, made through the bot's own store functions."""
    deps = app.extensions["deps"]
    uids = []
    with deps.db.session() as s:
        for n, (district, actions) in enumerate(plan, start):
            uid = events.user_id(n)
            user = load_user(s, uid, clock())
            if district:
                set_user_district(s, user, district, clock())
            for a in actions:
                add_pledge(s, user, a, clock())
            uids.append(uid)
    return uids


def csv_values(client) -> dict[tuple[str, str], str]:
    resp = client.get("/admin/dashboard.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()[1:]
    import csv

    return {(r[0], r[1]): r[3] for r in csv.reader(lines)}


def test_the_dashboards_numbers_are_the_databases(console_app, clock, shared_content):
    mae_rim, saraphi = "5007", "5019"
    plan = [(mae_rim, ["sort_waste", "plant_trees"])] * 5 + [(saraphi, ["sort_waste"])] * 2 + [(None, [])] * 3
    uids = residents(console_app, clock, plan)
    deps = console_app.extensions["deps"]
    with deps.db.session() as s:
        s.execute(User.__table__.update().where(User.line_user_id == uids[-1]).values(blocked=True, followed=False))
        s.execute(User.__table__.update().where(User.line_user_id == uids[-2]).values(opted_out=True))
        pledge = s.scalar(select(Pledge).order_by(Pledge.id))
        s.add(CheckIn(pledge_id=pledge.id, week_start=NOW.date().replace(day=3), done=True))
    viewer = signed_in(console_app, "viewer")
    got = csv_values(viewer)
    with deps.db.session() as s:
        following = s.scalar(select(func.count()).select_from(User).where(User.followed.is_(True), User.blocked.is_(False)))
        blocked = s.scalar(select(func.count()).select_from(User).where(User.blocked.is_(True)))
        opted = s.scalar(select(func.count()).select_from(User).where(
            User.followed.is_(True), User.blocked.is_(False), User.opted_out.is_(True)))
        pledges = s.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == "active"))
        households = s.scalar(select(func.count(func.distinct(Pledge.user_id))).where(Pledge.status == "active"))
        sort_waste = s.scalar(select(func.count()).select_from(Pledge).where(Pledge.action_id == "sort_waste"))
    kg = sum((shared_content.th.actions[a].kg_co2e_year or 0) for _, actions in plan for a in actions)
    assert (following, blocked, opted, pledges, households) == (9, 1, 1, 12, 7)
    assert got[("followers", "followers")] == str(following)
    assert got[("followers", "blocked")] == str(blocked)
    assert got[("followers", "opted_out")] == str(opted)
    assert got[("totals", "pledges")] == str(pledges) and got[("totals", "households")] == str(households)
    assert float(got[("totals", "tco2e_year")]) == pytest.approx(kg / 1000, abs=0.001)
    assert got[("pledges_by_action", "sort_waste")] == str(sort_waste)
    assert got[("pledges_by_week", "2025-03-03")] == str(pledges)
    assert got[("households_by_week", "2025-03-03")] == str(households)
    # week 0's check-in rate: one done check-in of 12 pledges made this week
    assert float(got[("checkin_rate_by_week_since_pledge", "0")]) == pytest.approx(1 / 12, abs=1e-4)
    # k ≥ 5: Mae Rim (5 households) is listed, Saraphi (2) is not, anywhere
    assert got[("district_households", mae_rim)] == "5"
    assert not any(k == saraphi for _, k in got)
    page = viewer.get("/admin/").get_data(as_text=True)
    assert 'data-district="5007"' in page and 'data-district="5019"' not in page
    assert f'data-figure="pledges">{pledges}<' in page and f'data-figure="households">{households}<' in page
    # never a resident's LINE id
    assert not any(uid in page for uid in uids)
    assert "export" in audit_actions(console_app)


# ------------------------------------------------------------------------------- campaigns
def compose_fields(**kw) -> dict:
    fields = {"name": "ปลูกป่า", "text": "ชวนปลูกต้นไม้วันเสาร์นี้ค่ะ", "text_en": "", "flex": "", "audience": "all",
              "district": "", "action": "", "when": "at", "at": "2025-03-08T09:00"}
    fields.update(kw)
    return fields


def test_compose_confirm_schedule_and_the_worker_sends_to_exactly_its_audience(console_app, clock, fake_line):
    mae_rim = "5007"
    in_district = residents(console_app, clock, [(mae_rim, [])] * 6)
    elsewhere = residents(console_app, clock, [("5019", [])] * 3, start=50)
    sender = signed_in(console_app, "sender")
    fields = compose_fields(flex=json.dumps(FLEX, ensure_ascii=False), audience="district", district=mae_rim)
    confirm = post_form(sender, "/admin/campaigns/new", fields, page="/admin/campaigns/new")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and 'id="confirm-count">6<' in page and "2025-03-08 09:00" in page
    with console_app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0  # nothing stored before the confirmation
    done = post_form(sender, "/admin/campaigns/new", {**fields, "confirm": "1"}, page="/admin/campaigns/new")
    assert done.status_code == 302
    cid = int(done.headers["Location"].rstrip("/").split("/")[-1])
    with console_app.extensions["deps"].db.session() as s:
        c = s.get(Campaign, cid)
        assert c.status == "scheduled" and c.audience == f"district:{mae_rim}"
    env = SendEnv.from_deps(console_app.extensions["deps"], sleep=lambda _: None)
    assert cp.worker_once(env) == []  # not due yet
    clock.advance(days=3, hours=1)
    [report] = cp.worker_once(env)
    assert report.status == "done"
    got = [u for d in fake_line.deliveries if d.kind == "multicast" for u in d.recipients]
    assert sorted(got) == sorted(in_district) and not set(got) & set(elsewhere)
    [message] = fake_line.delivered(in_district[0])
    datas = [c["action"]["data"] for c in message["contents"]["footer"]["contents"]]
    assert datas == [f"a=pledge.pick&id=plant_trees&c={cid}", f"a=optout&c={cid}"]
    progress = sender.get(f"/admin/campaigns/{cid}/progress.json").get_json()
    assert progress["status"] == "done" and progress["sent"] == "6" and progress["pending"] == "0"
    # taps are counted per campaign and button, not per resident
    deps = console_app.extensions["deps"]
    for uid in in_district[:2]:
        run_turn(deps, Turn(uid, "postback", data=datas[0]))
    run_turn(deps, Turn(in_district[2], "postback", data=datas[1]))
    progress = sender.get(f"/admin/campaigns/{cid}/progress.json").get_json()
    assert progress["total_taps"] == "fewer than 5"  # a district campaign: k ≥ 5 holds for taps too
    with deps.db.session() as s:
        assert dict(s.execute(text("SELECT action, taps FROM campaign_taps WHERE campaign_id = :c"), {"c": cid}).all()) \
            == {"pledge.pick": 2, "optout": 1}
        assert s.scalar(select(User.opted_out).where(User.line_user_id == in_district[2])) is True
    assert "campaign_scheduled" in audit_actions(console_app)


def test_send_now_hands_the_campaign_to_the_worker_and_cancel_stops_one(console_app, clock, fake_line):
    residents(console_app, clock, [(None, [])] * 2)
    sender = signed_in(console_app, "sender")
    fields = compose_fields(when="now", at="")
    resp = post_form(sender, "/admin/campaigns/new", {**fields, "confirm": "1"}, page="/admin/campaigns/new")
    cid = int(resp.headers["Location"].split("/")[-1])
    later = post_form(sender, "/admin/campaigns/new", {**compose_fields(name="later"), "confirm": "1"},
                      page="/admin/campaigns/new")
    later_id = int(later.headers["Location"].split("/")[-1])
    post_form(sender, f"/admin/campaigns/{later_id}/cancel", {})
    env = SendEnv.from_deps(console_app.extensions["deps"], sleep=lambda _: None)
    [report] = cp.worker_once(env)
    assert report.campaign_id == cid and len(fake_line.multicasts()) == 1
    clock.advance(days=10)
    assert cp.worker_once(env) == []
    listing = sender.get("/admin/campaigns").get_data(as_text=True)
    assert "cancelled" in listing and "done" in listing
    assert {"campaign_send_now", "campaign_cancelled"} <= set(audit_actions(console_app))


def test_the_composer_refuses_bad_flex_and_a_past_time_and_previews_what_line_gets(console_app, clock):
    residents(console_app, clock, [("5007", [])] * 3)
    sender = signed_in(console_app, "sender")
    token = csrf_of(sender.get("/admin/campaigns/new").get_data(as_text=True))

    def preview(**kw):
        resp = sender.post("/admin/campaigns/preview", json=compose_fields(**kw), headers={"X-CSRFToken": token})
        assert resp.status_code == 200
        return resp.get_json()

    assert "Flex JSON" in preview(flex="{not json")["errors"][0]
    assert "not valid Flex" in preview(flex=json.dumps({"type": "bubble", "body": {"type": "box"}}))["errors"][0]
    assert "has passed" in preview(at="2025-03-01T09:00")["errors"][0]
    good = preview(flex=json.dumps(FLEX), text_en="Plant trees with us on Saturday")
    assert good["errors"] == [] and good["messages"][0]["type"] == "flex"
    assert good["messages_en"][0]["altText"] == "Plant trees with us on Saturday"
    assert preview(audience="district", district="5007")["recipients"] == "fewer than 5"
    assert preview()["recipients"] == "3"
    assert sender.post("/admin/campaigns/preview", json=compose_fields()).status_code == 400  # no CSRF token


def test_an_english_text_gets_english_messages_with_the_same_stop_button(app, shared_content):
    with app.extensions["deps"].db.session() as s:
        c = cp.create_campaign(s, shared_content.th, name="n", text="ข่าวโครงการค่ะ", text_en="Campaign news",
                               content_en=shared_content.en, now=NOW)
        th_item = c.messages[0]["quickReply"]["items"][0]["action"]
        en_item = c.messages_en[0]["quickReply"]["items"][0]["action"]
        assert c.text_en == "Campaign news" and c.messages_en[0]["text"] == "Campaign news"
        assert th_item["data"] == en_item["data"] == f"a=optout&c={c.id}"
        assert en_item["label"] == shared_content.en.text("campaigns.optout_label")
        plain = cp.create_campaign(s, shared_content.th, name="n", text="ข่าว", now=NOW)
        assert plain.messages_en is None and plain.text_en is None


def test_buttons_of_older_campaigns_without_an_id_still_work_and_count_nothing(app, fake_line):
    deps = app.extensions["deps"]
    uid = events.user_id(7)
    run_turn(deps, Turn(uid, "postback", data="a=optout"))
    run_turn(deps, Turn(uid, "postback", data="a=optout&c=999"))  # a campaign that does not exist
    with deps.db.session() as s:
        assert s.scalar(select(User.opted_out).where(User.line_user_id == uid)) is True
        assert s.scalar(text("SELECT count(*) FROM campaign_taps")) == 0


# ---------------------------------------------------------------------------- residents asked
def test_what_residents_asked_masks_numbers_and_sends_phrases_to_a_review_file(console_app, tmp_path):
    deps = console_app.extensions["deps"]
    with deps.db.session() as s:
        for t in ["รถไฟฟ้าเชียงใหม่จะมาเมื่อไหร่"] * 3 + ["โทรหาฉันที่ 081-234-5678 นะ"]:
            s.add(UnmatchedText(text=t, intent="tips_transport", score=0.2, created_at=NOW))
    viewer = signed_in(console_app, "viewer")
    page = viewer.get("/admin/asked").get_data(as_text=True)
    assert "รถไฟฟ้าเชียงใหม่จะมาเมื่อไหร่" in page and "081-234-5678" not in page and "[number]" in page
    assert "Add as a phrase" not in page
    key = deps.matcher.normalize("รถไฟฟ้าเชียงใหม่จะมาเมื่อไหร่")
    assert post_form(viewer, "/admin/asked/review", {"key": key, "intent": "tips_transport"}).status_code == 403
    sender = signed_in(console_app, "sender")
    post_form(sender, "/admin/asked/review", {"key": key, "intent": "tips_transport"})
    review = tmp_path / "review" / "phrases.tsv"
    assert review.read_text(encoding="utf-8").splitlines()[-1] == "รถไฟฟ้าเชียงใหม่จะมาเมื่อไหร่\ttips_transport"
    assert "รถไฟฟ้าเชียงใหม่" not in sender.get("/admin/asked").get_data(as_text=True)  # reviewed: hidden
    assert "phrase for tips_transport" in sender.get("/admin/asked?show=all").get_data(as_text=True)
    # content/ itself is never touched
    assert "รถไฟฟ้าเชียงใหม่จะมาเมื่อไหร่" not in (ROOT / "content" / "nlu" / "training.yaml").read_text(encoding="utf-8")
    assert "phrase_added" in audit_actions(console_app)


# ---------------------------------------------------------------------------------- audit log
def test_the_audit_log_is_append_only(console_app):
    admin = signed_in(console_app, "admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "account_created" in page and "sign_in" in page and "admin@office.example" in page
    db = console_app.extensions["deps"].db
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
            s.execute(text(statement))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) >= 2
    # and no code path changes or removes an entry
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in (r"update\(\s*AuditEntry", r"delete\(\s*AuditEntry", r"(UPDATE|DELETE FROM)\s+audit_log"):
            assert not re.search(pattern, source) or "migrations" in str(path), (path, pattern)


# --------------------------------------------------------------------------------- second factor
def test_a_second_factor_is_asked_once_set_up_and_a_code_works_once(console_app, clock):
    import pyotp

    client = signed_in(console_app, "viewer")
    post_form(client, "/admin/me/totp", {"step": "start"}, page="/admin/me")
    page = client.get("/admin/me").get_data(as_text=True)
    secret = re.search(r'class="secret">([A-Z2-7]+)<', page).group(1)
    assert "data:image/svg+xml;base64," in page
    post_form(client, "/admin/me/totp", {"step": "confirm", "code": pyotp.TOTP(secret).at(clock())}, page="/admin/me")
    assert "Second factor on" in client.get("/admin/me").get_data(as_text=True)
    assert secret not in client.get("/admin/me").get_data(as_text=True)  # shown once
    fresh = console_app.test_client()
    clock.advance(seconds=30)
    resp = sign_in(fresh, "viewer@office.example")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/sign-in/code")
    assert fresh.get("/admin/").status_code == 302  # the password alone does not open it
    code = pyotp.TOTP(secret).at(clock())
    token = csrf_of(fresh.get("/admin/sign-in/code").get_data(as_text=True))
    assert fresh.post("/admin/sign-in/code", data={"code": code, "csrf_token": token}).status_code == 302
    assert fresh.get("/admin/").status_code == 200
    again = console_app.test_client()
    sign_in(again, "viewer@office.example")
    token = csrf_of(again.get("/admin/sign-in/code").get_data(as_text=True))
    assert again.post("/admin/sign-in/code", data={"code": code, "csrf_token": token}).status_code == 401  # replayed


# ------------------------------------------------------------------------------------ users CLI
def test_users_commands(console_app):
    runner = console_app.test_cli_runner()
    short = runner.invoke(args=["users", "create", "a@office.example", "--role", "admin", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    typed = runner.invoke(args=["users", "create", "a@office.example", "--role", "admin"],
                          input=f"{PASSWORD}\n{PASSWORD}\n")
    assert typed.exit_code == 0, typed.output
    assert PASSWORD not in typed.output
    again = runner.invoke(args=["users", "create", "A@office.example", "--role", "viewer", "--password-stdin"],
                          input=f"{PASSWORD}\n")
    assert again.exit_code != 0 and "already has an account" in again.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "a@office.example" in listing and "admin" in listing and "active" in listing
    assert runner.invoke(args=["users", "set-password", "a@office.example", "--password-stdin"],
                         input="a new long password\n").exit_code == 0
    assert sign_in(console_app.test_client(), "a@office.example", "a new long password").status_code == 302
    assert runner.invoke(args=["users", "disable", "a@office.example"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["users", "list"]).output
    assert sign_in(console_app.test_client(), "a@office.example", "a new long password").status_code == 401
    with console_app.extensions["deps"].db.session() as s:
        hashes = list(s.scalars(text("SELECT password_hash FROM accounts")))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
