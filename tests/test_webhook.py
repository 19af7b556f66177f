"""The webhook through its real seams: signed payloads in, the real SDK out to the fake LINE API."""
from __future__ import annotations

import logging
import threading
from datetime import UTC

import pytest
from sqlalchemy import func, select

from bot.store.db import Database
from bot.store.models import ProcessedEvent, User
from tests import events
from tests.conftest import post_signed


def count(app, model) -> int:
    with app.extensions["deps"].db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def reply_texts(fake_line) -> list[str]:
    return [m.get("text") or m.get("altText") for r in fake_line.replies() for m in r["messages"]]


def test_verification_request_with_no_events_gets_200(signed_post, fake_line):
    resp = signed_post(events.payload())
    assert resp.status_code == 200
    assert fake_line.calls == []


@pytest.mark.parametrize("headers", [
    {},                                            # missing
    {"X-Line-Signature": "bm90IHRoZSByaWdodCBvbmU="},  # wrong
    {"X-Line-Signature": "%%%not-base64%%%"},        # malformed
    {"X-Line-Signature": "ลายเซ็น"},                  # not even ASCII
])
def test_bad_signature_is_refused_without_side_effects(app, client, fake_line, headers):
    body = events.body_of(events.payload(events.text("สวัสดีค่ะ")))
    resp = client.post("/callback", data=body, headers=headers)
    assert resp.status_code == 400
    app.extensions["deps"].line.flush()
    assert fake_line.calls == []
    assert count(app, User) == 0 and count(app, ProcessedEvent) == 0


def test_signature_by_another_channel_is_refused(signed_post, fake_line, app):
    resp = signed_post(events.payload(events.text("สวัสดีค่ะ")), secret="someone-else")
    assert resp.status_code == 400
    assert count(app, User) == 0


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b'{"events": "nope"}', b'{"events": [42]}',
                                  b"{\"events\": [{\"type\": \"message\"", b'{"events": []}\xff', b"[" * 100000])
def test_signed_but_malformed_body_gets_400(client, app, fake_line, body):
    resp = client.post("/callback", data=body, headers={"X-Line-Signature": events.sign(body)})
    assert resp.status_code == 400
    assert count(app, User) == 0


def test_without_channel_secret_the_webhook_refuses_everything(app_config):
    from bot import create_app

    app = create_app({**app_config, "LINE_CHANNEL_SECRET": ""})
    body = events.body_of(events.payload(events.text("สวัสดี")))
    resp = app.test_client().post("/callback", data=body, headers={"X-Line-Signature": events.sign(body)})
    assert 400 <= resp.status_code < 500
    assert count(app, User) == 0
    app.extensions["deps"].db.dispose()


def test_a_question_gets_a_thai_answer_by_reply(signed_post, fake_line, app):
    resp = signed_post(events.payload(events.text("ภาวะโลกร้อนคืออะไร")))
    assert resp.status_code == 200
    texts = reply_texts(fake_line)
    assert texts and any("โลก" in t for t in texts)
    assert fake_line.pushes() == []  # replies are free; pushes cost quota


def test_follow_welcomes_with_a_privacy_notice_and_topics(signed_post, fake_line, app):
    signed_post(events.payload(events.follow()))
    [reply] = fake_line.replies()
    joined = " ".join(m.get("text", "") for m in reply["messages"])
    assert "ลบ" in joined and "ข้อมูล" in joined  # how to delete one's data
    assert reply["messages"][-1]["quickReply"]["items"]
    with app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User))
        assert user.followed and not user.blocked


def test_unfollow_marks_blocked_and_sends_nothing(signed_post, fake_line, app):
    uid = events.user_id(3)
    signed_post(events.payload(events.follow(uid)))
    fake_line.reset()
    assert signed_post(events.payload(events.unfollow(uid))).status_code == 200
    assert fake_line.calls == []
    with app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User).where(User.line_user_id == uid))
        assert user.blocked and not user.followed


def test_a_redelivered_event_is_answered_once(signed_post, fake_line, app):
    event = events.text("ฝุ่น PM2.5 มาจากไหน")
    assert signed_post(events.payload(event)).status_code == 200
    again = dict(event, deliveryContext={"isRedelivery": True})
    assert signed_post(events.payload(again)).status_code == 200
    assert len(fake_line.replies()) == 1
    assert count(app, ProcessedEvent) == 1


def test_concurrent_redeliveries_are_answered_once(app, fake_line):
    event = events.text("โลกร้อนเกิดจากอะไร")
    statuses: list[int] = []

    def deliver() -> None:
        statuses.append(post_signed(app.test_client(), events.payload(event)).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions["deps"].line.flush()
    assert statuses == [200] * 4
    assert len(fake_line.replies()) == 1


NON_TEXT_MESSAGES = [
    {"type": "sticker", "id": "1", "quoteToken": "q", "packageId": "446", "stickerId": "1988",
     "stickerResourceType": "STATIC"},
    {"type": "image", "id": "2", "quoteToken": "q", "contentProvider": {"type": "line"}},
    {"type": "video", "id": "3", "quoteToken": "q", "duration": 1000, "contentProvider": {"type": "line"}},
    {"type": "audio", "id": "4", "duration": 1000, "contentProvider": {"type": "line"}},
    {"type": "file", "id": "5", "fileName": "a.pdf", "fileSize": 10},
    {"type": "location", "id": "6", "title": "ประตูท่าแพ", "address": "เชียงใหม่", "latitude": 18.78,
     "longitude": 98.99},
]


@pytest.mark.parametrize("content", NON_TEXT_MESSAGES, ids=lambda c: c["type"])
def test_non_text_messages_get_a_friendly_pointer_to_the_menu(signed_post, fake_line, content):
    assert signed_post(events.payload(events.message(content))).status_code == 200
    [reply] = fake_line.replies()
    assert reply["messages"][0]["type"] == "text"
    assert reply["messages"][-1].get("quickReply")


GROUP = {"type": "group", "groupId": "C" + "1" * 32, "userId": events.user_id(9)}
ROOM = {"type": "room", "roomId": "R" + "2" * 32, "userId": events.user_id(9)}
OTHER_EVENTS = [
    ("join", {}, GROUP, True),
    ("leave", {}, GROUP, False),
    ("memberJoined", {"joined": {"members": [{"type": "user", "userId": events.user_id(5)}]}}, GROUP, True),
    ("memberLeft", {"left": {"members": [{"type": "user", "userId": events.user_id(5)}]}}, ROOM, False),
    ("unsend", {"unsend": {"messageId": "325708"}}, None, False),
    ("videoPlayComplete", {"videoPlayComplete": {"trackingId": "t"}}, None, True),
    ("beacon", {"beacon": {"hwid": "d41d8cd98f", "type": "enter"}}, None, True),
    ("accountLink", {"link": {"result": "ok", "nonce": "n"}}, None, True),
    ("membership", {"membership": {"type": "joined", "membershipId": 1}}, None, True),
    ("activated", {"chatControl": {"expireAt": 1}}, None, False),
    ("aBrandNewEventType", {"whatever": {"x": 1}}, None, True),
    ("message", {"message": {"type": "aBrandNewMessageType", "id": "7"}}, None, True),
]


@pytest.mark.parametrize("kind,extra,source,reply", OTHER_EVENTS, ids=[e[0] for e in OTHER_EVENTS])
def test_every_other_event_type_is_handled_or_ignored_without_error(signed_post, app, kind, extra, source, reply):
    resp = signed_post(events.payload(events.other(kind, extra, source=source, reply=reply)))
    assert resp.status_code == 200


def test_joining_a_group_says_hello_and_stores_no_one(signed_post, fake_line, app):
    signed_post(events.payload(events.other("join", {}, source=GROUP, reply=True)))
    assert len(fake_line.replies()) == 1
    assert count(app, User) == 0


def test_in_a_group_the_bot_answers_only_when_mentioned_and_stores_nothing(signed_post, fake_line, app):
    signed_post(events.payload(events.group_text("ภาวะโลกร้อนคืออะไร", mention_bot=False)))
    assert fake_line.replies() == []
    signed_post(events.payload(events.group_text("ภาวะโลกร้อนคืออะไร", mention_bot=True)))
    assert len(fake_line.replies()) == 1
    assert count(app, User) == 0


def test_a_5000_character_message_is_answered(signed_post, fake_line):
    long_text = ("โลกร้อนคืออะไร " * 400)[:5000]
    assert signed_post(events.payload(events.text(long_text))).status_code == 200
    assert len(fake_line.replies()) == 1


def test_a_hanging_line_api_does_not_hold_the_webhook(app, client, fake_line):
    fake_line.hang_next("reply", seconds=20)
    body = events.body_of(events.payload(events.text("สวัสดีค่ะ")))
    resp = client.post("/callback", data=body, headers={"X-Line-Signature": events.sign(body)})
    # The webhook has answered while LINE is still sitting on the reply.
    assert resp.status_code == 200
    assert [c.status for c in fake_line.calls_to("reply")] in ([], [None])
    assert count(app, ProcessedEvent) == 1
    fake_line.clear_faults()


def test_a_failing_line_api_still_gets_200_and_the_reply_is_retried(signed_post, fake_line):
    fake_line.fail_next("reply", status=500)
    assert signed_post(events.payload(events.text("สวัสดีค่ะ"))).status_code == 200
    assert fake_line.wait_for("reply", 2)  # the fake notes a status just after answering
    statuses = [c.status for c in fake_line.calls_to("reply")]
    assert statuses == [500, 200]
    assert len(fake_line.replies()) == 1


def test_a_database_outage_answers_503_so_line_redelivers(app, signed_post, fake_line):
    app.extensions["deps"].db.dispose()
    app.extensions["deps"].db = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert signed_post(events.payload(events.text("สวัสดีค่ะ"))).status_code == 503
    assert app.test_client().get("/healthz").status_code == 503
    assert fake_line.replies() == []


def test_healthz_is_ok_when_the_database_answers(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"


def test_a_bug_gets_a_thai_apology_not_a_500(app, signed_post, fake_line, monkeypatch):
    import bot.dialogue

    def broken(turn, ctx):
        raise RuntimeError("bug")

    monkeypatch.setattr(bot.dialogue, "handle", broken)
    assert signed_post(events.payload(events.text("สวัสดีค่ะ"))).status_code == 200
    [reply] = fake_line.replies()
    assert "ขออภัย" in reply["messages"][0]["text"]


def test_logs_carry_neither_message_texts_nor_user_ids(signed_post, caplog):
    uid = events.user_id(42)
    secret_words = "บ้านฉันอยู่ซอยเจ็ดหลังตลาด"
    with caplog.at_level(logging.DEBUG):
        signed_post(events.payload(events.text(secret_words, uid)))
    assert caplog.records
    assert secret_words not in caplog.text and uid not in caplog.text


def test_someone_who_writes_before_following_is_told_what_is_kept(signed_post, fake_line):
    uid = events.user_id(77)
    signed_post(events.payload(events.text("ฝุ่น PM2.5 อันตรายไหม", uid)))
    first = reply_texts(fake_line)
    assert "ลบข้อมูล" in first[0]  # the privacy notice comes first
    fake_line.reset()
    signed_post(events.payload(events.text("ฝุ่น PM2.5 อันตรายไหม", uid)))
    assert not any("ลบข้อมูล" in t for t in reply_texts(fake_line))  # and only once


def test_an_oversized_body_is_refused(client, app):
    body = b'{"events": [], "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    resp = client.post("/callback", data=body, headers={"X-Line-Signature": events.sign(body)})
    assert resp.status_code == 413
    assert count(app, ProcessedEvent) == 0


def test_event_ids_are_forgotten_after_a_month(app, signed_post):
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    app.extensions["deps"].clock = lambda: start
    signed_post(events.payload(events.text("สวัสดีค่ะ")))
    assert count(app, ProcessedEvent) == 1
    app.extensions["deps"].clock = lambda: start + timedelta(days=31)
    signed_post(events.payload(events.text("สวัสดีค่ะ")))
    assert count(app, ProcessedEvent) == 1  # the old id is gone, the new one kept


def test_a_mention_after_an_emoji_is_cut_out_whichever_way_line_counts(signed_post, fake_line, app):
    from bot.webhook import without_span

    text = "🌏🌏 @บอท ภาวะโลกร้อนคืออะไร"
    assert without_span(text, 3, 4) == "🌏🌏  ภาวะโลกร้อนคืออะไร"   # counted in characters
    assert without_span(text, 5, 4) == "🌏🌏  ภาวะโลกร้อนคืออะไร"   # counted in UTF-16 units
    e = events.group_text("ภาวะโลกร้อนคืออะไร", mention_bot=True)
    e["message"]["text"] = text
    e["message"]["mention"]["mentionees"][0].update(index=5, length=4)
    signed_post(events.payload(e))
    [reply] = fake_line.replies()
    assert "โลก" in reply["messages"][0]["text"]


def test_a_block_by_someone_the_bot_never_knew_stores_nothing(signed_post, app, fake_line):
    assert signed_post(events.payload(events.unfollow(events.user_id(88)))).status_code == 200
    assert count(app, User) == 0 and fake_line.calls == []


def test_a_message_of_a_kind_line_adds_later_gets_the_friendly_pointer(signed_post, fake_line):
    e = events.message({"type": "aBrandNewMessageType", "id": "7"})
    assert signed_post(events.payload(e)).status_code == 200
    [reply] = fake_line.replies()
    assert reply["replyToken"] == e["replyToken"] and reply["messages"][-1].get("quickReply")


@pytest.mark.parametrize("broken", [
    {"message": {"type": "text", "id": "1", "text": 42}},
    {"message": "hello"},
    {"source": ["U1"]},
    {"message": {"type": "location", "id": "1", "latitude": "north", "longitude": 98.9}},
], ids=["text-not-a-string", "message-not-an-object", "source-not-an-object", "latitude-not-a-number"])
def test_an_event_not_of_lines_shape_is_ignored_and_the_others_are_answered(signed_post, fake_line, app, broken):
    bad = {**events.text("ภาวะโลกร้อนคืออะไร", events.user_id(61)), **broken}
    good = events.text("ภาวะโลกร้อนคืออะไร", events.user_id(62))
    assert signed_post(events.payload(bad, good)).status_code == 200
    assert [r["replyToken"] for r in fake_line.replies()] == [good["replyToken"]]
    assert count(app, User) == 1
