"""What keeps residents coming back (issue 12): opting out that outlives deletion, check-ins that
can be corrected, quantities, reminders residents control, milestones, sharing, honest messages.

Residents talk through the signed webhook (tests.test_scenarios.Resident); the clock is moved
through deps.clock. Each test asserts what a resident would notice.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from bot import messages as msg
from bot.store.models import CheckIn, Pledge, PledgeCounter, SuppressedUser, User
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



# --- correcting a check-in ------------------------------------------------------------------------

def answers(app, uid: str) -> dict[tuple[str, str], bool]:
    """{(action, week Monday): done} of the resident's check-ins."""

    with app.extensions["deps"].db.session() as s:
        rows = s.execute(select(Pledge.action_id, CheckIn.week_start, CheckIn.done)
                         .join(Pledge, Pledge.id == CheckIn.pledge_id).join(User, User.id == Pledge.user_id)
                         .where(User.line_user_id == uid))
        return {(a, w.isoformat()): bool(d) for a, w, d in rows}


def test_a_check_in_is_corrected_by_typing_both_ways(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.says("คำมั่นของฉัน")
    r.taps("ยังไม่ได้ทำ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}
    fixed = r.says("จริงๆ ทำแล้วนะ ขอแก้")  # the words: read as a correction, not a withdrawal
    assert "แก้ไขแล้ว" in fixed and "ถอน" not in fixed
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): True}
    assert "แก้ไขแล้ว" in r.says("แก้เป็นยังไม่ได้ทำ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}
    assert r.active_pledges() == ["led_lighting"]


def test_a_check_in_is_corrected_by_button_both_ways(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.says("คำมั่นของฉัน")
    r.taps("ทำแล้ว")
    assert "แก้ไขแล้ว" in r.taps("แก้เป็นยังไม่ได้ทำ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}
    assert "แก้ไขแล้ว" in r.taps("แก้เป็นทำแล้ว")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): True}
    # later, from the status card: the answered week can be opened again and changed
    status = r.says("คำมั่นของฉัน")
    assert "ตอบครบ" in status
    shown = r.taps("แก้คำตอบ")
    assert "บันทึกไว้แล้ว: ทำแล้ว" in shown
    r.taps("ยังไม่ได้ทำ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}


def test_last_week_is_corrected_by_button_and_by_typing(app, resident):
    r = resident()
    app.extensions["deps"].clock = lambda: NOW - timedelta(days=7)
    pledge(r, "หางดง", "plant_trees")
    r.says("คำมั่นของฉัน")
    r.taps("ยังไม่ได้ทำ")  # last week, answered then
    app.extensions["deps"].clock = lambda: NOW
    r.says("คำมั่นของฉัน")
    shown = r.taps("แก้สัปดาห์ที่แล้ว")
    assert "3 มี.ค. 2568" in shown and "บันทึกไว้แล้ว: ยังไม่ได้ทำ" in shown
    assert "แก้ไขแล้ว" in r.taps("ทำแล้ว")
    assert answers(app, r.uid) == {("plant_trees", LAST_MONDAY): True}
    r.says("คำมั่นของฉัน")
    assert "แก้ไขแล้ว" in r.says("สัปดาห์ที่แล้วยังไม่ได้ทำ ขอแก้")
    assert answers(app, r.uid) == {("plant_trees", LAST_MONDAY): False}


def test_typed_answers_record_the_week_when_a_check_in_is_open(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.says("คำมั่นของฉัน")
    noted = r.says("ยังไม่ได้ทำ ฝนตก")
    assert "บันทึกแล้ว" in noted and "สัปดาห์หน้า" in noted  # recorded, kindly, not the status again
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}
    r.says("คำมั่นของฉัน")
    assert "ทำแล้วช่วยอะไร" not in r.says("ทำแล้วช่วยอะไรบ้าง")  # a question is not an answer
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): False}


def test_with_several_pledges_a_typed_answer_asks_which_or_takes_the_named_one(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.taps_data(msg.postback_data("pledge.confirm", i="sort_waste"))
    r.says("คำมั่นของฉัน")
    which = r.says("ทำแล้วค่ะ")
    assert "ข้อไหน" in which and answers(app, r.uid) == {}
    r.taps("ทำแล้วทุกข้อ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): True, ("sort_waste", THIS_MONDAY): True}
    r.says("คำมั่นของฉัน")
    r.says("แยกขยะยังไม่ได้ทำ")
    assert answers(app, r.uid)[("sort_waste", THIS_MONDAY)] is False
    assert answers(app, r.uid)[("led_lighting", THIS_MONDAY)] is True


# --- honest messages --------------------------------------------------------------------------------

def test_cancel_after_the_district_was_saved_says_it_stays_saved(app, resident):
    r = resident()
    r.says("อยากให้คำมั่น")
    r.says("หางดง")  # the district is saved, the pledge goes on
    assert r.user().district_code
    for word in ("ยกเลิกเจ้า",):
        said = r.says(word)
        assert "ยกเลิกแล้วค่ะ ไม่มีอะไรถูกบันทึกเพิ่ม" not in said and "หางดง" in said
    assert r.user().state is None
    r.says("อยากให้คำมั่น")
    assert "ไม่มีอะไรถูกบันทึกเพิ่ม" in r.says("ยกเลิก")  # nothing saved this time: said so


def test_cancel_after_a_check_in_says_the_check_in_stays(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.says("คำมั่นของฉัน")
    r.taps("ทำแล้ว")
    said = r.says("ยกเลิก")
    assert "เปลี่ยนเป็นหลอด LED" in said and "ทำแล้ว" in said
