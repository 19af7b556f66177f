"""What keeps residents coming back (issue 12): opting out that outlives deletion, check-ins that
can be corrected, quantities, reminders residents control, milestones, sharing, honest messages.

Residents talk through the signed webhook (tests.test_scenarios.Resident); the clock is moved
through deps.clock. Each test asserts what a resident would notice.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from bot import messages as msg
from bot.store.models import PledgeCounter, SuppressedUser
from tests.test_scenarios import Resident

NOW = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)  # Wednesday 12 Mar 2025, 10:00 in Chiang Mai
THIS_MONDAY, LAST_MONDAY = "2025-03-10", "2025-03-03"


@pytest.fixture(autouse=True)
def _fixed_clock_and_counters(app):
    app.extensions["deps"].clock = lambda: NOW
    with app.extensions["deps"].db.session() as s:
        s.execute(delete(PledgeCounter))


@pytest.fixture
def resident(app, signed_post, fake_line):
    made = iter(range(300, 400))
    return lambda: Resident(app, signed_post, fake_line, next(made))


def pledge(r: Resident, district: str, action: str) -> str:
    r.says(f"อยู่{district}")
    return r.taps_data(msg.postback_data("pledge.confirm", i=action))


# --- opting out outlives deleting one's data ------------------------------------------------------

def test_opt_out_then_delete_then_write_again_stays_opted_out_and_is_told_so(app, resident):
    r = resident()
    r.follows()
    r.says("หยุดรับข่าวสาร")
    assert r.user().opted_out is True
    r.says("ลบข้อมูล")
    gone = r.says("ยืนยัน")  # the words: a bare "confirm" right after the delete question
    assert "รหัส" in gone and "รับข่าวสาร" in gone  # the deletion says what is kept, and why
    assert r.user() is None
    with app.extensions["deps"].db.session() as s:
        kept = list(s.scalars(select(SuppressedUser.user_hash)))
    assert len(kept) == 1 and r.uid not in kept[0] and len(kept[0]) == 64  # a hash, not the id

    hello = r.says("สวัสดีครับ")
    assert r.user().opted_out is True
    assert "ยังไม่ส่งข่าว" in hello and "รับข่าวสาร" in hello  # told, and told how to opt in
    r.says("รับข่าวสาร")
    assert r.user().opted_out is False
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(SuppressedUser)) == 0


def test_a_resident_who_never_opted_out_leaves_nothing_behind(app, resident):
    r = resident()
    pledge(r, "แม่ริม", "led_lighting")
    r.says("ลบข้อมูล")
    assert "รหัสที่แปลง" not in r.says("ยืนยันลบข้อมูล")
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(SuppressedUser)) == 0
    r.says("สวัสดีค่ะ")
    assert r.user().opted_out is False


def test_following_again_after_deleting_says_news_stays_stopped(app, resident):
    r = resident()
    r.follows()
    r.says("หยุดรับข่าวสาร")
    r.says("ข้อมูลของฉัน")
    r.taps("ยืนยันลบข้อมูล")
    assert "ยังไม่ส่งข่าว" in r.follows()
    assert r.user().opted_out is True

