"""Odd but valid webhook traffic: several events at once, follow history, events outside the normal
flow, awkward Unicode, groups and rooms, and what the log keeps. Signed payloads in, the fake LINE
API's record out, as a resident (or LINE) would notice."""
from __future__ import annotations

import logging
import urllib.parse

import pytest
from sqlalchemy import func, select

from bot import messages as msg
from bot import validate
from bot.store.models import Pledge, User
from tests import events
from tests.reading import actions_in, all_text


def replies_by_token(fake_line) -> dict[str, list[dict]]:
    return {r["replyToken"]: r["messages"] for r in fake_line.replies()}


def said(fake_line, event: dict) -> str:
    return all_text(replies_by_token(fake_line).get(event["replyToken"], []))


def ok(app, messages: list[dict]) -> None:
    assert messages, "no answer"
    assert validate.validate_messages(messages) == []
    assert app.extensions["deps"].content.text("core.error_sorry") not in all_text(messages)


def first_words(app, intent: str) -> str:
    return app.extensions["deps"].content.answers[intent].text.split()[0]


def pledges_of(app, uid: str, status: str = "active") -> list[str]:
    with app.extensions["deps"].db.session() as s:
        return list(s.scalars(select(Pledge.action_id).join(User, User.id == Pledge.user_id)
                              .where(User.line_user_id == uid, Pledge.status == status)))


def users(app) -> int:
    with app.extensions["deps"].db.session() as s:
        return s.scalar(select(func.count()).select_from(User))


def pledge(signed_post, uid: str, action: str = "sort_waste", district: str = "5001") -> None:
    signed_post(events.payload(events.postback(msg.postback_data("pledge.district", d=district), uid)))
    signed_post(events.payload(events.postback(msg.postback_data("pledge.confirm", i=action), uid)))


# --- several events in one payload --------------------------------------------------------------

def test_events_from_several_users_in_one_payload_each_get_their_own_answer(app, signed_post, fake_line):
    evs = [events.text("ภาวะโลกร้อนคืออะไร", events.user_id(301)),
           events.text("ฝุ่นควันเชียงใหม่มาจากไหน", events.user_id(302)),
           events.text("วิธีแยกขยะที่บ้าน", events.user_id(303))]
    assert signed_post(events.payload(*evs)).status_code == 200
    got = replies_by_token(fake_line)
    assert len(fake_line.replies()) == 3 and fake_line.pushes() == []
    for e, intent in zip(evs, ["climate_basics", "haze_pm25", "tips_waste"]):
        ok(app, got[e["replyToken"]])
        assert first_words(app, intent) in all_text(got[e["replyToken"]])
    assert users(app) == 3


def test_one_users_follow_text_and_postback_in_one_payload_are_handled_in_order(app, signed_post, fake_line):
    uid = events.user_id(310)
    f = events.follow(uid)
    t = events.text("ขอร่วมให้คำมั่น", uid)
    p = events.postback(msg.postback_data("pledge.district", d="5001", n="p"), uid)
    assert signed_post(events.payload(f, t, p)).status_code == 200
    assert "เชียงใหม่เมืองคาร์บอนต่ำ" in said(fake_line, f)
    assert "เรื่องข้อมูลส่วนตัว" not in said(fake_line, t)  # told once, with the welcome
    for e in (f, t, p):
        ok(app, replies_by_token(fake_line)[e["replyToken"]])
    assert "เมืองเชียงใหม่" in said(fake_line, p)  # district saved, then on to the sectors
    with app.extensions["deps"].db.session() as s:
        u = s.scalar(select(User).where(User.line_user_id == uid))
        assert u.district_code == "5001" and u.followed


def test_a_redelivered_event_beside_a_new_one_only_the_new_one_is_answered(app, signed_post, fake_line):
    uid = events.user_id(320)
    old = events.text("ภาวะโลกร้อนคืออะไร", uid)
    signed_post(events.payload(old))
    fake_line.reset()
    again = {**old, "replyToken": "r" * 32, "deliveryContext": {"isRedelivery": True}}
    new = events.text("ฝุ่นควันเชียงใหม่มาจากไหน", uid)
    assert signed_post(events.payload(again, new)).status_code == 200
    assert [r["replyToken"] for r in fake_line.replies()] == [new["replyToken"]]
    assert first_words(app, "haze_pm25") in said(fake_line, new)


def test_the_same_event_twice_in_one_payload_is_handled_once(app, signed_post, fake_line):
    uid = events.user_id(330)
    pledge(signed_post, uid, "sort_waste")
    fake_line.reset()
    tap = events.postback(msg.postback_data("pledge.confirm", i="cycle_walk"), uid)
    assert signed_post(events.payload(tap, dict(tap))).status_code == 200
    assert len(fake_line.replies()) == 1
    assert sorted(pledges_of(app, uid)) == ["cycle_walk", "sort_waste"]


# --- follow history ---------------------------------------------------------------------------------

def test_follow_unfollow_follow_again_welcomes_back_and_keeps_pledges(app, signed_post, fake_line):
    uid = events.user_id(340)
    signed_post(events.payload(events.follow(uid)))
    pledge(signed_post, uid, "sort_waste")
    signed_post(events.payload(events.unfollow(uid)))
    fake_line.reset()
    back = events.follow(uid)
    back["follow"] = {"isUnblocked": True}
    assert signed_post(events.payload(back)).status_code == 200
    text = said(fake_line, back)
    ok(app, replies_by_token(fake_line)[back["replyToken"]])
    assert "เชียงใหม่เมืองคาร์บอนต่ำ" in text
    assert pledges_of(app, uid) == ["sort_waste"]
    with app.extensions["deps"].db.session() as s:
        u = s.scalar(select(User).where(User.line_user_id == uid))
        assert u.followed and not u.blocked


# --- events outside the normal flow ----------------------------------------------------------------

def test_standby_events_are_neither_answered_nor_recorded(app, signed_post, fake_line):
    e = events.text("ขอร่วมให้คำมั่น", events.user_id(350))
    e["mode"] = "standby"
    e.pop("replyToken")
    assert signed_post(events.payload(e)).status_code == 200
    assert fake_line.calls == []
    assert users(app) == 0


@pytest.mark.parametrize("data", [
    "สวัสดีบอท random text", "x" * 300, urllib.parse.quote("ให้คำมั่นแยกขยะ"), "", "a=", "a=pledge.confirm",
    "a=pledge.checkin&p=99999999999999999999999&w=2025-03-10&d=1", "a=pledge.withdraw_ok&p=99999999999999999999",
    "a=pledge.withdraw&p=-1", "a=pledge.withdraw_ok&p=3000000000", "a=pledge.checkin&p=2147483648&w=2025-03-10&d=0",
    "a=pledge.district&d=9999&n=p", "a=pledge.sector&s=%00", "a=action.estimate&id=",
    "a=pledge.checkin&p=1&w=9999-99-99", "a=%E0%B8%81&a=pledge.stats", "%%%", "a=pledge.status&w=๒๕๖๘-๐๓-๑๐",
])
def test_a_postback_the_bot_never_made_gets_a_polite_answer(app, signed_post, fake_line, data):
    e = events.postback(data, events.user_id(360))
    assert signed_post(events.payload(e)).status_code == 200
    ok(app, replies_by_token(fake_line)[e["replyToken"]])


def test_a_postback_from_an_old_flow_after_deleting_ones_data_stores_nothing_new(app, signed_post, fake_line):
    uid = events.user_id(370)
    pledge(signed_post, uid, "sort_waste")
    signed_post(events.payload(events.postback(msg.postback_data("privacy.delete"), uid)))
    assert users(app) == 0
    fake_line.reset()
    old = events.postback(msg.postback_data("pledge.confirm", i="cycle_walk"), uid)
    signed_post(events.payload(old))
    ok(app, replies_by_token(fake_line)[old["replyToken"]])
    assert pledges_of(app, uid) == []  # asked for a district first, nothing pledged
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pledge)) == 0


def test_a_postback_with_datetime_picker_params_is_answered(app, signed_post, fake_line):
    e = events.postback(msg.postback_data("pledge.status"), events.user_id(380))
    e["postback"]["params"] = {"datetime": "2025-03-12T10:00"}
    assert signed_post(events.payload(e)).status_code == 200
    ok(app, replies_by_token(fake_line)[e["replyToken"]])
    e2 = events.postback("a=unknown.picker", events.user_id(380))
    e2["postback"]["params"] = {"date": "2025-03-12"}
    signed_post(events.payload(e2))
    ok(app, replies_by_token(fake_line)[e2["replyToken"]])


# --- awkward text --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, intent", [
    ("ภาวะโลก\u200bร้อน\u200bคืออะไร", "climate_basics"),              # zero-width spaces
    ("ภาวะโลก\u200dร้อน\u200cคืออะไร\ufeff", "climate_basics"),         # joiners, BOM
    ("ฝ\u0e48\u0e38นควันเชียงใหม่มาจากไหน", "haze_pm25"),                # tone mark before the vowel
    ("ฝุ่น ＰＭ２．５ อันตรายไหม", "haze_pm25"),                         # full-width Latin and digits
    ("PM2.5", "haze_pm25"),
    ("GLOBAL WARMING คืออะไร", "climate_basics"),
    ("ฝุ่นควันເຊียงใหม่ມາຈາກไหน", "haze_pm25"),                          # Lao letters mixed in
    ("โลกร้อนคืออะไรឥឡូវ", "climate_basics"),                            # Khmer letters mixed in
    ("โลกร้อน\nคืออะไร\n", "climate_basics"),                            # newlines
    ("\tฝุ่น\tPM2.5\tอันตรายไหม\t", "haze_pm25"),                         # tabs
    ("ฝุ่นเยอะมาก 😷🙏🏻 ป้องกันยังไง", "haze_pm25"),                      # emoji with skin tones
    ("เป้าหมายลด ๒๑% คืออะไร", "campaign_about"),                        # Thai digits
    ("๓๐ มาตรการ มีอะไรบ้าง", "campaign_measures"),
])
def test_awkward_text_still_reaches_its_topic(app, signed_post, fake_line, text, intent):
    e = events.text(text, events.user_id(400))
    assert signed_post(events.payload(e)).status_code == 200
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert first_words(app, intent) in all_text(got), all_text(got)[:120]


@pytest.mark.parametrize("text, intent", [("ＰＭ２．５", "haze_pm25"), ("ｐｍ２.５ ｃｈｉａｎｇ ｍａｉ", "haze_pm25"),
                                          ("ｃｌｉｍａｔｅ　ｃｈａｎｇｅ คืออะไร", "climate_basics")])
def test_full_width_latin_alone_reaches_its_topic(app, signed_post, fake_line, text, intent):
    e = events.text(text, events.user_id(401))
    signed_post(events.payload(e))
    assert first_words(app, intent) in said(fake_line, e)


def test_english_in_capitals_is_read_like_lower_case(app, signed_post, fake_line):
    upper, lower = events.text("CLIMATE CHANGE", events.user_id(404)), events.text("climate change", events.user_id(405))
    signed_post(events.payload(upper))
    signed_post(events.payload(lower))
    got = replies_by_token(fake_line)
    ok(app, got[upper["replyToken"]])
    assert all_text(got[upper["replyToken"]]) == all_text(got[lower["replyToken"]])
    english = app.extensions["deps"].contents.en
    assert english.answers["climate_basics"].text[:40] in all_text(got[upper["replyToken"]])  # in English


def test_full_width_cancel_ends_a_flow(app, signed_post, fake_line):
    uid = events.user_id(402)
    signed_post(events.payload(events.text("ขอร่วมให้คำมั่น", uid)))
    e = events.text("ｃａｎｃｅｌ", uid)
    signed_post(events.payload(e))
    assert app.extensions["deps"].content.text("core.cancelled") in said(fake_line, e)


@pytest.mark.parametrize("text", ["👍🏽", "🙏🏻🙏🏿", "👨‍👩‍👧‍👦", "\u200b", "\u200b\u200d\ufeff", "๕๕๕๕", "٢١%"])
def test_emoji_and_invisible_only_messages_get_small_talk_not_an_apology(app, signed_post, fake_line, text):
    e = events.text(text, events.user_id(403))
    signed_post(events.payload(e))
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert app.extensions["deps"].content.text("core.fallback") not in all_text(got)


def test_five_thousand_characters_of_thai_without_spaces_get_one_valid_answer(app, signed_post, fake_line):
    long = ("ฝุ่นควันเชียงใหม่มาจากไหนทำไมปีนี้หนักจัง" * 200)[:5000]
    e = events.text(long, events.user_id(410))
    assert signed_post(events.payload(e)).status_code == 200
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert long[:200] not in all_text(got)  # never echoed back


def test_a_mention_of_someone_else_in_a_one_to_one_chat_is_read_as_the_question(app, signed_post, fake_line):
    e = events.text("@สมชาย ฝุ่นควันเชียงใหม่มาจากไหน", events.user_id(420))
    e["message"]["mention"] = {"mentionees": [{"index": 0, "length": 6, "type": "user", "isSelf": False}]}
    assert signed_post(events.payload(e)).status_code == 200
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert first_words(app, "haze_pm25") in all_text(got)


# --- groups and rooms ------------------------------------------------------------------------------

def stored_nothing(app) -> None:
    from bot.store.models import UnmatchedText

    with app.extensions["deps"].db.session() as s:
        for model in (User, Pledge, UnmatchedText):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model.__name__


@pytest.mark.parametrize("request_text", ["ขอร่วมให้คำมั่นแยกขยะ", "ลบข้อมูลของฉัน", "อำเภอแม่ริม", "หยุดรับข่าวสาร"])
def test_a_personal_request_in_a_group_points_to_the_private_chat_and_stores_nothing(app, signed_post, fake_line,
                                                                                     request_text):
    e = events.group_text(request_text, mention_bot=True)
    assert signed_post(events.payload(e)).status_code == 200
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert app.extensions["deps"].content.text("core.group_private_only") in all_text(got)
    assert not [a for a in actions_in(got) if a.get("type") == "postback"]  # nothing to tap that would store
    stored_nothing(app)


def test_a_mention_in_the_middle_of_a_group_question_is_answered(app, signed_post, fake_line):
    e = events.group_text("", mention_bot=False)
    e["message"]["text"] = "ฝุ่นควัน @น้องบอท เชียงใหม่มาจากไหน"
    e["message"]["mention"] = {"mentionees": [
        {"index": 9, "length": 8, "type": "user", "userId": events.BOT_USER_ID, "isSelf": True}]}
    assert signed_post(events.payload(e)).status_code == 200
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert first_words(app, "haze_pm25") in all_text(got)
    stored_nothing(app)


def test_a_room_question_with_a_mention_is_answered(app, signed_post, fake_line):
    e = events.group_text("ฝุ่นควันเชียงใหม่มาจากไหน", mention_bot=True)
    e["source"] = {"type": "room", "roomId": "R" + "3" * 32, "userId": events.user_id(8)}
    signed_post(events.payload(e))
    assert first_words(app, "haze_pm25") in said(fake_line, e)
    stored_nothing(app)


def test_a_mention_of_all_is_accepted_and_not_answered(app, signed_post, fake_line):
    e = events.group_text("", mention_bot=False)
    e["message"]["text"] = "@All ฝุ่นควันเชียงใหม่มาจากไหน"
    e["message"]["mention"] = {"mentionees": [{"index": 0, "length": 4, "type": "all"}]}
    assert signed_post(events.payload(e)).status_code == 200
    assert fake_line.replies() == []
    stored_nothing(app)


def test_a_group_message_without_a_user_id_mentioning_the_bot_is_answered(app, signed_post, fake_line):
    e = events.group_text("ภาวะโลกร้อนคืออะไร", mention_bot=True)
    del e["source"]["userId"]
    signed_post(events.payload(e))
    assert first_words(app, "climate_basics") in said(fake_line, e)
    stored_nothing(app)


def group_postback(data: str) -> dict:
    e = events.postback(data)
    e["source"] = {"type": "group", "groupId": "C" + "9" * 32, "userId": events.user_id(9)}
    return e


def test_a_personal_button_tapped_in_a_group_points_to_the_private_chat_and_stores_nothing(
        app, signed_post, fake_line):
    assert signed_post(events.payload(group_postback(msg.postback_data("pledge.confirm", i="sort_waste")))).status_code == 200
    stored_nothing(app)
    [reply] = fake_line.replies()
    assert "แชตส่วนตัว" in reply["messages"][0]["text"]


def test_how_a_number_was_worked_out_is_shown_in_a_group_too(app, signed_post, fake_line):
    signed_post(events.payload(group_postback(msg.postback_data(msg.ESTIMATE_POSTBACK, id="led_lighting"))))
    [reply] = fake_line.replies()
    assert "0.475" in all_text(reply["messages"]) and not any("quickReply" in m for m in reply["messages"])
    stored_nothing(app)


# --- names that look like commands -----------------------------------------------------------------

def _buttons(app) -> list[tuple[str, str]]:
    import yaml

    from bot import CONTENT_DIR

    c = app.extensions["deps"].content
    out = [(i, c.ask_of(i)) for i in [*c.answers, *c.flows] if c.ask_of(i)]
    out += [(i, c.label_of(i)) for i in [*c.answers, *c.flows] if c.label_of(i)]
    menu = yaml.safe_load((CONTENT_DIR / "richmenu.yaml").read_text(encoding="utf-8"))
    out += [(a["intent"], a["label"]) for a in menu["areas"]
            if a["intent"] != "tips_energy"]  # "ลดคาร์บอนที่บ้าน" is read as climate_solutions, which lists them
    return out


def test_every_button_and_quick_reply_text_typed_by_hand_reaches_its_topic(app, signed_post, fake_line):
    c = app.extensions["deps"].content
    for n, (intent, words) in enumerate(_buttons(app)):
        uid = events.user_id(500 + n)
        signed_post(events.payload(events.postback(msg.postback_data("pledge.district", d="5001"), uid)))
        e = events.text(words, uid)
        signed_post(events.payload(e))
        got = replies_by_token(fake_line)[e["replyToken"]]
        ok(app, got)
        text = all_text(got)
        assert c.text("core.fallback") not in text and "หมายถึงเรื่อง" not in text, (intent, words)
        if intent in c.answers:  # its overview, or one of its more specific question-bank answers
            starts = [first_words(app, intent)] + [e.text[:30] for e in c.entries.values() if e.topic == intent]
            assert any(s in text for s in starts), (intent, words)


def test_typing_a_topic_while_the_district_picker_is_open_answers_the_topic(app, signed_post, fake_line):
    uid = events.user_id(600)
    signed_post(events.payload(events.text("ขอร่วมให้คำมั่น", uid)))  # asks for the district first
    e = events.text("ฝุ่น PM2.5", uid)
    signed_post(events.payload(e))
    assert first_words(app, "haze_pm25") in said(fake_line, e)


# --- the log ------------------------------------------------------------------------------------

def test_the_log_never_keeps_residents_words_or_user_ids_whatever_they_type(app, signed_post, fake_line, caplog):
    uid, gid_user = events.user_id(700), events.user_id(701)
    words = ["บ้านฉันอยู่ซอย\u200bเจ็ด 👨‍👩‍👧‍👦", "ＮＡＭＥ ｓｏｍｃｈａｉ ๐๘๑๒๓๔๕๖๗๘", "ສະບາຍດີ ជំរាបសួរ หมู่บ้านป่าตาล",
             "ก" * 5000]
    with caplog.at_level(logging.DEBUG):
        evs = [events.text(w, uid) for w in words]
        evs.append(events.postback("a=pledge.withdraw_ok&p=99999999999999999999", uid))
        evs.append(events.postback(urllib.parse.quote("ที่อยู่บ้านเลขที่ ๙๙"), uid))
        evs.append(events.group_text("บ้านเลขที่ ๙๙ ขอร่วมให้คำมั่น", mention_bot=True, uid=gid_user))
        signed_post(events.payload(*evs))
        signed_post(events.payload(events.unfollow(uid)))
    assert caplog.records
    log = caplog.text
    for w in ["บ้านฉันอยู่ซอย", "somchai", "ｓｏｍｃｈａｉ", "๐๘๑๒๓๔๕๖๗๘", "หมู่บ้านป่าตาล", "ก" * 20, "บ้านเลขที่",
              uid, gid_user, uid[1:]]:
        assert w not in log, w


def test_group_answers_offer_no_quick_replies_the_bot_would_then_ignore(app, signed_post, fake_line):
    e = events.group_text("ฝุ่นควันเชียงใหม่มาจากไหน", mention_bot=True)
    signed_post(events.payload(e))
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert first_words(app, "haze_pm25") in all_text(got)
    assert not any("quickReply" in m for m in got)
    # a quick reply's text arrives without a mention, so the bot would stay silent
    signed_post(events.payload(events.group_text("ฝุ่นควันเชียงใหม่มาจากไหน", mention_bot=False)))
    assert len(fake_line.replies()) == 1


def test_tagging_the_bot_with_nothing_else_says_how_to_use_it_in_a_group(app, signed_post, fake_line):
    e = events.group_text("", mention_bot=True)
    signed_post(events.payload(e))
    assert app.extensions["deps"].content.text("core.group_hello") in said(fake_line, e)
    stored_nothing(app)


def test_a_specific_question_in_a_group_gets_its_own_answer_and_an_emergency_its_call_button(app, signed_post, fake_line):
    content = app.extensions["deps"].content
    e = events.group_text("เด็กเล็กใส่หน้ากาก N95 ได้ไหม", mention_bot=True)
    signed_post(events.payload(e))
    got = replies_by_token(fake_line)[e["replyToken"]]
    ok(app, got)
    assert " ".join(content.entries["mask_n95_kids"].text.split())[:40] in " ".join(all_text(got).split())
    assert not any("quickReply" in m for m in got)
    urgent = events.group_text("แม่หายใจไม่ออก ช่วยด้วย", mention_bot=True)
    signed_post(events.payload(urgent))
    got = replies_by_token(fake_line)[urgent["replyToken"]]
    ok(app, got)
    items = [q["action"] for m in got for q in (m.get("quickReply") or {}).get("items", [])]
    assert items and all(a["type"] == "uri" and a["uri"].startswith("tel:") for a in items)
    assert "1669" in all_text(got)
    stored_nothing(app)
