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
from tests.console_helpers import (  # noqa: F401  (fixtures)
    NOW,
    PASSWORD,
    clock,
    console_app,
    console_config,
    csrf_of,
    make_account,
    post_form,
    sign_in,
    signed_in,
)

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
