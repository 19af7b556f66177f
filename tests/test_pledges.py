"""Household pledges, check-ins, impact, community totals, district and privacy.

Through the webhook with signed payloads (what the fake LINE API received), and through the
dialogue core directly where the clock has to move.
"""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import messages as msg
from bot import validate
from bot.campaigns.compose import checkin_messages
from bot.deps import run_turn
from bot.impact import current_week_start
from bot.store import pledges as store
from bot.store.models import CheckIn, Pledge, PledgeCounter, User
from bot.store.users import load_user
from bot.turn import Turn
from tests import events
from tests.reading import actions_in, all_text

NOW = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Chiang Mai
SARAPHI, MAE_RIM = "5019", "5007"


# --- helpers ------------------------------------------------------------------------------------

def say(app, uid: str, kind: str = "text", text: str = "", data: str = "", now: datetime = NOW) -> list[dict]:
    """One turn through the dialogue core, committed like a webhook event."""
    deps = app.extensions["deps"]
    deps.clock = lambda: now
    return run_turn(deps, Turn(uid, kind, text=text, data=data)) or []


def tap(app, uid: str, data: str, now: datetime = NOW) -> list[dict]:
    return say(app, uid, "postback", data=data, now=now)


def postback_for(messages: list[dict], action: str, **params: str) -> str:
    for a in actions_in(messages):
        if a.get("type") != "postback":
            continue
        name, p = msg.parse_postback(a["data"])
        if name == action and all(p.get(k) == v for k, v in params.items()):
            return a["data"]
    raise AssertionError(f"no {action} {params} button in {actions_in(messages)}")


def assert_valid(messages: list[dict]) -> None:
    assert validate.validate_messages(messages) == []
    for m in messages:
        items = (m.get("quickReply") or {}).get("items", [])
        assert len(items) <= 13
        for a in actions_in([m]):
            assert len(a.get("label", "")) <= 20
            assert len(a.get("data", "")) <= 300


def count(app, model, *where) -> int:
    with app.extensions["deps"].db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def counters(app) -> dict[tuple[str, str], tuple[int, int]]:
    with app.extensions["deps"].db.session() as s:
        return {(r.scope, r.key): (r.households, r.pledges) for r in s.scalars(select(PledgeCounter))
                if r.households or r.pledges}


def recounted(app) -> dict[tuple[str, str], tuple[int, int]]:
    """What the counters would be if rebuilt from the pledges (rolled back, nothing changed)."""
    db = app.extensions["deps"].db
    s = db.sessions()
    try:
        store.recount(s)
        return {(r.scope, r.key): (r.households, r.pledges) for r in s.scalars(select(PledgeCounter))
                if r.households or r.pledges}
    finally:
        s.rollback()
        s.close()


def pledge_directly(app, uid: str, action: str, district: str = SARAPHI, now: datetime = NOW) -> None:
    """A resident who already chose a district pledges an action (core, two taps)."""
    with app.extensions["deps"].db.session() as s:
        user = load_user(s, uid, now)
        store.set_user_district(s, user, district, now)
    tap(app, uid, msg.postback_data("pledge.confirm", i=action), now=now)


def reply_messages(fake_line) -> list[list[dict]]:
    return [r["messages"] for r in fake_line.replies()]


# --- the pledge flow through the webhook ----------------------------------------------------------

def test_new_resident_pledges_in_a_few_taps_through_the_webhook(app, signed_post, fake_line):
    uid = events.user_id(1)
    assert signed_post(events.payload(events.text("อยากให้คำมั่น", uid))).status_code == 200
    first = reply_messages(fake_line)[-1]
    assert_valid(first)
    assert "อำเภอ" in all_text(first)  # the district is asked first
    assert sum(1 for a in actions_in(first) if msg.parse_postback(a.get("data", ""))[0] == "pledge.district") == 25

    signed_post(events.payload(events.postback(postback_for(first, "pledge.district", d=SARAPHI), uid)))
    sectors = reply_messages(fake_line)[-1]
    assert_valid(sectors)
    assert "สารภี" in all_text(sectors)
    assert any(a["label"] == "ยกเลิก" for a in actions_in(sectors))

    signed_post(events.payload(events.postback(postback_for(sectors, "pledge.sector", s="energy"), uid)))
    cards = reply_messages(fake_line)[-1]
    assert_valid(cards)
    assert "ตั้งแอร์สูงขึ้น 1 องศา" in all_text(cards)

    signed_post(events.payload(events.postback(postback_for(cards, "pledge.pick", id="led_lighting"), uid)))
    confirm = reply_messages(fake_line)[-1]
    assert_valid(confirm)
    assert "78" in all_text(confirm) and "ยืนยัน" in all_text(confirm)
    assert count(app, Pledge) == 0  # nothing recorded before the confirmation

    signed_post(events.payload(events.postback(postback_for(confirm, "pledge.confirm", i="led_lighting"), uid)))
    done = all_text(reply_messages(fake_line)[-1])
    assert "บันทึกคำมั่น" in done
    assert "78" in done                                       # kgCO2e a year from the content
    assert "5-9 ต้น" in done                                   # 78.0/15 … 78.0/9 trees
    assert "กรมส่งเสริมคุณภาพสิ่งแวดล้อม" in done                # with its source
    assert "บาท" not in done                                   # no money figure in the content: omitted
    assert count(app, Pledge, Pledge.status == "active") == 1
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == uid)) == SARAPHI
        assert s.scalar(select(User.state).where(User.line_user_id == uid)) is None


def test_a_message_naming_the_action_skips_to_the_confirmation(app, signed_post, fake_line):
    uid = events.user_id(2)
    signed_post(events.payload(events.text("ผมอยู่อำเภอสารภี", uid)))
    assert "สารภี" in all_text(reply_messages(fake_line)[-1])
    signed_post(events.payload(events.text("อยากให้คำมั่นแยกขยะ", uid)))
    confirm = reply_messages(fake_line)[-1]
    assert_valid(confirm)
    text = all_text(confirm)
    assert "แยกขยะที่บ้าน" in text and "ยืนยัน" in text
    assert "ต้น" not in text  # no estimate, so no trees either
    postback_for(confirm, "pledge.confirm", i="sort_waste")


def test_a_named_action_with_unknown_district_asks_the_district_then_confirms(app):
    uid = events.user_id(3)
    first = say(app, uid, text="ขอร่วมตั้งแอร์สูงขึ้น 1 องศา")
    assert "อำเภอ" in all_text(first)
    after = say(app, uid, text="แม่ริม")  # typed, not picked
    text = all_text(after)
    assert "แม่ริม" in text and "ตั้งแอร์สูงขึ้น 1 องศา" in text
    postback_for(after, "pledge.confirm", i="ac_plus_one")


def test_every_step_can_be_cancelled(app):
    uid = events.user_id(4)
    steps = [
        lambda: say(app, uid, text="อยากให้คำมั่น"),                                       # district picker
        lambda: tap(app, uid, msg.postback_data("pledge.district", d=SARAPHI, n="p")),    # sectors
        lambda: tap(app, uid, msg.postback_data("pledge.sector", s="waste")),             # actions
        lambda: tap(app, uid, msg.postback_data("pledge.pick", id="sort_waste")),         # confirm
    ]
    for step in steps:
        shown = step()
        stop = postback_for(shown, "pledge.stop")
        answer = tap(app, uid, stop)
        assert "ยกเลิกแล้ว" in all_text(answer)
        with app.extensions["deps"].db.session() as s:
            assert s.scalar(select(User.state).where(User.line_user_id == uid)) is None
    # A typed ยกเลิก works too (the core's), mid-flow.
    tap(app, uid, msg.postback_data("pledge.pick", id="sort_waste"))
    assert "ยกเลิก" in all_text(say(app, uid, text="ยกเลิก"))
    assert count(app, Pledge) == 0


def test_double_tap_and_redelivery_record_one_pledge(app, signed_post, fake_line):
    uid = events.user_id(5)
    pledge_directly(app, uid, "led_lighting")  # sets the district and one pledge
    data = msg.postback_data("pledge.confirm", i="carpool")
    redelivered = events.postback(data, uid)
    # A double tap: two events, same data, in one delivery; then LINE redelivers the first.
    signed_post(events.payload(redelivered, events.postback(data, uid)))
    signed_post(events.payload({**redelivered, "deliveryContext": {"isRedelivery": True}}))
    assert count(app, Pledge, Pledge.action_id == "carpool") == 1
    texts = [all_text(m) for m in reply_messages(fake_line)]
    assert len(texts) == 2  # the redelivery was not handled again
    # Replies go out from a thread pool, in any order: one recorded, one "already pledged".
    assert sorted("บันทึกคำมั่น" in t for t in texts) == [False, True]
    assert sorted("ไว้แล้ว" in t for t in texts) == [False, True]
    assert counters(app)[("all", "")] == (1, 2)


def test_the_active_pledge_constraint_holds_even_without_the_check(app):
    from sqlalchemy.exc import IntegrityError

    uid = events.user_id(6)
    pledge_directly(app, uid, "carpool")
    with pytest.raises(IntegrityError), app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User).where(User.line_user_id == uid))
        s.add(Pledge(user_id=user.id, action_id="carpool", status="active", started_at=NOW))
        s.flush()
    assert count(app, Pledge) == 1


def test_two_workers_tapping_for_one_resident_keep_the_data_consistent(app, fake_line):
    uid = events.user_id(7)
    pledge_directly(app, uid, "led_lighting")
    from tests.conftest import post_signed

    datas = [msg.postback_data("pledge.confirm", i=a) for a in ("carpool", "carpool", "eco_driving", "cycle_walk")]
    barrier = threading.Barrier(len(datas))
    statuses: list[int] = []

    def worker(data: str) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(post_signed(client, events.payload(events.postback(data, uid))).status_code)

    threads = [threading.Thread(target=worker, args=(d,)) for d in datas]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert statuses == [200] * len(datas)
    assert count(app, Pledge, Pledge.action_id == "carpool") == 1
    assert count(app, Pledge, Pledge.status == "active") == 4
    assert counters(app) == recounted(app)
    assert counters(app)[("all", "")] == (1, 4)


# --- status and check-ins ---------------------------------------------------------------------------

def test_check_in_is_recorded_once_per_pledge_and_week_and_builds_a_streak(app, signed_post, fake_line):
    uid = events.user_id(8)
    start = NOW - timedelta(days=21)
    pledge_directly(app, uid, "ac_plus_one", now=start)
    with app.extensions["deps"].db.session() as s:
        pid = s.scalar(select(Pledge.id))
    week = current_week_start(NOW)

    def checkin(w: date, done: bool, now: datetime = NOW) -> str:
        return all_text(tap(app, uid, msg.postback_data("pledge.checkin", p=pid, w=w.isoformat(), d="1" if done else "0"),
                            now=now))

    assert "บันทึกแล้ว" in checkin(week - timedelta(days=14), True)
    assert "บันทึกแล้ว" in checkin(week - timedelta(days=7), True)
    answer = checkin(week, True)
    assert "ต่อเนื่อง 3 สัปดาห์" in answer
    assert "ไว้แล้ว" in checkin(week, True)          # the same tap again
    assert count(app, CheckIn) == 3
    assert "แก้ไขแล้ว" in checkin(week, False)        # changed their mind: updated, not added
    assert count(app, CheckIn) == 3
    assert "ต่อเนื่อง 0 สัปดาห์" in checkin(week, False)
    assert "ไม่ได้" in checkin(week + timedelta(days=7), True)   # a future week: refused
    assert count(app, CheckIn) == 3

    # Through the webhook: a redelivered check-in changes nothing.
    data = msg.postback_data("pledge.checkin", p=pid, w=(week - timedelta(days=21)).isoformat(), d="0")
    e = events.postback(data, uid)
    signed_post(events.payload(e, events.postback(data, uid)))
    signed_post(events.payload(e))
    assert count(app, CheckIn) == 4


def test_status_shows_start_date_streak_and_prorated_impact(app):
    uid = events.user_id(9)
    start = datetime(2025, 1, 6, 3, 0, tzinfo=UTC)   # Monday 6 Jan 2025, Chiang Mai morning
    now = start + timedelta(days=73)                        # 73 days later
    pledge_directly(app, uid, "carpool", now=start)         # 232.9 kg a year
    with app.extensions["deps"].db.session() as s:
        pid = s.scalar(select(Pledge.id))
    week = current_week_start(now)
    tap(app, uid, msg.postback_data("pledge.checkin", p=pid, w=(week - timedelta(days=7)).isoformat(), d="1"), now=now)
    answer = say(app, uid, text="คำมั่นของฉัน", now=now)
    assert_valid(answer)
    text = all_text(answer)
    assert "6 ม.ค. 2568" in text                    # start date, Buddhist era
    assert "ต่อเนื่อง 1 สัปดาห์" in text
    assert "46.6" not in text and "47" in text        # 232.9 × 73/365 = 46.6 → "47"
    assert "÷ 365" in text and "ยังไม่ได้ทำ" in text   # the rule is explained
    postback_for(answer, "pledge.checkin", p=str(pid), w=week.isoformat(), d="1")  # this week's buttons

    # A week marked 'not done' counts as zero: 232.9 × (73 − 7)/365 = 42.1 → "42".
    tap(app, uid, msg.postback_data("pledge.checkin", p=pid, w=(week - timedelta(days=14)).isoformat(), d="0"), now=now)
    assert "42 กก." in all_text(say(app, uid, text="คำมั่นของฉัน", now=now))


def test_weekly_reminder_messages_for_the_campaign(app):
    uid = events.user_id(10)
    pledge_directly(app, uid, "ac_plus_one")
    pledge_directly(app, uid, "sort_waste")
    assert current_week_start(datetime(2025, 3, 9, 18, 0, tzinfo=UTC)) == date(2025, 3, 10)  # Mon 01:00 BKK
    assert current_week_start(datetime(2025, 3, 9, 16, 0, tzinfo=UTC)) == date(2025, 3, 3)   # Sun 23:00 BKK
    with app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User).where(User.line_user_id == uid))
        mine = store.active_pledges(s, user.id)
    # The reminder the campaign office sends that week; its button opens this resident's check-in.
    reminder = checkin_messages(app.extensions["deps"].content, None, datetime(2025, 3, 4, 3, 0, tzinfo=UTC))
    assert_valid(reminder)
    out = tap(app, uid, postback_for(reminder, "pledge.status", w="2025-03-03"))
    assert_valid(out)
    for p in mine:
        for d in ("1", "0"):
            data = postback_for(out, "pledge.checkin", p=str(p.id), w="2025-03-03", d=d)
    assert "แยกขยะที่บ้าน" in all_text(out)
    assert "บันทึกแล้ว" in all_text(tap(app, uid, data))
    assert count(app, CheckIn) == 1


# --- withdrawing -------------------------------------------------------------------------------------------

def test_withdraw_a_pledge_after_confirming(app):
    uid = events.user_id(11)
    pledge_directly(app, uid, "ac_plus_one")
    pledge_directly(app, uid, "carpool")
    pick = say(app, uid, text="ยกเลิกคำมั่น")
    assert_valid(pick)
    with app.extensions["deps"].db.session() as s:
        pid = s.scalar(select(Pledge.id).where(Pledge.action_id == "carpool"))
    ask = tap(app, uid, postback_for(pick, "pledge.withdraw", p=str(pid)))
    assert "ไปด้วยกันในรถคันเดียว" in all_text(ask)
    assert count(app, Pledge, Pledge.status == "active") == 2  # not before the confirmation
    ok = postback_for(ask, "pledge.withdraw_ok", p=str(pid))
    assert "ถอนคำมั่น" in all_text(tap(app, uid, ok))
    assert "ไปแล้ว" in all_text(tap(app, uid, ok))  # a second tap
    assert count(app, Pledge, Pledge.status == "active") == 1
    assert counters(app)[("all", "")] == (1, 1)
    assert counters(app) == recounted(app)
    # Pledging the same action again later is allowed.
    pledge_directly(app, uid, "carpool")
    assert count(app, Pledge, Pledge.action_id == "carpool") == 2


def test_nobody_can_withdraw_or_check_in_someone_elses_pledge(app):
    pledge_directly(app, events.user_id(12), "carpool")
    with app.extensions["deps"].db.session() as s:
        pid = s.scalar(select(Pledge.id))
    other = events.user_id(13)
    assert "ใช้ไม่ได้" in all_text(tap(app, other, msg.postback_data("pledge.withdraw_ok", p=pid)))
    assert "ใช้ไม่ได้" in all_text(tap(app, other, msg.postback_data(
        "pledge.checkin", p=pid, w=current_week_start(NOW).isoformat(), d="1")))
    assert count(app, Pledge, Pledge.status == "active") == 1 and count(app, CheckIn) == 0


# --- community ----------------------------------------------------------------------------------------------

def test_community_stats_rank_only_districts_with_five_households(app, signed_post, fake_line):
    for i in range(6):                                     # 6 households in Saraphi
        pledge_directly(app, events.user_id(100 + i), "led_lighting", SARAPHI)
    for i in range(4):                                     # 4 in Mae Rim: too few to show
        pledge_directly(app, events.user_id(200 + i), "carpool", MAE_RIM)
    pledge_directly(app, events.user_id(100), "sort_waste", SARAPHI)

    signed_post(events.payload(events.text("ยอดรวมทั้งจังหวัด", events.user_id(200))))
    answer = reply_messages(fake_line)[-1]
    assert_valid(answer)
    text = all_text(answer)
    assert "10 ครัวเรือน" in text and "11 ข้อ" in text
    # 6 × 78.0 + 4 × 232.9 = 1,399.6 kg = 1.4 t a year; 93-156 trees.
    assert "1.4 ตัน" in text and "93-156 ต้น" in text
    assert "1. เปลี่ยนเป็นหลอด LED (6)" in text
    assert "1. สารภี: 6 ครัวเรือน" in text
    assert "แม่ริม:" not in text and "อำเภอแม่ริมของคุณยังมีครัวเรือนร่วมไม่ถึง 5" in text
    assert "21%" in text and "2573" in text and "ปีฐาน" in text

    mine = all_text(say(app, events.user_id(101), text="ยอดรวมทั้งจังหวัด"))
    assert "อำเภอสารภีของคุณอยู่อันดับ 1" in mine
    assert counters(app) == recounted(app)


def test_changing_district_moves_the_household_in_the_ranking(app):
    for i in range(5):
        pledge_directly(app, events.user_id(300 + i), "ac_plus_one", MAE_RIM)
    mover = events.user_id(300)
    answer = say(app, mover, text="ผมอยู่อำเภอสารภี")
    assert "สารภี" in all_text(answer)
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == mover)) == SARAPHI
    assert counters(app)[("district", MAE_RIM)] == (4, 4)
    assert counters(app)[("district", SARAPHI)] == (1, 1)
    assert counters(app) == recounted(app)
    assert "แม่ริม:" not in all_text(say(app, mover, text="ยอดรวมทั้งจังหวัด"))
    # The picker works too, any time.
    picker = say(app, mover, text="เปลี่ยนอำเภอ")
    assert_valid(picker)
    tap(app, mover, postback_for(picker, "pledge.district", d=MAE_RIM))
    assert counters(app)[("district", MAE_RIM)] == (5, 5)


# --- privacy -----------------------------------------------------------------------------------------------------

def test_resident_sees_and_deletes_their_data_and_starts_fresh(app, signed_post, fake_line):
    uid = events.user_id(14)
    pledge_directly(app, uid, "ac_plus_one")
    pledge_directly(app, events.user_id(15), "ac_plus_one")  # a neighbour, untouched
    with app.extensions["deps"].db.session() as s:
        pid = s.scalar(select(Pledge.id).join(User).where(User.line_user_id == uid))
    tap(app, uid, msg.postback_data("pledge.checkin", p=pid, w=current_week_start(NOW).isoformat(), d="1"))

    signed_post(events.payload(events.text("ข้อมูลของฉัน", uid)))
    shown = reply_messages(fake_line)[-1]
    assert_valid(shown)
    text = all_text(shown)
    assert "สารภี" in text and "ตั้งแอร์สูงขึ้น 1 องศา" in text and "เช็กอิน" in text and "1 ครั้ง" in text
    assert "รับข่าวสาร" in text
    assert count(app, User) == 2  # looking deletes nothing

    signed_post(events.payload(events.postback(postback_for(shown, "privacy.delete"), uid)))
    assert "ลบข้อมูลทั้งหมด" in all_text(reply_messages(fake_line)[-1])
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.line_user_id == uid)) == 0
    assert count(app, Pledge) == 1 and count(app, CheckIn) == 0
    assert counters(app)[("all", "")] == (1, 1)
    assert counters(app) == recounted(app)

    signed_post(events.payload(events.text("คำมั่นของฉัน", uid)))  # writes again: a new, empty resident
    assert "ยังไม่มีคำมั่น" in all_text(reply_messages(fake_line)[-1])
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == uid)) is None


def test_an_old_confirm_button_after_deleting_data_asks_the_district_again(app):
    uid = events.user_id(16)
    pledge_directly(app, uid, "carpool")
    tap(app, uid, msg.postback_data("privacy.delete"))
    answer = tap(app, uid, msg.postback_data("pledge.confirm", i="led_lighting"))
    assert "อำเภอ" in all_text(answer)
    assert count(app, Pledge) == 0


def test_pledging_in_the_terminal_chat(runner, app):
    out = runner.invoke(args=["chat", "--user", events.user_id(17)],
                        input="อยากให้คำมั่นปลูกต้นไม้\nสารภี\n1\nคำมั่นของฉัน\n").output
    assert "บันทึกคำมั่นของคุณแล้ว" in out and "ปลูกต้นไม้และดูแลให้รอด" in out
    assert "คำมั่นของคุณ 1 ข้อ (อำเภอสารภี)" in out
    assert count(app, Pledge, Pledge.status == "active") == 1


def test_status_with_only_unnumbered_pledges_adds_up_no_zeros(app):
    uid = events.user_id(61)
    pledge_directly(app, uid, "sort_waste")  # an action without a sourced estimate
    text = all_text(say(app, uid, text="คำมั่นของฉัน"))
    assert "แยกขยะ" in text and "0 กก." not in text
    assert app.extensions["deps"].content.text("pledges.status_total_none") in text
