"""The console in a real browser: Debian's Chromium driven by Playwright, against the app served
on loopback with the fake LINE API.

Skipped, with the reason, where Chromium or Playwright is missing; `.ci/run` sets
REQUIRE_BROWSER=1, which turns that skip into a failure. Playwright's own browser downloads are
never used: Chromium is Debian's (apt-get install chromium fonts-thai-tlwg).
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot import campaigns as cp
from bot import create_app
from bot.campaigns.sender import SendEnv
from bot.store.models import Campaign, Pledge, User
from tests import events
from tests.console_helpers import NOW, PASSWORD, Clock, console_config, make_account
from tests.test_console import FLEX, residents

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", Path(__file__).resolve().parent.parent / "instance" / "screenshots"))


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium fonts-thai-tlwg)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (REQUIRE_BROWSER=1) but cannot run: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(app_config):
    """The app on 127.0.0.1 in a thread, with the console on and a clock the test moves."""
    clock = Clock()
    app = create_app(console_config(app_config, CONSOLE_SLOW_AFTER=3, CONSOLE_LOCK_AFTER=4))
    app.extensions["deps"].clock = clock
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    app.config["URL"] = f"http://127.0.0.1:{httpd.server_port}"
    app.config["CLOCK"] = clock
    yield app
    httpd.shutdown()
    thread.join(timeout=10)
    app.extensions["deps"].line.flush(timeout=10)
    app.extensions["deps"].db.dispose()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="th-TH", timezone_id="Asia/Bangkok", viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def sign_in(page, server, email: str, password: str = PASSWORD):
    page.goto(server.config["URL"] + "/admin/")
    assert "/admin/sign-in" in page.url
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')


def test_sign_in_wrong_password_and_lockout(page, server):
    make_account(server, "staff@office.example", "viewer")
    clock = server.config["CLOCK"]
    sign_in(page, server, "staff@office.example", "not my password")
    assert page.locator(".error").inner_text() == "Wrong email or password."
    for _ in range(3):
        clock.advance(seconds=61)
        sign_in(page, server, "staff@office.example", "not my password")
    clock.advance(seconds=61)
    sign_in(page, server, "staff@office.example")  # the right password, but locked after 4 wrong ones
    assert "locked" in page.locator(".error").inner_text()
    clock.advance(minutes=16)
    sign_in(page, server, "staff@office.example")
    page.wait_for_url("**/admin/")
    assert page.locator("h1").inner_text() == "Dashboard"


def test_a_viewer_cannot_reach_the_composer(page, server):
    make_account(server, "viewer@office.example", "viewer")
    sign_in(page, server, "viewer@office.example")
    page.wait_for_url("**/admin/")
    assert page.locator("nav >> text=New campaign").count() == 0
    resp = page.goto(server.config["URL"] + "/admin/campaigns/new")
    assert resp.status == 403 and "Not for your role" in page.locator("h1").inner_text()


def test_a_form_with_a_forged_csrf_token_is_refused(page, server):
    make_account(server, "sender@office.example", "sender")
    sign_in(page, server, "sender@office.example")
    page.wait_for_url("**/admin/")
    page.goto(server.config["URL"] + "/admin/campaigns/new")
    page.fill('input[name="name"]', "forged")
    page.fill('textarea[name="text"]', "ข่าว")
    page.eval_on_selector('#composer input[name="csrf_token"]', "e => e.value = 'forged'")
    page.click('#composer button[type="submit"]')
    assert page.locator("h1").inner_text() == "Form refused"
    with server.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0


def test_compose_a_flex_campaign_schedule_it_and_watch_the_worker_send_it(page, server, fake_line):
    clock = server.config["CLOCK"]
    mae_rim = residents(server, clock, [("5007", [])] * 5)
    others = residents(server, clock, [("5019", [])] * 2, start=40)
    make_account(server, "sender@office.example", "sender")
    sign_in(page, server, "sender@office.example")
    page.wait_for_url("**/admin/")
    page.goto(server.config["URL"] + "/admin/campaigns/new")
    page.fill('input[name="name"]', "ปลูกป่าวันเสาร์")
    page.fill('textarea[name="text"]', "ชวนปลูกต้นไม้วันเสาร์นี้ค่ะ")
    page.fill('textarea[name="flex"]', '{"type": "bubble"')  # half typed: said at once
    page.wait_for_function("() => document.getElementById('live-errors').textContent.includes('Flex JSON')")
    assert page.locator("#live-errors").is_visible()
    page.fill('textarea[name="flex"]', json.dumps(FLEX, ensure_ascii=False))
    page.select_option("#audience", "district")
    page.select_option("#district", "5007")
    page.wait_for_function("() => document.getElementById('audience-count').textContent === '5'")
    page.wait_for_selector("#preview .flex")
    assert "ชวนปลูกต้นไม้วันเสาร์นี้" in page.locator("#preview").inner_text()
    assert "ร่วมด้วย" in page.locator("#preview .btn.primary").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "compose.png"), full_page=True)
    page.check('input[name="when"][value="at"]')
    page.fill('input[name="at"]', "2025-03-08T09:00")
    page.click('#composer button[type="submit"]')
    assert "Confirm" in page.locator("h1").inner_text()
    assert page.locator("#confirm-count").inner_text() == "5"
    assert "2025-03-08 09:00" in page.locator("#confirm-when").inner_text()
    page.click("#confirm-form button")
    page.wait_for_url("**/admin/campaigns/*")
    assert page.locator('[data-field="status"]').inner_text() == "scheduled"
    cid = int(page.url.rstrip("/").split("/")[-1])
    # the worker, at Saturday 09:00 Bangkok
    clock.advance(days=3, hours=1)
    [report] = cp.worker_once(SendEnv.from_deps(server.extensions["deps"], sleep=lambda _: None))
    assert report.campaign_id == cid and report.status == "done"
    got = sorted(u for d in fake_line.deliveries if d.kind == "multicast" for u in d.recipients)
    assert got == sorted(mae_rim) and not set(got) & set(others)
    # the open report fills in by itself
    page.wait_for_function("() => document.querySelector('[data-field=status]').textContent === 'done'")
    assert page.locator('[data-field="sent"]').inner_text() == "5"
    assert page.locator('[data-field="pending"]').inner_text() == "0"


def test_the_dashboards_numbers_equal_the_database_and_thai_renders(page, server):
    clock = server.config["CLOCK"]
    residents(server, clock, [("5007", ["sort_waste", "plant_trees"])] * 5 + [("5019", ["sort_waste"])] * 2)
    make_account(server, "viewer@office.example", "viewer")
    sign_in(page, server, "viewer@office.example")
    page.wait_for_url("**/admin/")
    page.wait_for_selector("body[data-charts=ready]")
    with server.extensions["deps"].db.session() as s:
        pledges = s.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == "active"))
        households = s.scalar(select(func.count(func.distinct(Pledge.user_id))).where(Pledge.status == "active"))
        followers = s.scalar(select(func.count()).select_from(User).where(User.followed.is_(True),
                                                                          User.blocked.is_(False)))
    assert page.locator('[data-figure="pledges"]').inner_text() == str(pledges)
    assert page.locator('[data-figure="households"]').inner_text() == str(households)
    assert page.locator('[data-figure="followers"]').inner_text() == str(followers)
    assert page.locator('tr[data-district="5007"]').count() == 1   # 5 households
    assert page.locator('tr[data-district="5019"]').count() == 0   # 2: never shown
    # Thai renders: the district's name is drawn with real glyphs, not the missing-glyph box
    name = page.locator('tr[data-district="5007"] td').first.inner_text()
    assert name == "แม่ริม"
    drawn_differently = page.evaluate("""() => {
        const c = document.createElement('canvas'); c.width = 200; c.height = 40;
        const x = c.getContext('2d');
        const font = getComputedStyle(document.body).fontFamily;
        function draw(t) { x.clearRect(0, 0, 200, 40); x.font = '24px ' + font; x.fillText(t, 4, 30);
                           return Array.from(x.getImageData(0, 0, 200, 40).data).join(','); }
        const thai = draw('แม่ริม'), missing = draw('\\u{10FFFD}\\u{10FFFD}\\u{10FFFD}'), blank = draw('');
        return thai !== missing && thai !== blank;
    }""")
    assert drawn_differently, "Thai text is drawn as missing-glyph boxes: install fonts-thai-tlwg"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert events.user_id(1) not in page.content()  # never a resident's LINE id
    assert NOW  # the residents were made at the test clock's time
