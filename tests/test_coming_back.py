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
from tests import events
from tests.reading import actions_in, all_text
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
    gone = r.says("ยืนยัน")  # the issue's words: a bare "confirm" right after the delete question
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
    assert "เพราะคุณขอหยุดรับข่าวสาร" not in r.says("ยืนยันลบข้อมูล")
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
    fixed = r.says("จริงๆ ทำแล้วนะ ขอแก้")  # the issue's words: read as a correction, not a withdrawal
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


# --- quantities -------------------------------------------------------------------------------------

def pledge_rows(app, uid: str) -> dict[str, float | None]:
    with app.extensions["deps"].db.session() as s:
        return dict(s.execute(select(Pledge.action_id, Pledge.quantity).join(User, User.id == Pledge.user_id)
                              .where(User.line_user_id == uid, Pledge.status == "active")).all())


def counters_match_a_recount(app) -> bool:
    from bot.store import pledges as store

    db = app.extensions["deps"].db
    def rows(s):
        return {(r.scope, r.key): (r.households, r.pledges, r.quantified, round(r.quantity_sum, 6))
                for r in s.scalars(select(PledgeCounter)) if r.households or r.pledges}
    with db.session() as s:
        now = rows(s)
    s = db.sessions()
    try:
        store.recount(s)
        return rows(s) == now
    finally:
        s.rollback()
        s.close()


def test_a_trees_pledge_of_ten_shows_90_to_150_kg_a_year_everywhere(app, resident):
    r = resident()
    r.says("อยู่หางดง")
    confirm = r.says("จะปลูกต้นไม้")
    assert "5 ต้น" in confirm and "45-75" in confirm  # the default, stated, with its range
    assert "10 ต้น" in r.labels()
    confirm = r.says("๑๐ ต้น")  # Thai digits, with the unit
    assert "10 ต้น" in confirm and "90-150" in confirm and "10 ต้น × 9" in confirm
    recorded = r.says("ยืนยัน")
    assert "บันทึกคำมั่น" in recorded and "90-150" in recorded
    assert pledge_rows(app, r.uid) == {"plant_trees": 10}
    status = r.says("คำมั่นของฉัน")
    assert "(10 ต้น)" in status and "ราว 90 กก.CO2e ต่อปี" in status.replace("ถ้าทำครบทั้งปี ราว 90 กก.CO2e ต่อปี",
                                                                            "ราว 90 กก.CO2e ต่อปี")
    stats = r.says("ผลรวมชุมชน")
    assert "0.09 ตัน" in stats  # 10 trees × 9 kg, not 5 × 9
    assert counters_match_a_recount(app)


def test_quantity_typed_in_the_first_message_and_nonsense_handled_politely(app, resident):
    r = resident()
    r.says("อยู่สารภี")
    r.says("ให้คำมั่นปลูกต้นไม้")
    confirm = r.says("ปลูก 10 ต้น ไม่ใช่ 5")  # the issue's words
    assert "10 ต้น" in confirm and "90-150" in confirm
    too_many = r.says("1000 ต้น")
    assert "1 ถึง 500 ต้น" in too_many and "ขออภัย" not in too_many
    half = r.says("2.5 ต้น")
    assert "จำนวนเต็ม" in half
    r.taps("20 ต้น")
    assert "180-300" in all_text(r.last)
    r.taps("ยืนยันให้คำมั่น")
    assert pledge_rows(app, r.uid) == {"plant_trees": 20}


def test_a_quantity_is_changed_later_and_the_totals_follow(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")  # the default: 5 bulbs, stored as NULL
    assert pledge_rows(app, r.uid) == {"led_lighting": None}
    r.says("คำมั่นของฉัน")
    ask = r.taps("แก้จำนวน")
    assert "5 หลอด" in ask
    assert "ยังไม่เห็นตัวเลข" in r.says("เยอะมาก")  # nonsense: asked again, politely
    changed = r.says("10 หลอด")
    assert "แก้จำนวนแล้ว" in changed and "10 หลอด" in changed and "156" in changed
    assert pledge_rows(app, r.uid) == {"led_lighting": 10}
    assert counters_match_a_recount(app)
    assert "0.16 ตัน" in r.says("ผลรวมชุมชน")
    r.says("ย้ายไปอยู่แม่ริม")
    assert counters_match_a_recount(app)
    r.says("ยกเลิกคำมั่น")
    r.taps(r.labels()[0])
    r.says("ใช่")
    assert pledge_rows(app, r.uid) == {}
    assert counters_match_a_recount(app)


def test_the_issue_s_words_after_pledging_change_the_amount(app, resident):
    r = resident()
    pledge(r, "หางดง", "plant_trees")
    assert pledge_rows(app, r.uid) == {"plant_trees": None}  # 5, the default
    changed = r.says("ปลูก 10 ต้น ไม่ใช่ 5")
    assert "แก้จำนวนแล้ว" in changed and "90-150" in changed
    assert pledge_rows(app, r.uid) == {"plant_trees": 10}
    assert "PM2.5" in r.says("ฝุ่น PM2.5 อันตรายไหม")  # a number with no unit of theirs: a question as usual
    assert counters_match_a_recount(app)


# --- reminders residents control -------------------------------------------------------------------

def run_worker(app, at: datetime) -> None:
    """One round of the Procfile worker's jobs (reminder slots, then campaigns) at this time."""
    import threading

    from bot.worker import jobs_of, run_jobs

    deps = app.extensions["deps"]
    deps.clock = lambda: at
    deps.sleep = lambda s: None
    run_jobs(deps, jobs_of(deps, 0.01), threading.Event(), once=True)
    deps.clock = lambda: NOW


def reminders_to(fake_line, uid: str) -> list[list[dict]]:
    """The reminders (multicasts) this resident received."""
    return [d.messages for d in fake_line.deliveries if d.kind == "multicast" and uid in d.recipients]


MONDAY_8 = datetime(2025, 3, 17, 1, 5, tzinfo=UTC)     # Mon 17 Mar 2025, 08:05 in Chiang Mai
SUNDAY_18 = datetime(2025, 3, 16, 11, 5, tzinfo=UTC)   # Sun 16 Mar 2025, 18:05


def test_reminders_arrive_on_the_chosen_day_once_a_week_with_the_resident_s_own_progress(app, resident, fake_line):
    monday, default = resident(), resident()
    for r in (monday, default):
        pledge(r, "หางดง", "led_lighting")
        r.follows()
    monday.says("คำมั่นของฉัน")
    monday.taps("ทำแล้ว")  # kept this week: praise in next week's reminder
    monday.says("คำมั่นของฉัน")
    monday.taps("ตั้งวันเตือน")
    monday.taps("วันจันทร์")
    saved = monday.taps("ตอนเช้า (8 โมง)")
    assert "วันจันทร์" in saved and "สัปดาห์ละครั้ง" in saved

    run_worker(app, SUNDAY_18)  # the default: Sunday evening
    assert len(reminders_to(fake_line, default.uid)) == 1 and reminders_to(fake_line, monday.uid) == []
    run_worker(app, SUNDAY_18 + timedelta(minutes=30))  # at most once a week
    assert len(reminders_to(fake_line, default.uid)) == 1

    run_worker(app, MONDAY_8)
    got = reminders_to(fake_line, monday.uid)
    assert len(got) == 1
    text = all_text(got[0])
    assert "17 มี.ค. 2568" in text and "ทำแล้ว 0 ข้อ" in text
    assert "ต่อเนื่องมา 1 สัปดาห์" in text and "เก่งมาก" in text  # praise for last week's
    assert "เปลี่ยนเป็นหลอด LED" in text  # their own pledge, on a check-in card
    labels = {a.get("label") for a in actions_in(got[0])}
    assert {"ทำแล้ว", "ข้ามสัปดาห์หน้า", "หยุดเตือนเช็กอิน"} <= labels
    assert "เก่งมาก" not in all_text(reminders_to(fake_line, default.uid)[0])  # nothing kept yet: no praise,
    assert "เริ่มใหม่ได้เสมอ" in all_text(reminders_to(fake_line, default.uid)[0])  # and no shaming


def test_a_typed_answer_after_a_reminder_records_the_week(app, resident, fake_line):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.follows()
    run_worker(app, SUNDAY_18)
    assert len(reminders_to(fake_line, r.uid)) == 1
    app.extensions["deps"].clock = lambda: SUNDAY_18 + timedelta(hours=1)
    assert "บันทึกแล้ว" in r.says("ทำแล้วค่ะ")
    assert answers(app, r.uid) == {("led_lighting", THIS_MONDAY): True}


def test_snooze_skips_one_week_then_reminders_come_back(app, resident, fake_line):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.follows()
    snoozed = r.says("ข้ามสัปดาห์นี้")
    assert "10 มี.ค. 2568" in snoozed  # this week's (not yet sent) is the one skipped
    run_worker(app, SUNDAY_18)
    assert reminders_to(fake_line, r.uid) == []
    run_worker(app, SUNDAY_18 + timedelta(days=7))
    assert len(reminders_to(fake_line, r.uid)) == 1


def test_stop_reminders_keeps_news(app, resident, fake_line, runner):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    r.follows()
    stopped = r.says("หยุดเตือน")
    assert "หยุดเตือนเช็กอินแล้ว" in stopped and "ข่าวสารของโครงการยังส่งถึงคุณ" in stopped
    assert r.user().reminders_off is True and r.user().opted_out is False
    run_worker(app, SUNDAY_18)
    assert reminders_to(fake_line, r.uid) == []
    result = runner.invoke(args=["campaign", "create", "--name", "news", "--text", "ข่าวโครงการ"])
    cid = result.output.strip().splitlines()[-1]
    app.extensions["deps"].sleep = lambda s: None
    runner.invoke(args=["campaign", "send", cid])
    assert len(reminders_to(fake_line, r.uid)) == 1  # the news multicast reached them
    r.taps("เปิดการเตือนอีกครั้ง")
    run_worker(app, SUNDAY_18 + timedelta(days=7))
    assert len(reminders_to(fake_line, r.uid)) == 2


def test_opted_out_and_blocked_residents_get_no_reminder(app, resident, fake_line):
    news_off, blocked = resident(), resident()
    for r in (news_off, blocked):
        pledge(r, "หางดง", "led_lighting")
        r.follows()
    news_off.says("หยุดรับข่าวสาร")
    assert blocked.post(events.payload(events.unfollow(blocked.uid))).status_code == 200
    run_worker(app, SUNDAY_18)
    assert reminders_to(fake_line, news_off.uid) == [] and reminders_to(fake_line, blocked.uid) == []


# --- milestones ---------------------------------------------------------------------------------------

def test_four_weeks_kept_is_celebrated_once_with_the_resident_s_own_impact(app, resident):
    r = resident()
    app.extensions["deps"].clock = lambda: NOW - timedelta(weeks=5)
    pledge(r, "หางดง", "led_lighting")
    app.extensions["deps"].clock = lambda: NOW
    mondays = [(datetime(2025, 3, 10) - timedelta(weeks=k)).date().isoformat() for k in range(5, -1, -1)]
    said = [r.taps_data(msg.postback_data("pledge.checkin", p=_pid(app), w=w, d="1")) for w in mondays]
    assert ["ครบ 4 สัปดาห์" in s for s in said] == [False, False, False, True, False, False]
    assert "กก.CO2e" in said[3] and "เก่งมาก" in said[3]
    assert r.labels()  # the answer's buttons are still there, after the celebration


def test_the_first_100_kg_is_celebrated(app, resident):
    r = resident()
    app.extensions["deps"].clock = lambda: NOW - timedelta(weeks=30)
    pledge(r, "หางดง", "carpool")  # about 233 kg a year: past 100 kg after 30 weeks
    app.extensions["deps"].clock = lambda: NOW
    r.says("คำมั่นของฉัน")
    said = r.taps("ทำแล้ว")
    assert "100 กก.CO2e แรก" in said and "ต้นไม้" in said
    assert "100 กก.CO2e แรก" not in r.taps("แก้เป็นยังไม่ได้ทำ")
    assert "100 กก.CO2e แรก" not in r.taps("แก้เป็นทำแล้ว")  # said once


def _pid(app) -> int:
    with app.extensions["deps"].db.session() as s:
        return s.scalar(select(func.max(Pledge.id)))


# --- sharing ------------------------------------------------------------------------------------------

def uris(messages: list[dict]) -> list[str]:
    return [a["uri"] for a in actions_in(messages) if a.get("type") == "uri"]


def test_invite_a_friend_opens_line_s_share_with_the_add_friend_link(app, resident):
    from urllib.parse import parse_qs, urlsplit

    deps = app.extensions["deps"]
    assert deps.basic_id.wait() == "@000fake"  # read from the fake LINE's bot info, in the background
    r = resident()
    pledge(r, "หางดง", "plant_trees")
    assert "ชวนเพื่อน" in r.labels()
    card = r.taps("ชวนเพื่อน")
    assert "ไม่มีข้อมูลของคุณ" in card
    (uri,) = uris(r.last)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "line.me", "/R/share")
    shared = parse_qs(parts.query)["text"][0]
    assert "https://line.me/R/ti/p/%40000fake" in shared and "เชียงใหม่เมืองคาร์บอนต่ำ" in shared
    assert r.uid not in shared and "หางดง" not in shared


def test_share_my_pledges_is_a_summary_without_personal_data(app, resident):
    from urllib.parse import parse_qs, urlsplit

    app.extensions["deps"].basic_id.configured = "@cmlowcarbon"  # LINE_BOT_BASIC_ID
    r = resident()
    pledge(r, "แม่ริม", "led_lighting")
    r.says("จะปลูกต้นไม้")
    r.says("10 ต้น")
    r.says("ยืนยัน")
    summary = r.taps("แชร์คำมั่นของฉัน")
    assert "ปลูกต้นไม้และดูแลให้รอด (10 ต้น)" in summary and "90-150" in summary
    assert "เปลี่ยนเป็นหลอด LED" in summary and "%40cmlowcarbon" in summary
    assert "แม่ริม" not in summary and r.uid not in summary  # no district, no id
    (uri,) = uris(r.last)
    shared = parse_qs(urlsplit(uri).query)["text"][0]  # LINE's share: short, to fit its 1,000-character URI
    assert "2 ข้อ" in shared and "%40cmlowcarbon" in shared and "แม่ริม" not in shared and len(uri) <= 1000
    assert "ยังไม่มีคำมั่น" in resident().says("แชร์คำมั่น")  # typed, with nothing to share
