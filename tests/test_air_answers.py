"""Residents asking about today's air through signed webhook posts, with readings stored from a fake
Air4Thai: the nearest station's number, band, advice, time and source, in their district or at a
shared location; general questions about haze still reach the question bank."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from bot import validate
from bot.store.models import AirSubscription, User
from tests import airdata, events
from tests.airdata import NOW
from tests.reading import actions_in, all_text

MAE_RIM, FANG = "5007", "5009"


@pytest.fixture
def app_config(app_config, fake_air):
    return {**app_config, "AIR_QUALITY_URL": fake_air.url, "AIR_QUALITY_TIMEOUT": 1.0}


@pytest.fixture(autouse=True)
def _clock(app):
    app.extensions["deps"].clock = lambda: NOW


@pytest.fixture
def readings(runner, fake_air):
    """Store the usual feed (35t City Hall at 52.3, orange) through `air refresh`."""
    def load(*stations: dict) -> None:
        fake_air.serve(*(stations or airdata.feed()))
        result = runner.invoke(args=["air", "refresh"])
        assert result.exit_code == 0, result.output
    return load


def resident(app, n: int, district: str | None = None, lang: str | None = None) -> str:
    uid = events.user_id(n)
    with app.extensions["deps"].db.session() as s:
        s.execute(insert(User).values(line_user_id=uid, followed=True, blocked=False, opted_out=False,
                                      district_code=district, lang=lang, created_at=NOW - timedelta(days=30),
                                      updated_at=NOW - timedelta(days=30)))
    return uid


def ask(signed_post, fake_line, event: dict) -> list[dict]:
    before = len(fake_line.replies())
    assert signed_post(events.payload(event)).status_code == 200
    replies = fake_line.replies()[before:]
    assert replies, "no reply"
    messages = replies[-1]["messages"]
    assert validate.validate_messages(messages) == []
    return messages


def says(signed_post, fake_line, uid: str, text: str) -> list[dict]:
    return ask(signed_post, fake_line, events.text(text, uid))


def card_of(messages: list[dict]) -> dict:
    flex = [m for m in messages if m["type"] == "flex"]
    assert flex, all_text(messages)
    return flex[-1]["contents"]


def labels(messages: list[dict]) -> list[str]:
    return [a.get("label") for a in actions_in(messages)]


def test_mae_rim_resident_gets_the_nearest_stations_reading_band_advice_time_and_source(
        app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 1, MAE_RIM)
    messages = says(signed_post, fake_line, uid, "ฝุ่นวันนี้")
    text = all_text(messages)
    assert "52.3" in text and "µg/m³" in text
    assert "เริ่มมีผลกระทบต่อสุขภาพ" in text and "ส้ม" in text
    assert "หน้ากากป้องกัน PM2.5 ทุกครั้งที่ออกนอกอาคาร" in text            # the band's advice
    assert "ค่าเฉลี่ย 24 ชั่วโมง" in text and "วันนี้ 09:00 น." in text        # what it is, when measured
    assert "ศูนย์ราชการจังหวัดเชียงใหม่" in text and "อ.แม่ริม" in text and "กม." in text
    assert "ที่มา: Air4Thai (กรมควบคุมมลพิษ)" in text
    card = card_of(messages)
    assert card["header"]["backgroundColor"] == "#FFA200"  # the band's colour
    assert "แจ้งเตือนฝุ่น" in labels(messages) and "วันนี้ช่วยอะไรได้" in labels(messages)
    assert any(a["type"] == "uri" and "air4thai" in a["uri"] for a in actions_in(messages))


@pytest.mark.parametrize("text", ["ฝุ่นวันนี้", "ค่าฝุ่นตอนนี้", "pm2.5 เท่าไหร่", "PM2.5 วันนี้เท่าไรคะ", "aqi", "AQI",
                                  "ค่าฝุ่น", "ฝุ่นที่แม่ริมตอนนี้", "pm2.5 แม่ริมวันนี้", "ฝุ่นแม่ริม", "ฝุ่นเยอะไหมวันนี้",
                                  "คุณภาพอากาศวันนี้เป็นยังไงบ้าง", "ฝุ่น ๒.๕ วันนี้", "ค่า pm25 ล่าสุด",
                                  "ค่าฝุ่นเชียงใหม่", "aqi chiang mai"])
def test_ways_of_asking_for_todays_air_get_the_reading(app, signed_post, fake_line, readings, text):
    readings()
    uid = resident(app, 2, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, text))
    assert "52.3" in got and "เริ่มมีผลกระทบต่อสุขภาพ" in got, (text, got[:200])


def test_a_named_district_answers_for_that_district_not_the_residents_own(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 3, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, "ฝุ่นที่ฝางเป็นไง"))
    assert "88.1" in got and "มีผลกระทบต่อสุขภาพ" in got and "อ.ฝาง" in got and "สถานีทดสอบฝาง" in got
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == uid)) == MAE_RIM


@pytest.mark.parametrize("text", ["ฝุ่น PM2.5 อันตรายยังไง", "หน้ากากกันฝุ่นได้ไหม", "ฝุ่นควันเชียงใหม่มาจากไหน",
                                  "ทำไมวันนี้ฝุ่นเยอะ", "PM2.5", "ฝุ่น PM2.5", "อยากรู้เรื่องฝุ่น"])
def test_general_questions_about_haze_still_reach_the_question_bank(app, signed_post, fake_line, readings, text):
    readings()
    uid = resident(app, 4, MAE_RIM)
    messages = says(signed_post, fake_line, uid, text)
    got = all_text(messages)
    assert "52.3" not in got and "µg/m³" not in got, (text, got[:200])
    c = app.extensions["deps"].content
    # the topic's overview, or one of its specific question-bank answers
    starts = [c.answers["haze_pm25"].text[:30]] + [e.text[:30] for e in c.entries.values() if e.topic == "haze_pm25"]
    assert any(s in got for s in starts), (text, got[:200])


@pytest.mark.parametrize("text", ["air quality today", "Is the air safe to go running today?", "is the air ok today",
                                  "what's the aqi now", "PM2.5 in Mae Rim right now"])
def test_english_speakers_get_the_reading_in_english(app, signed_post, fake_line, readings, text):
    readings()
    uid = resident(app, 5, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, text))
    assert "52.3" in got and "Starting to affect health" in got and "orange" in got, (text, got[:200])
    assert "24-hour average" in got and "Source: Air4Thai (Pollution Control Department)" in got
    assert "wear protection such as a PM2.5 mask" in got and "City Hall, Chiangmai" in got


def test_a_reading_older_than_three_hours_says_how_old_it_is(app, signed_post, fake_line, readings):
    readings(airdata.city_hall("41.0", time="04:00"))
    uid = resident(app, 6, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, "ฝุ่นวันนี้"))
    assert "41.0" in got and "5 ชั่วโมง" in got and "วันนี้ 04:00 น." in got


def test_no_reading_at_all_says_so_and_links_air4thai_and_dustboy(app, signed_post, fake_line):
    uid = resident(app, 7, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, "ฝุ่นวันนี้"))
    assert "ยังไม่มีค่าฝุ่นล่าสุด" in got and "air4thai.pcd.go.th" in got and "cmuccdc.org" in got


def test_a_station_silent_for_a_day_is_not_used(app, signed_post, fake_line, readings):
    readings(airdata.city_hall("41.0", date="2025-03-01"), airdata.lamphun("30.2"))
    uid = resident(app, 8, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, "ฝุ่นวันนี้"))
    assert "41.0" not in got and "30.2" in got  # Lamphun's station answers, with its distance


def test_without_a_district_the_resident_picks_one_or_sends_a_location(app, signed_post, fake_line, readings):
    readings()
    uid = events.user_id(9)
    messages = says(signed_post, fake_line, uid, "ฝุ่นวันนี้")
    assert "อำเภอไหน" in all_text(messages)
    actions = actions_in(messages)
    assert any(a["type"] == "location" for a in actions)
    mae_rim = next(a for a in actions if a.get("label") == "แม่ริม")
    got = all_text(ask(signed_post, fake_line, events.postback(mae_rim["data"], uid)))
    assert "แม่ริม" in got and "52.3" in got
    # remembered: next time no question
    assert "52.3" in all_text(says(signed_post, fake_line, uid, "ค่าฝุ่นตอนนี้"))


def test_typing_the_district_when_asked_works_too(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 10)
    says(signed_post, fake_line, uid, "aqi")
    assert "88.1" in all_text(says(signed_post, fake_line, uid, "ฝาง"))


def test_a_question_typed_while_the_district_is_asked_is_answered_not_taken_for_a_district(
        app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 16)
    says(signed_post, fake_line, uid, "aqi")
    got = all_text(says(signed_post, fake_line, uid, "what does the orange colour mean?"))
    assert "couldn't find" not in got and "ไม่พบ" not in got
    en = app.extensions["deps"].contents.en  # the colour bands' answers, not a district error
    assert any(en.entries[e].text[:40] in " ".join(got.split()) for e in ("aqi_orange", "aqi_bands"))


@pytest.mark.parametrize("text, entry", [
    ("วันนี้ฝุ่นเยอะ ล้างจมูกด้วยน้ำเกลือช่วยได้ไหมคะ", "health_nasal_rinse"),
    ("what are the pm2.5 levels of each colour in the thai index, i get confused", "aqi_bands"),
])
def test_a_longer_question_on_a_dusty_day_gets_its_answer_not_a_reading(
        app, signed_post, fake_line, readings, text, entry):
    readings()
    uid = resident(app, 17, MAE_RIM)
    got = " ".join(all_text(says(signed_post, fake_line, uid, text)).split())
    assert "52.3" not in got
    c = app.extensions["deps"].contents
    assert any(v.entries[entry].text[:40] in got for v in (c.th, c.en)), got[:200]


def test_a_shared_location_gets_the_nearest_station_and_is_not_kept(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 11)
    tha_phae = {"type": "location", "id": "1", "title": "ประตูท่าแพ", "address": "เชียงใหม่",
                "latitude": 18.7877, "longitude": 98.9931}
    got = all_text(ask(signed_post, fake_line, events.message(tha_phae, uid)))
    assert "48.0" in got and "โรงเรียนยุพราชวิทยาลัย" in got and "ตำแหน่งที่คุณส่งมา" in got
    assert "0.6 กม." in got
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == uid)) is None


def test_a_location_far_from_every_station_is_told_so(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 12)
    bangkok = {"type": "location", "id": "1", "latitude": 13.7563, "longitude": 100.5018}
    got = all_text(ask(signed_post, fake_line, events.message(bangkok, uid)))
    assert "52.3" not in got and "ห่างสถานี" in got and "air4thai" in got.lower()


def test_what_can_i_do_today_ties_the_reading_to_the_campaign(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 13, MAE_RIM)
    messages = says(signed_post, fake_line, uid, "ฝุ่นวันนี้")
    today = next(a for a in actions_in(messages) if a.get("label") == "วันนี้ช่วยอะไรได้")
    got_messages = ask(signed_post, fake_line, events.postback(today["data"], uid))
    got = all_text(got_messages)
    assert "สีส้ม" in got and "หน้ากากป้องกัน PM2.5" in got
    assert "ไม่เผา" in got and "1362" in got and "รถแดง" in got
    assert "news.dnp.go.th" in got  # the hotline's source
    assert any("คำมั่น" in (label or "") for label in labels(got_messages))


def test_in_a_group_a_reading_request_is_not_answered_with_anyones_district(app, signed_post, fake_line, readings):
    readings()
    e = events.group_text("ฝุ่นวันนี้", mention_bot=True)
    assert signed_post(events.payload(e)).status_code == 200
    assert "52.3" not in all_text(fake_line.replies()[-1]["messages"])


def test_subscribing_is_shown_next_to_the_reading(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 14, MAE_RIM)
    messages = says(signed_post, fake_line, uid, "แจ้งเตือนฝุ่น")
    got = all_text(messages)
    assert "เปิดแจ้งเตือนฝุ่นของอ.แม่ริม แล้ว" in got and "52.3" in got
    assert "หยุดแจ้งเตือนฝุ่น" in labels(messages)
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(AirSubscription.user_id)) is not None


@pytest.mark.parametrize("text, said", [
    ("ขอแจ้งเตือนฝุ่นหน่อยค่ะ", "เปิดแจ้งเตือนฝุ่นของอ.แม่ริม แล้ว"), ("สมัครแจ้งเตือนค่าฝุ่น", "เปิดแจ้งเตือนฝุ่นของอ.แม่ริม แล้ว"),
    ("แจ้งเตือน pm2.5", "เปิดแจ้งเตือนฝุ่นของอ.แม่ริม แล้ว"), ("haze alerts", "Haze alerts are on for Mae Rim"),
    ("notify me about pm2.5", "Haze alerts are on for Mae Rim"),
    ("alert me when the air is bad", "Haze alerts are on for Mae Rim"),
])
def test_ways_of_asking_for_haze_alerts(app, signed_post, fake_line, readings, text, said):
    readings()
    uid = resident(app, 15, MAE_RIM)
    assert said in all_text(says(signed_post, fake_line, uid, text))


@pytest.mark.parametrize("text, said", [
    ("หยุดแจ้งเตือนฝุ่น", "หยุดแจ้งเตือนฝุ่นแล้ว"), ("ปิดแจ้งเตือนฝุ่น", "หยุดแจ้งเตือนฝุ่นแล้ว"),
    ("ไม่ต้องแจ้งเตือนฝุ่นแล้วค่ะ", "หยุดแจ้งเตือนฝุ่นแล้ว"), ("ยกเลิกแจ้งเตือนฝุ่น", "หยุดแจ้งเตือนฝุ่นแล้ว"),
    ("stop haze alerts", "Haze alerts are off"), ("unsubscribe from air alerts", "Haze alerts are off"),
])
def test_ways_of_stopping_haze_alerts_never_stop_campaign_news(app, signed_post, fake_line, readings, text, said):
    readings()
    uid = resident(app, 16, MAE_RIM)
    says(signed_post, fake_line, uid, "แจ้งเตือนฝุ่น")
    assert said in all_text(says(signed_post, fake_line, uid, text))
    with app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User).where(User.line_user_id == uid))
        assert user.opted_out is False and s.get(AirSubscription, user.id) is None


def test_no_question_of_another_topic_in_the_nlu_test_sets_is_taken_for_an_air_request(shared_content, shared_matcher):
    from bot import CONTENT_DIR
    from bot.air.requests import Reader

    reader = Reader(shared_content)
    taken = []
    for name in ("eval.tsv", "holdout.tsv", "holdout2.tsv"):
        for line in (CONTENT_DIR / "nlu" / name).read_text(encoding="utf-8").splitlines():
            text, _, intent = line.partition("\t")
            if not intent or line.startswith("#"):
                continue
            if reader.read(text, lambda s: shared_matcher.find_district(s, fuzzy=False)) and intent != "haze_pm25":
                taken.append((text, intent))
    assert taken == []


def test_alerts_follow_the_households_own_district_not_another_one_named(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 17, MAE_RIM)
    got = all_text(says(signed_post, fake_line, uid, "ขอแจ้งเตือนฝุ่นฝาง"))
    assert "เปิดแจ้งเตือนฝุ่นของอ.แม่ริม แล้ว" in got and "เปลี่ยนอำเภอ" in got
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.district_code).where(User.line_user_id == uid)) == MAE_RIM
    newcomer = resident(app, 18)
    assert "เปิดแจ้งเตือนฝุ่นของอ.ฝาง แล้ว" in all_text(says(signed_post, fake_line, newcomer, "ขอแจ้งเตือนฝุ่นฝาง"))


def test_a_location_sent_while_the_picker_is_open_answers_and_closes_it(app, signed_post, fake_line, readings):
    readings()
    uid = resident(app, 19)
    says(signed_post, fake_line, uid, "ฝุ่นวันนี้")
    spot = {"type": "location", "id": "1", "latitude": 18.84, "longitude": 98.97}
    assert "52.3" in all_text(ask(signed_post, fake_line, events.message(spot, uid)))
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.state).where(User.line_user_id == uid)) is None
