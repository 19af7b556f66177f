"""Residents' conversations end to end: signed webhook payloads in, what the fake LINE API received out.

Each test is a short scenario a real resident could play, and asserts what they would notice:
the words they read, the buttons they can tap, and what was (or was not) recorded.
Every reply is also checked against LINE's limits and for leaks (raw keys, {placeholders},
the generic apology).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from bot import messages as msg
from bot import validate
from bot.store.models import CheckIn, Pledge, PledgeCounter, User
from tests import events
from tests.reading import actions_in, all_text

NOW = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)  # Wednesday 12 Mar 2025, 10:00 in Chiang Mai
THIS_MONDAY = "2025-03-10"


@pytest.fixture(autouse=True)
def _fixed_clock_and_counters(app):
    app.extensions["deps"].clock = lambda: NOW
    with app.extensions["deps"].db.session() as s:
        s.execute(delete(PledgeCounter))


# --- a resident -------------------------------------------------------------------------------

class Resident:
    """One LINE user talking to the bot through the signed webhook."""

    def __init__(self, app, signed_post, fake_line, n: int):
        self.app, self.post, self.fake = app, signed_post, fake_line
        self.uid = events.user_id(n)
        self.last: list[dict] = []

    def _send(self, event: dict) -> list[dict]:
        before = len(self.fake.replies())
        assert self.post(events.payload(event)).status_code == 200
        replies = self.fake.replies()[before:]
        self.last = replies[-1]["messages"] if replies else []
        for_resident(self.app, self.last)
        return self.last

    def says(self, text: str) -> str:
        return all_text(self._send(events.text(text, self.uid)))

    def taps_data(self, data: str) -> str:
        return all_text(self._send(events.postback(data, self.uid)))

    def taps(self, label: str) -> str:
        """Tap the button or quick reply with this label in the last reply."""
        for a in actions_in(self.last):
            if a.get("label") == label:
                if a["type"] == "postback":
                    return self.taps_data(a["data"])
                if a["type"] == "message":
                    return self.says(a["text"])
        raise AssertionError(f"no {label!r} to tap in {[a.get('label') for a in actions_in(self.last)]}")

    def follows(self) -> str:
        return all_text(self._send(events.follow(self.uid)))

    def sends_sticker(self) -> str:
        return all_text(self._send(events.message({"type": "sticker", "id": "1", "quoteToken": "q", "packageId": "446",
                                                   "stickerId": "1988", "stickerResourceType": "STATIC"},
                                                  self.uid)))

    def labels(self) -> list[str]:
        return [a.get("label") for a in actions_in(self.last)]

    def user(self) -> User | None:
        with self.app.extensions["deps"].db.session() as s:
            u = s.scalar(select(User).where(User.line_user_id == self.uid))
            if u is not None:
                s.expunge(u)
            return u

    def active_pledges(self) -> list[str]:
        with self.app.extensions["deps"].db.session() as s:
            return list(s.scalars(select(Pledge.action_id).join(User, User.id == Pledge.user_id)
                                  .where(User.line_user_id == self.uid, Pledge.status == "active")))


@pytest.fixture
def resident(app, signed_post, fake_line):
    made = iter(range(100, 200))
    return lambda: Resident(app, signed_post, fake_line, next(made))


RAW_KEY = re.compile(r"\b(core|pledges|cards|campaigns)\.[a-z_]+\b|\{[a-z_]+\}")


def for_resident(app, messages: list[dict]) -> None:
    """What any reply must be: valid for LINE, no raw keys or placeholders, no apology for an error."""
    assert messages, "the resident got no answer"
    assert validate.validate_messages(messages) == []
    text = all_text(messages)
    assert not RAW_KEY.search(text), RAW_KEY.search(text).group(0)
    assert app.extensions["deps"].content.text("core.error_sorry") not in text
    labels = [a.get("label") for a in actions_in(messages)]
    assert all(label and "…" not in label for label in labels if label), labels  # no cut-off labels


def apology(app) -> str:
    return app.extensions["deps"].content.text("core.fallback")


# --- first contact and questions ------------------------------------------------------------------

def test_first_contact_then_casual_questions_on_every_topic(app, resident):
    r = resident()
    hello = r.follows()
    assert "เชียงใหม่เมืองคาร์บอนต่ำ" in hello and "ข้อมูลของฉัน" in hello  # welcome + privacy notice
    assert len(r.labels()) >= 5
    asked = {
        "โลกร้อนคืออะไรอะ": "climate_basics", "โลกฮ้อนเกิดจากอะหยัง": "climate_causes",
        "อยากรู้เรื่องฝุ่น 😷": "haze_pm25", "ฝุ่นpm๒.๕ อันตรายไหมคะ": "haze_pm25",
        "อยากรู้เรื่องแอร์": "tips_energy", "ขอข้อมูลเรื่องน้ำท่วม": "climate_effects",
        "อยากรู้เรื่องขยะ": "tips_waste", "๓๐ มาตรการ มีอะไรบ้าง": "campaign_measures",
        "นั่งรถแดงช่วยลดโลกร้อนไหม": "tips_transport", "ปลูกต้นไม้ช่วยได้ไหมเจ้า": "tips_forest_trees",
    }
    content = app.extensions["deps"].content
    for text, intent in asked.items():
        answer = r.says(text)
        # The topic's overview, or one of its question-bank entries (a more specific answer), sourced.
        on_topic = [content.answers[intent].text[:30]] + [e.text[:30] for e in content.entries.values() if e.topic == intent]
        assert any(start in answer for start in on_topic), (text, answer[:80])
        assert "ที่มา" in answer, (text, answer[:80])


def test_out_of_scope_gets_a_polite_fallback_and_small_talk_no_apology(app, resident):
    r = resident()
    for text in ["หวยงวดนี้ออกอะไร", "ผลบอลเมื่อคืน", "ราคาทองวันนี้", "พรุ่งนี้ฝนตกไหม"]:
        assert apology(app) in r.says(text)
        assert len(r.labels()) >= 5  # topics to go on with
    for text in ["โอเคค่ะ", "555555", "🙏🙏", "😀", "ครับ", "   ", "ได้เจ้า"]:
        answer = r.says(text)
        assert apology(app) not in answer and "ขออภัย" not in answer, text
        assert len(r.labels()) >= 5
    assert "ตัวอักษร" in r.sends_sticker()  # a sticker: we read text only, said kindly
    long = r.says("ฝุ่นควันเชียงใหม่มาจากไหน " * 300)
    assert "ฝุ่น" in long


def test_did_you_mean_then_yes_answers_and_no_apologises(app, resident):
    r = resident()
    asked = r.says("ภูมิ")
    assert "หมายถึง" in asked
    labels = r.labels()
    assert len(labels) == len(set(labels))  # the guesses are not repeated among the topics
    guessed = r.user().state_data["intent"]
    assert labels[0] in asked  # the first button is the guess named in the question
    overview = app.extensions["deps"].contents.th.answers[guessed].text
    assert " ".join(overview.split())[:40] in " ".join(r.says("ใช่ค่ะ").split())  # answers the guess
    r.says("ภูมิ")
    assert "ขอโทษ" in r.says("ไม่ใช่")
    assert r.user().state is None


# --- the pledge journey ---------------------------------------------------------------------------

def test_full_pledge_journey_with_typed_district_and_typed_confirmation(app, resident):
    r = resident()
    assert "อำเภอ" in r.says("อยากร่วมโครงการค่ะ")
    assert "แม่ริม" in r.says("อยู่แม่ริมเจ้า")
    assert set(r.labels()) >= {"พลังงานและการเดินทาง", "ป่าไม้และที่ดิน", "ยกเลิก"}
    cards = r.says("ของเสีย")  # a sector typed instead of tapped
    assert "แยกขยะที่บ้าน" in cards
    confirm = r.says("แยกขยะ")  # an action typed instead of tapped
    assert "ยืนยันให้คำมั่น" in confirm and "แยกขยะที่บ้าน" in confirm
    assert r.active_pledges() == []
    assert "บันทึกคำมั่น" in r.says("ได้ค่ะ")  # "yes" typed
    assert r.active_pledges() == ["sort_waste"]
    again = r.says("จะแยกขยะที่บ้าน")  # the same action twice
    assert "ไว้แล้ว" in again and r.active_pledges() == ["sort_waste"]


def test_typing_the_confirm_label_records_the_pledge_not_a_withdrawal(app, resident):
    r = resident()
    r.says("ผมอยู่อำเภอสารภี")
    assert "ยืนยันให้คำมั่น" in r.says("จะปั่นจักรยานไปทำงาน")
    assert "บันทึกคำมั่น" in r.says("ยืนยันให้คำมั่น")
    assert r.active_pledges() == ["cycle_walk"]


def test_unknown_or_misspelt_district_asks_again_instead_of_apologising(app, resident):
    r = resident()
    r.says("ขอให้คำมั่น")
    again = r.says("ลำพูน")
    assert "ไม่พบอำเภอ" in again and apology(app) not in again
    assert "ดูรายชื่ออำเภอ" in r.labels()
    assert "สันทราย" in r.says("สันทาย")  # one letter off
    assert r.user().district_code is not None
    assert "ด้านไหน" in all_text(r.last)  # and the pledge goes on to the sectors


def test_cancel_at_every_step_leaves_nothing_recorded(app, resident):
    r = resident()
    r.says("ขอให้คำมั่น")
    assert "ยกเลิกแล้ว" in r.says("ยกเลิก")                   # at the district picker
    r.says("อยู่ฝาง")
    steps = {
        "district": lambda: r.says("เปลี่ยนอำเภอ"),
        "sectors": lambda: r.says("ขอให้คำมั่น"),
        "cards": lambda: (r.says("ขอให้คำมั่น"), r.taps("ของเสีย")),
        "confirm": lambda: r.says("จะแยกขยะ"),
        "withdraw": lambda: r.says("ยกเลิกคำมั่น"),
        "privacy": lambda: r.says("ข้อมูลของฉัน"),
    }
    r.taps_data(msg.postback_data("pledge.confirm", i="led_lighting"))  # something to withdraw
    for name, step in steps.items():
        for word in ("ยกเลิก", "ยกเลิกค่ะ 🙏", "ไม่เอาแล้ว", "ยกเลิกเจ้า"):
            step()
            assert r.user().state is not None, name
            answer = r.says(word)
            assert "ยกเลิกแล้ว" in answer, (name, word, answer[:60])
            assert r.user().state is None
    assert r.active_pledges() == ["led_lighting"]
    assert r.user().district_code  # still there
    assert "ไม่มีขั้นตอนที่ค้างอยู่" in r.says("ยกเลิก")


def test_a_question_mid_flow_is_answered_and_the_flow_does_not_stick(app, resident):
    r = resident()
    r.says("ขอให้คำมั่น")
    answer = r.says("ฝุ่น PM2.5 อันตรายไหม")
    assert "PM2.5" in answer and apology(app) not in answer
    assert r.user().state is None
    assert "เป้าหมายของจังหวัด" in r.says("ยอดรวมทั้งจังหวัด")


# --- check-ins and the weekly reminder ------------------------------------------------------------

def pledge(r: Resident, district: str, action: str) -> None:
    r.says(f"อยู่{district}")
    r.taps_data(msg.postback_data("pledge.confirm", i=action))


def test_checkin_double_taps_and_typed_done(app, resident):
    r = resident()
    pledge(r, "หางดง", "led_lighting")
    status = r.says("ทำแล้วค่ะ")  # typed: shows the check-in buttons instead of a withdrawal
    assert "ทำแล้ว" in r.labels() and "ถอน" not in status
    first = r.taps("ทำแล้ว")
    assert "บันทึกแล้ว" in first
    assert "ไม่ต้องกดซ้ำ" in r.taps_data(msg.postback_data("pledge.checkin", p=_pid(app), w=THIS_MONDAY, d="1"))
    assert "แก้ไขแล้ว" in r.taps_data(msg.postback_data("pledge.checkin", p=_pid(app), w=THIS_MONDAY, d="0"))
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count(CheckIn.id))) == 1


def _pid(app) -> int:
    with app.extensions["deps"].db.session() as s:
        return s.scalar(select(func.max(Pledge.id)))


def test_weekly_reminder_button_asks_about_its_own_week(app, resident):
    r = resident()
    app.extensions["deps"].clock = lambda: NOW - timedelta(days=21)  # pledged three weeks ago
    pledge(r, "หางดง", "ac_plus_one")
    app.extensions["deps"].clock = lambda: NOW
    two_weeks_ago = "2025-02-24"
    shown = r.taps_data(msg.postback_data("pledge.status", w=two_weeks_ago))
    assert "24 ก.พ. 2568" in shown
    datas = [msg.parse_postback(a["data"]) for a in actions_in(r.last) if a["type"] == "postback"]
    assert ("pledge.checkin", {"p": str(_pid(app)), "w": two_weeks_ago, "d": "1"}) in datas
    assert "24 ก.พ. 2568" in r.taps("ทำแล้ว")
    # answered: the same reminder now says so, and offers no buttons for that week
    assert "ตอบครบ" in r.taps_data(msg.postback_data("pledge.status", w=two_weeks_ago))
    # too old, in the future, or not a Monday: this week instead
    for w in ("2025-01-06", "2025-03-17", "2025-03-11", "junk"):
        r.taps_data(msg.postback_data("pledge.status", w=w))
        weeks = {msg.parse_postback(a["data"])[1].get("w") for a in actions_in(r.last)
                 if a["type"] == "postback" and a["data"].startswith("a=pledge.checkin")}
        assert weeks == {THIS_MONDAY}, w


def test_reminder_week_before_a_pledge_began_asks_about_this_week(app, resident):
    r = resident()
    pledge(r, "หางดง", "ac_plus_one")  # pledged this week
    r.taps_data(msg.postback_data("pledge.status", w="2025-03-03"))
    weeks = {msg.parse_postback(a["data"])[1].get("w") for a in actions_in(r.last)
             if a["type"] == "postback" and a["data"].startswith("a=pledge.checkin")}
    assert weeks == {THIS_MONDAY}


# --- withdrawing, the community, the district ------------------------------------------------------

def test_withdraw_by_typing_yes_and_keep_by_typing_no(app, resident):
    r = resident()
    pledge(r, "สารภี", "ac_plus_one")
    r.says("ยกเลิกคำมั่น")
    r.taps(r.labels()[0])
    assert "ยกเลิกแล้ว" in r.says("ไม่ถอน") and r.active_pledges() == ["ac_plus_one"]
    r.says("ขอถอนคำมั่น")
    r.taps(r.labels()[0])
    assert "ถอนคำมั่น" in r.says("ใช่ค่ะ") and r.active_pledges() == []
    assert "ถอนไปแล้ว" in r.taps_data(msg.postback_data("pledge.checkin", p=_pid(app), w=THIS_MONDAY, d="1"))


def test_district_ranking_appears_only_from_five_households(app, resident):
    people = [resident() for _ in range(5)]
    for p in people[:4]:
        pledge(p, "หางดง", "led_lighting")
    stats = people[0].says("ตอนนี้มีคนร่วมกี่คน")
    assert "4 ครัวเรือน" in stats and "ยังไม่แสดงในอันดับ" in stats and "อบก." not in stats
    pledge(people[4], "หางดง", "led_lighting")
    stats = people[0].says("อำเภอไหนอันดับหนึ่ง")
    assert "1. หางดง: 5 ครัวเรือน" in stats and "อันดับ 1" in stats
    assert "ที่มา" in all_text(people[0].last)  # the goal's figure with its source
    assert "สารภี" in people[0].says("ย้ายบ้านไปสารภีแล้ว")
    assert "หางดง: 5" not in people[0].says("ยอดรวมทั้งจังหวัด")  # 4 left: hidden again


# --- broadcasts and privacy ------------------------------------------------------------------------

def test_opt_out_and_in_by_words_and_by_the_campaign_button(app, resident):
    r = resident()
    r.follows()
    for words in ("หยุดส่งข่าว", "ไม่เอาข่าวแล้ว"):
        r.says(words)
        assert r.user().opted_out is True
    assert "ไว้แล้ว" in r.says("หยุดรับข่าวสาร")  # already stopped: said so
    r.says("กลับมารับข่าว")
    assert r.user().opted_out is False
    assert "อยู่แล้ว" in r.says("รับข่าวสาร")
    r.taps_data("a=optout")
    assert r.user().opted_out is True


def test_view_delete_and_start_fresh(app, resident):
    r = resident()
    pledge(r, "แม่ริม", "ac_plus_one")
    shown = r.says("ข้อมูลของฉัน")
    assert "แม่ริม" in shown and "ตั้งแอร์สูงขึ้น 1 องศา" in shown
    r.says("โอเคค่ะ")  # an acknowledgement after reading one's data deletes nothing
    assert r.user() is not None and r.active_pledges() == ["ac_plus_one"]
    r.says("ขอลบข้อมูล")
    gone = r.says("ยืนยันลบข้อมูล")  # typed, as the button says
    assert "ลบข้อมูลทั้งหมด" in gone and len(r.labels()) >= 5
    assert r.user() is None
    stale = r.taps_data(msg.postback_data("pledge.checkin", p=1, w=THIS_MONDAY, d="1"))
    assert "ใช้ไม่ได้แล้ว" in stale
    assert "ยังไม่มีคำมั่น" in r.says("คำมั่นของฉัน")  # starts fresh
    assert r.user().district_code is None
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count(Pledge.id))) == 0
