"""The fake LINE server behaves like LINE for the real line-bot-sdk v3 client."""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

try:
    from fakeline import FakeLine, make_user_id, png_bytes
except ImportError:  # tests/ imported as a package
    from tests.fakeline import FakeLine, make_user_id, png_bytes

TOKEN = "test-channel-access-token"


@pytest.fixture
def fake():
    with FakeLine(token=TOKEN) as f:
        yield f


def make_api(fake: FakeLine, token: str = TOKEN) -> MessagingApi:
    """As the project does it: MessagingApi ignores Configuration.host, so set line_base_path."""
    api = MessagingApi(ApiClient(Configuration(access_token=token)))
    api.line_base_path = fake.url
    return api


@pytest.fixture
def api(fake):
    return make_api(fake)


def raw(fake: FakeLine, method: str, path: str, body=None, headers=None, token=TOKEN):
    """Plain HTTP, for bodies the SDK's own pydantic models would refuse to build."""
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body))
    r = urllib3.request(method, fake.url + path, body=data, headers=h, retries=False)
    return r.status, (r.json() if r.data and "json" in r.headers.get("content-type", "")
                      else r.data), r.headers


def text(t: str) -> TextMessage:
    return TextMessage(text=t)


# ---------------------------------------------------------------------------------- reply
def test_reply_reaches_the_user_with_sent_message_ids(fake, api):
    user = make_user_id("somchai")
    token = fake.issue_reply_token(user)
    resp = api.reply_message(ReplyMessageRequest(reply_token=token,
                                                 messages=[text("สวัสดีครับ"), text("ลดคาร์บอน")]))
    assert len(resp.sent_messages) == 2 and all(m.id for m in resp.sent_messages)
    assert fake.replies()[0]["replyToken"] == token
    assert fake.delivered_texts(user) == ["สวัสดีครับ", "ลดคาร์บอน"]
    assert fake.quota_used == 0  # replies are free


def test_reply_token_is_single_use(fake, api):
    req = ReplyMessageRequest(reply_token="any-webhook-token", messages=[text("hi")])
    api.reply_message(req)
    with pytest.raises(ApiException) as e:
        api.reply_message(req)
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == "Invalid reply token"
    assert e.value.headers["x-line-request-id"]
    assert len(fake.replies()) == 1


def test_strict_reply_tokens_refuse_unknown_tokens():
    with FakeLine(token=TOKEN, strict_reply_tokens=True) as fake:
        api = make_api(fake)
        with pytest.raises(ApiException) as e:
            api.reply_message(ReplyMessageRequest(reply_token="made-up", messages=[text("x")]))
        assert e.value.status == 400
        api.reply_message(ReplyMessageRequest(reply_token=fake.issue_reply_token(),
                                              messages=[text("x")]))
        assert len(fake.replies()) == 1


def test_too_many_messages_rejected_by_sdk_and_by_server(fake, api):
    six = [text(str(i)) for i in range(6)]
    with pytest.raises(Exception):  # the SDK's pydantic model already refuses
        ReplyMessageRequest(reply_token="t", messages=six)
    # a client that bypasses the model gets LINE's 400 with details
    with pytest.raises(ApiException) as e:
        api.reply_message(ReplyMessageRequest.construct(reply_token="t", messages=six))
    body = json.loads(e.value.body)
    assert e.value.status == 400
    assert body["message"] == "The request body has 1 error(s)"
    assert body["details"] == [{"message": "Size must be between 1 and 5",
                                "property": "messages"}]
    assert fake.replies() == []


def test_retry_key_on_reply_is_rejected(fake, api):
    with pytest.raises(ApiException) as e:
        api.reply_message(ReplyMessageRequest(reply_token="t", messages=[text("x")]),
                          _headers={"X-Line-Retry-Key": str(uuid.uuid4())})
    assert e.value.status == 400
    assert fake.replies() == []


LONG = "ก" * 5001
LIMIT_CASES = [
    ({"type": "text", "text": LONG}, "messages[0].text"),
    ({"type": "text"}, "messages[0].text"),
    ({"type": "bogus", "text": "x"}, "messages[0].type"),
    ({"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "message", "label": "l", "text": "t"}}] * 14}},
     "messages[0].quickReply.items"),
    ({"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "message", "label": "ป" * 21, "text": "t"}}]}},
     "messages[0].quickReply.items[0].action.label"),
    ({"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "ok", "data": "d" * 301}}]}},
     "messages[0].quickReply.items[0].action.data"),
    ({"type": "flex", "altText": "a" * 1501, "contents": {"type": "bubble"}},
     "messages[0].altText"),
    ({"type": "flex", "altText": "a"}, "messages[0].contents"),
]


@pytest.mark.parametrize("message,prop", LIMIT_CASES)
def test_message_limits_answer_400_with_property(fake, message, prop):
    status, body, headers = raw(fake, "POST", "/v2/bot/message/push",
                                {"to": make_user_id(1), "messages": [message]})
    assert status == 400, body
    assert prop in [d["property"] for d in body["details"]]
    assert headers["x-line-request-id"]
    assert fake.pushes() == []


def test_limits_at_the_boundary_are_accepted(fake):
    qr = {"items": [{"type": "action", "action": {"type": "postback", "label": "ป" * 20,
                                                   "data": "d" * 300}}] * 13}
    msgs = [{"type": "text", "text": "ก" * 5000, "quickReply": qr},
            {"type": "flex", "altText": "a" * 1500, "contents": {"type": "bubble"}}]
    status, body, _ = raw(fake, "POST", "/v2/bot/message/push",
                          {"to": make_user_id(1), "messages": msgs})
    assert status == 200, body
    assert len(body["sentMessages"]) == 2


# ----------------------------------------------------------------------- push / multicast
def test_multicast_retry_key_second_time_409_and_delivered_once(fake, api):
    users = [make_user_id(i) for i in range(3)]
    key = str(uuid.uuid4())
    req = MulticastRequest(to=users, messages=[text("ชวนปลูกต้นไม้")])
    first = api.multicast_with_http_info(req, x_line_retry_key=key)
    assert first.status_code == 200
    with pytest.raises(ApiException) as e:
        api.multicast(req, x_line_retry_key=key)
    assert e.value.status == 409
    assert json.loads(e.value.body)["message"] == "The retry key is already accepted"
    assert e.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert len(fake.multicasts()) == 1
    for u in users:
        assert fake.delivered_texts(u) == ["ชวนปลูกต้นไม้"]
    assert fake.quota_used == 3


def test_push_accepted_then_500_retry_gets_409_with_sent_messages(fake, api):
    user = make_user_id("noi")
    key = str(uuid.uuid4())
    fake.fail_after_accept_next("push")
    req = PushMessageRequest(to=user, messages=[text("เตือนคัดแยกขยะ")])
    with pytest.raises(ApiException) as e:
        api.push_message(req, x_line_retry_key=key)
    assert e.value.status == 500
    with pytest.raises(ApiException) as e:
        api.push_message(req, x_line_retry_key=key)
    assert e.value.status == 409
    assert len(json.loads(e.value.body)["sentMessages"]) == 1
    assert fake.delivered_texts(user) == ["เตือนคัดแยกขยะ"]


def test_failure_before_accept_lets_the_retry_through(fake, api):
    user = make_user_id("dao")
    key = str(uuid.uuid4())
    fake.fail_next("multicast", status=503)
    req = MulticastRequest(to=[user], messages=[text("x")])
    with pytest.raises(ApiException) as e:
        api.multicast(req, x_line_retry_key=key)
    assert e.value.status == 503
    api.multicast(req, x_line_retry_key=key)
    assert fake.delivered_texts(user) == ["x"]


def test_retry_key_must_be_a_uuid(fake, api):
    with pytest.raises(ApiException) as e:
        api.push_message(PushMessageRequest(to=make_user_id(1), messages=[text("x")]),
                         x_line_retry_key="not-a-uuid")
    assert e.value.status == 400
    assert fake.pushes() == []


def test_multicast_over_500_recipients_rejected(fake):
    status, body, _ = raw(fake, "POST", "/v2/bot/message/multicast",
                          {"to": [make_user_id(i) for i in range(501)],
                           "messages": [{"type": "text", "text": "x"}]})
    assert status == 400
    assert {"message": "Size must be between 1 and 500", "property": "to"} in body["details"]


def test_burst_beyond_rate_limit_gets_429(fake, api):
    fake.rate_limit("multicast", per_second=2)
    users = [make_user_id(i) for i in range(20)]

    def send(u):
        try:
            api.multicast(MulticastRequest(to=[u], messages=[text("x")]))
            return 200, None
        except ApiException as e:
            return e.status, json.loads(e.body)["message"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, users))
    limited = [r for r in results if r[0] == 429]
    assert limited, results
    assert all(m == "The API rate limit has been exceeded. Try again later."
               for _, m in limited)
    ok = sum(1 for s, _ in results if s == 200)
    assert len(fake.multicasts()) == ok and ok >= 1


def test_many_concurrent_multicasts_all_recorded(fake, api):
    def send(i):
        api.multicast(MulticastRequest(to=[make_user_id(i)], messages=[text(str(i))]),
                      x_line_retry_key=str(uuid.uuid4()))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, range(300)))
    assert len(fake.multicasts()) == 300
    assert fake.delivered_texts(make_user_id(123)) == ["123"]


def test_hanging_request_times_out_client_and_stop_is_prompt():
    fake = FakeLine(token=TOKEN).start()
    api = make_api(fake)
    fake.hang_next("push", seconds=30)
    t0 = time.monotonic()
    with pytest.raises((urllib3.exceptions.HTTPError, ApiException)):
        api.push_message(PushMessageRequest(to=make_user_id(1), messages=[text("x")]),
                         _request_timeout=0.5)
    assert time.monotonic() - t0 < 10  # far below the 30 s hang
    fake.hang_next("push", seconds=30)

    def hung_client():
        try:
            raw(fake, "POST", "/v2/bot/message/push",
                {"to": make_user_id(1), "messages": [{"type": "text", "text": "x"}]})
        except urllib3.exceptions.HTTPError:
            pass  # the server closes the connection on stop()
    threading.Thread(target=hung_client, daemon=True).start()
    deadline = time.monotonic() + 5
    while len(fake.calls_to("push")) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fake.calls_to("push")) == 2  # both requests are now hanging in the server
    t0 = time.monotonic()
    fake.stop()
    assert time.monotonic() - t0 < 10
    assert fake.pushes() == []  # cut short by stop: nothing delivered


def test_reset_drops_a_hanging_request_so_it_never_delivers_later(fake):
    fake.hang_next("push", seconds=30)
    done = threading.Event()

    def hung_client():
        try:
            raw(fake, "POST", "/v2/bot/message/push",
                {"to": make_user_id(1), "messages": [{"type": "text", "text": "late"}]})
        except urllib3.exceptions.HTTPError:
            pass
        done.set()
    threading.Thread(target=hung_client, daemon=True).start()
    deadline = time.monotonic() + 5
    while not fake.calls_to("push") and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.reset()
    assert done.wait(10)  # the connection was closed instead of answered 30 s later
    assert fake.pushes() == [] and fake.delivered(make_user_id(1)) == []


def test_auth_failures_are_401(fake):
    with pytest.raises(ApiException) as e:
        make_api(fake, token="wrong").get_bot_info()
    assert e.value.status == 401
    assert json.loads(e.value.body)["message"].startswith("Authentication failed")
    status, body, _ = raw(fake, "GET", "/v2/bot/info", token=None)
    assert status == 401 and "Authorization" in body["message"]


# ---------------------------------------------------------------------------------- quota
def test_quota_endpoints_and_monthly_limit(fake, api):
    assert api.get_message_quota().type == "none"
    fake.set_quota(1000, used=998)
    q = api.get_message_quota()
    assert (q.type, q.value) == ("limited", 1000)
    assert api.get_message_quota_consumption().total_usage == 998
    with pytest.raises(ApiException) as e:  # 3 recipients = 3 messages > 2 left
        api.multicast(MulticastRequest(to=[make_user_id(i) for i in range(3)],
                                       messages=[text("a"), text("b")]))
    assert e.value.status == 429
    assert json.loads(e.value.body)["message"] == "You have reached your monthly limit."
    api.multicast(MulticastRequest(to=[make_user_id(1), make_user_id(2)],
                                   messages=[text("a"), text("b")]))
    assert api.get_message_quota_consumption().total_usage == 1000
    assert fake.delivered_texts(make_user_id(1)) == ["a", "b"]


# ------------------------------------------------------------------------------ rich menu
def richmenu_request(height=1686, areas=1):
    return RichMenuRequest.from_dict({
        "size": {"width": 2500, "height": height}, "selected": True,
        "name": "main", "chatBarText": "เมนู",
        "areas": [{"bounds": {"x": 0, "y": 0, "width": 100, "height": 100},
                   "action": {"type": "postback", "data": "a=menu"}}] * areas})


def test_richmenu_create_upload_set_default(fake, api):
    blob = MessagingApiBlob(ApiClient(Configuration(access_token=TOKEN, host=fake.url)))
    api.validate_rich_menu_object(richmenu_request())
    rid = api.create_rich_menu(richmenu_request()).rich_menu_id
    assert rid.startswith("richmenu-")
    with pytest.raises(ApiException) as e:  # LINE refuses a default menu without image
        api.set_default_rich_menu(rid)
    assert e.value.status == 400
    blob.set_rich_menu_image(rid, png_bytes(2500, 1686), _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(rid)
    assert api.get_default_rich_menu_id().rich_menu_id == rid
    assert [m.rich_menu_id for m in api.get_rich_menu_list().richmenus] == [rid]
    assert fake.default_richmenu == rid
    assert fake.richmenu_image(rid)[0] == "image/png"


def test_richmenu_invalid_size_areas_and_image(fake, api):
    with pytest.raises(ApiException) as e:
        api.create_rich_menu(richmenu_request(height=2000))
    assert e.value.status == 400
    with pytest.raises(ApiException) as e:
        api.create_rich_menu(richmenu_request(areas=21))
    assert json.loads(e.value.body)["details"][0]["property"] == "areas"
    rid = api.create_rich_menu(richmenu_request(height=843)).rich_menu_id
    status, _, _ = raw(fake, "POST", f"/v2/bot/richmenu/{rid}/content",
                       png_bytes(2500, 1686), {"Content-Type": "image/png"})
    assert status == 400  # image must match the menu's size
    status, _, _ = raw(fake, "POST", f"/v2/bot/richmenu/{rid}/content",
                       png_bytes(2500, 843), {"Content-Type": "image/gif"})
    assert status == 415
    status, _, _ = raw(fake, "POST", f"/v2/bot/richmenu/{rid}/content",
                       b"\x89PNG" + b"0" * (1024 * 1024 + 1), {"Content-Type": "image/png"})
    assert status == 413
    assert fake.richmenu_image(rid) is None


def test_blob_api_ignores_its_line_base_path(monkeypatch):
    """Documents an SDK trap: MessagingApiBlob.line_base_path is unused, it goes to
    api-data.line.me unless Configuration.host is set."""
    seen = []

    def capture(self, method, url, *a, **kw):
        seen.append(url)
        raise RuntimeError("stop")
    monkeypatch.setattr(ApiClient, "request", capture)
    blob = MessagingApiBlob(ApiClient(Configuration(access_token=TOKEN)))
    blob.line_base_path = "http://127.0.0.1:9"
    with pytest.raises(RuntimeError):
        blob.set_rich_menu_image("richmenu-x", b"x", _headers={"Content-Type": "image/png"})
    assert seen[0].startswith("https://api-data.line.me/")


# ----------------------------------------------------------------------- other endpoints
def test_profile_bot_info_loading(fake, api):
    user = make_user_id("kaew")
    fake.add_user(user, "แก้ว")
    assert api.get_profile(user).display_name == "แก้ว"
    assert api.get_bot_info().chat_mode == "bot"
    api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=user, loading_seconds=10))
    status, body, _ = raw(fake, "POST", "/v2/bot/chat/loading/start",
                          {"chatId": user, "loadingSeconds": 7})
    assert status == 400 and body["details"][0]["property"] == "loadingSeconds"


def test_broadcast_reaches_friends_only(fake, api):
    from linebot.v3.messaging import BroadcastRequest
    friend, stranger = make_user_id("a"), make_user_id("b")
    fake.add_user(friend)
    api.broadcast(BroadcastRequest(messages=[text("วันคาร์บอนต่ำ")]))
    assert fake.delivered_texts(friend) == ["วันคาร์บอนต่ำ"]
    assert fake.delivered(stranger) == []


def test_unknown_path_is_404_json_with_request_id(fake):
    status, body, headers = raw(fake, "GET", "/v2/bot/nope")
    assert status == 404 and body["message"]
    assert headers["x-line-request-id"]


def test_reset_forgets_everything(fake, api):
    api.push_message(PushMessageRequest(to=make_user_id(1), messages=[text("x")]))
    fake.set_quota(10, 5)
    fake.reset()
    assert fake.calls == [] and fake.pushes() == [] and fake.quota_used == 0
    assert api.get_message_quota().type == "none"
