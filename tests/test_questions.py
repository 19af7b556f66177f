"""Asking questions: the question bank, follow-ups, sources, emergencies and English, end to end.

Each test is a resident's short conversation through the signed webhook, and asserts what they
would read: the specific answer (not the topic's overview), where it comes from, the numbers to
call in an emergency, and that the bot keeps to the subject of the conversation for ten minutes
and no longer.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot import messages as msg
from bot.content.model import Content
from tests.reading import actions_in
from tests.test_scenarios import Resident

NOW = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)  # Wednesday 12 Mar 2025, 10:00 in Chiang Mai
CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    c = Clock()
    app.extensions["deps"].clock = c
    return c


@pytest.fixture
def resident(app, signed_post, fake_line, clock):
    made = iter(range(500, 600))
    return lambda: Resident(app, signed_post, fake_line, next(made))


@pytest.fixture
def th(app) -> Content:
    return app.extensions["deps"].contents.th


@pytest.fixture
def en(app) -> Content:
    return app.extensions["deps"].contents.en


def opening(text: str) -> str:
    """The first words of an answer: enough to recognise it in a reply."""
    return " ".join(text.split())[:40]


def answered_with(reply: str, content: Content, entry_id: str) -> bool:
    return opening(content.entries[entry_id].text) in " ".join(reply.split())


def tel_numbers(r: Resident) -> list[str]:
    return [a["uri"][4:] for a in actions_in(r.last) if a.get("type") == "uri" and a.get("uri", "").startswith("tel:")]


# --- a specific answer, sourced ----------------------------------------------------------------------

def test_a_specific_question_gets_its_own_answer_with_its_sources_not_the_overview(resident, th):
    r = resident()
    said = r.says("แมสผ้ากันฝุ่น PM2.5 ได้ไหมคะ")
    assert answered_with(said, th, "mask_surgical_vs_n95")
    assert opening(th.answers["haze_pm25"].text) not in said
    entry = th.entries["mask_surgical_vs_n95"]
    assert entry.sources and all(s.url in said for s in entry.sources[:3])  # the page that says it
    # and what to ask next: the entries it relates to, as quick replies that send their questions
    related = {th.entries[i].label for i in entry.related}
    assert related & set(r.labels())


def test_a_price_complaint_about_fuel_is_still_a_question_about_driving(resident, th):
    # "แพง" alone marks shopping and prices as out of scope; how to use less fuel is in scope
    r = resident()
    assert answered_with(r.says("น้ำมันแพง ขับยังไงให้กินน้ำมันน้อยลงบ้าง"), th, "travel_eco_driving")
    price = r.says("ราคาน้ำมันวันนี้เท่าไหร่")  # still not ours
    assert not answered_with(price, th, "travel_eco_driving") and opening(th.text("core.fallback")) in price


def test_a_short_question_the_bank_is_certain_of_gets_its_entry_even_when_the_topic_is_unsure(resident, th):
    # few letters, a topic classifier in doubt, but only one entry speaks of the Ping's gauge P.1
    r = resident()
    assert answered_with(r.says("P.1 คืออะไร"), th, "flood_ping_level")


def test_follow_ups_are_read_against_the_answer_just_given(resident, th):
    r = resident()
    r.says("แมสผ้ากันฝุ่น PM2.5 ได้ไหมคะ")
    assert answered_with(r.says("แล้วเด็กล่ะ"), th, "mask_n95_kids")
    sources = r.says("ข้อมูลนี้เอามาจากไหน")
    assert th.text("core.follow_sources_head") in sources
    assert all(s.url in sources for s in th.entries["mask_n95_kids"].sources)


def test_a_short_question_without_its_subject_is_about_the_conversation(resident, th):
    r = resident()
    assert answered_with(r.says("หมักเศษอาหารที่บ้านเริ่มยังไง"), th, "compost_how_start")
    assert answered_with(r.says("นานไหมกว่าจะได้ใช้"), th, "compost_time")


def test_a_clear_question_on_another_subject_is_answered_on_its_own_subject(resident, th):
    r = resident()
    r.says("หมักเศษอาหารที่บ้านเริ่มยังไง")
    said = r.says("ปลูกต้นไม้ช่วยลดโลกร้อนได้จริงไหม")
    tree_answers = [e.id for e in th.entries.values() if e.topic == "tips_forest_trees"]
    assert any(answered_with(said, th, i) for i in tree_answers) or opening(th.answers["tips_forest_trees"].text) in said


def test_the_conversation_is_forgotten_after_ten_minutes(resident, th, clock):
    r = resident()
    r.says("แมสผ้ากันฝุ่น PM2.5 ได้ไหมคะ")
    clock.now += timedelta(minutes=9)
    assert th.text("core.follow_sources_head") in r.says("มีที่มาไหม")
    clock.now += timedelta(minutes=11)
    said = r.says("มีที่มาไหม")
    assert th.text("core.follow_sources_head") not in said
    assert not any(s.url in said for s in th.entries["mask_surgical_vs_n95"].sources)


def test_asking_how_much_an_action_saves_right_after_its_answer_shows_the_arithmetic(resident, th):
    r = resident()
    said = r.says("เปลี่ยนหลอด LED ดีไหม")
    assert answered_with(said, th, "energy_led")
    assert th.text("cards.pledge_button") in r.labels()  # the answer leads to pledging it
    worked = r.says("แล้วลดได้เท่าไหร่")
    led = th.actions["led_lighting"]
    assert "×" in worked and led.source_url in worked


def test_pledging_from_an_answer_starts_that_pledge(resident, th):
    r = resident()
    r.says("หมักเศษอาหารที่บ้านเริ่มยังไง")
    asked = r.taps(th.text("cards.pledge_button"))
    assert th.actions["compost_food_waste"].title in asked or "อำเภอ" in asked
    assert not r.active_pledges()  # nothing recorded before the resident confirms


def test_the_same_card_is_not_sent_again_for_a_different_question(resident, th):
    r = resident()
    first = r.says("ค่าไฟคิดยังไง")
    second = r.says("ค่าไฟบ้านคิดจากอะไรบ้าง")
    assert first != second
    assert r.says("ค่าไฟคิดยังไง")  # the same question again is answered again, not refused


# --- emergencies ----------------------------------------------------------------------------------------

def test_an_emergency_is_answered_first_with_the_number_to_call_even_mid_flow(resident, th):
    r = resident()
    r.says("อยากร่วมลดโลกร้อน")  # a pledge flow waiting for a choice
    state = r.user().state
    said = r.says("แม่หายใจไม่ออก ช่วยด้วย")
    assert "1669" in said and "1669" in tel_numbers(r)
    assert r.user().state == state  # the flow is still there to come back to


@pytest.mark.parametrize("text", [
    "ปีที่แล้วพ่อหายใจไม่ออกตอนฝุ่นหนัก ปีนี้ต้องเตรียมอะไรบ้าง",
    "what can my family do?",
    "PM2.5 ทำให้หายใจลำบากได้ไหม",
    "my asthma was really bad last march, what can i do this year",
])
def test_a_question_about_symptoms_or_the_past_is_not_treated_as_an_emergency(resident, text):
    r = resident()
    r.says(text)
    assert not tel_numbers(r)


def test_emergencies_in_the_blind_safety_set_get_an_emergency_answer(app):
    """content/nlu/safety_holdout.tsv: emergencies happening now, and questions using the same words."""
    matcher = app.extensions["deps"].matcher
    rows = [line.split("\t") for line in (CONTENT_DIR / "nlu" / "safety_holdout.tsv").read_text(encoding="utf-8")
            .splitlines()[1:] if line.strip()]
    urgent = [(t, e.strip()) for t, e in rows if e.strip() != "-"]
    calm = [t for t, e in rows if e.strip() == "-"]
    assert len(urgent) >= 50 and len(calm) >= 50
    caught = sum(matcher.emergency(t) is not None for t, _ in urgent)
    alarms = sum(matcher.emergency(t) is not None for t in calm)
    assert caught / len(urgent) >= 0.9, caught
    assert alarms / len(calm) <= 0.15, alarms


# --- English ---------------------------------------------------------------------------------------------

def test_a_resident_writing_english_gets_english_answers_and_follow_ups(resident, en):
    r = resident()
    said = r.says("which mask actually works for the smoke?")
    assert answered_with(said, en, "mask_surgical_vs_n95")
    assert not re.search(r"[\u0e00-\u0e7f]", said.split("http")[0])  # no Thai in the answer itself
    assert answered_with(r.says("what about kids?"), en, "mask_n95_kids")
    assert en.text("core.follow_sources_head") in r.says("where is that from?")


# --- what the bank does not know ------------------------------------------------------------------------

def test_a_colour_band_question_is_answered_not_taken_for_a_reading(resident, th):
    r = resident()
    assert answered_with(r.says("ค่าฝุ่นสีส้ม ต้องทำยังไงบ้าง"), th, "aqi_orange")


def test_a_complaint_outside_the_campaign_is_pointed_to_who_can_help(resident, th):
    r = resident()
    said = r.says("ถนนหน้าบ้านเป็นหลุมใหญ่ ร้องเรียนที่ไหนได้บ้าง")
    assert answered_with(said, th, "complaint_channels")


def test_an_insult_gets_a_calm_reply(resident, th):
    r = resident()
    assert th.text("core.insult_reply")[:30] in r.says("บอทโง่")


def test_two_questions_in_one_message_are_both_taken_up(resident, th):
    r = resident()
    r.says("ฝุ่นมาจากไหน แล้วใส่หน้ากากแบบไหนดี")
    labels = r.labels()
    # the first is answered; the second is offered as the first quick reply
    assert labels and any(w in labels[0] for w in ("หน้ากาก", "N95"))


def assert_no_flow_started(r: Resident, said: str, *views: Content) -> None:
    """No privacy card shown, no district asked, no deletion waiting."""
    assert all(v.text("pledges.privacy_show").split("\n")[0][:20] not in said for v in views)
    assert r.user().state is None


def test_a_doubtful_half_of_a_message_starts_no_flow(resident, th, app):
    # cut at "แล้ว" (here "already"), "พ่อปลอดภัย" reads a little like privacy and the rest a little like
    # a pledge: neither is sure enough to show the resident's data or start a pledge
    r = resident()
    r.says("พ่อล้มหมดสติกลางสวน ตัวร้อนจัด ไม่มีเหงื่อ ช่วยด้วย")
    said = r.says("พ่อปลอดภัยแล้ว คราวหน้าจะกันไม่ให้เป็นอีกยังไง")
    assert_no_flow_started(r, said, th)
    heat = {e.id for e in th.entries.values() if e.id.startswith("heat_")}
    assert any(answered_with(said, th, i) for i in heat), said[:200]


def test_a_child_coughing_for_days_is_answered_and_never_stops_the_residents_news(resident, th):
    # "ไม่หยุด" (won't stop) is not "หยุด" (stop): nothing about news or messages, so no opt-out
    r = resident()
    said = r.says("ลูกไอไม่หยุดสามวันแล้ว")
    assert not r.user().opted_out
    assert answered_with(said, th, "safety_child_sick")


@pytest.mark.parametrize("text", ["เก็บข้อมูลฝุ่นจากไหน", "ลบข้อมูลฝุ่นที่ผิดยังไง", "cancel school because of smoke?"])
def test_questions_using_the_words_of_a_flow_do_not_start_it(resident, th, en, text):
    # "เก็บข้อมูล"/"ลบข้อมูล" about air data is not the resident's data; "cancel" a school is not a pledge
    r = resident()
    said = r.says(text)
    assert_no_flow_started(r, said, th, en)
    c = th if re.search(r"[\u0e00-\u0e7f]", text) else en
    assert any(answered_with(said, c, e.id) for e in c.entries.values() if e.topic == "haze_pm25"), said[:200]


def test_an_entry_the_bank_is_certain_of_is_not_buried_by_a_topic_it_barely_fits(resident, en):
    # "plastic" pulls the topic to waste; the bank knows it is about reporting a neighbour's burning
    r = resident()
    assert answered_with(r.says("the guy next door keeps burning plastic bags"), en, "burn_report_neighbor")


def test_a_specific_question_the_bank_is_sure_of_is_answered_though_the_topic_was_doubted(resident, th):
    r = resident()
    said = r.says("ขอเบอร์โทรแจ้งไฟป่าหน่อย")
    assert answered_with(said, th, "fire_report_numbers") and "1362" in said
    assert r.user().state is None  # no "did you mean"


@pytest.mark.parametrize("text, lang", [("เปลี่ยนภาษาเป็นอังกฤษ", "en"), ("change the language to thai", "th")])
def test_asking_for_the_other_language_in_ones_own_words_switches_it(resident, text, lang):
    r = resident()
    r.says(text)
    assert r.user().lang == lang and r.user().state is None


# --- the blind question set ------------------------------------------------------------------------------

def _bank_questions() -> set[str]:
    seen: set[str] = set()
    for f in (CONTENT_DIR / "bank").glob("*.yaml"):
        for e in yaml.safe_load(f.read_text(encoding="utf-8"))["entries"]:
            seen.update(q.strip().lower() for q in (e.get("q_th") or []) + (e.get("q_en") or []))
    for name in ("bank_phrases.yaml", "overviews.yaml", "training.yaml"):
        for qs in yaml.safe_load((CONTENT_DIR / "nlu" / name).read_text(encoding="utf-8")).values():
            seen.update(str(q).strip().lower() for q in qs)
    return seen


def test_blind_bank_questions_reach_their_entry_and_were_never_trained_on(app):
    matcher = app.extensions["deps"].matcher
    rows = [line.split("\t") for line in (CONTENT_DIR / "nlu" / "bank_holdout.tsv").read_text(encoding="utf-8")
            .splitlines() if line.strip() and not line.startswith("#")]
    rows = [r for r in rows if len(r) >= 3 and r[0] != "text"]
    assert len(rows) >= 700
    trained = _bank_questions()
    leaked = [t for t, *_ in rows if t.strip().lower() in trained]
    assert not leaked, leaked[:5]
    topic = entry = 0
    for text, intent, expected, *_ in rows:
        m = matcher.classify(text)
        topic += m.intent == intent
        entry += (m.answer or "-") == expected.strip()  # "-": the topic's overview answers it
    assert topic / len(rows) >= 0.93
    assert entry / len(rows) >= 0.88


def test_every_entry_with_an_action_offers_its_pledge_and_arithmetic(th):
    linked = [e for e in th.entries.values() if e.action]
    assert len(linked) >= 20
    for e in linked:
        assert e.action in th.actions
        data = [q["action"].get("data") for q in _quick(th, e.id)]
        assert msg.postback_data(msg.PLEDGE_PICK, id=e.action) in data


def _quick(content: Content, entry_id: str) -> list[dict]:
    from bot.flows.answers import entry_messages

    return entry_messages(content, content.entries[entry_id])[0]["quickReply"]["items"]
