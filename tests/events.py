"""Webhook payloads shaped like LINE's (../shared/line-openapi/webhook.yml), and their signing."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

SECRET = "test-channel-secret"
TOKEN = "test-channel-access-token"
BOT_USER_ID = "U" + "b" * 32


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_id(n: int = 1) -> str:
    return "U" + f"{n:032x}"


def _base(kind: str, uid: str | None, *, source: dict | None = None, redelivery: bool = False,
          event_id: str | None = None, reply: bool = True) -> dict:
    e = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": uid},
        "webhookEventId": event_id or ("01" + uuid.uuid4().hex[:24].upper()),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply:
        e["replyToken"] = uuid.uuid4().hex
    return e


def text(message: str, uid: str | None = None, **kw) -> dict:
    e = _base("message", uid or user_id(), **kw)
    e["message"] = {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": "q" + uuid.uuid4().hex,
                    "text": message}
    return e


def group_text(message: str, mention_bot: bool, uid: str | None = None, group_id: str = "C" + "9" * 32) -> dict:
    src = {"type": "group", "groupId": group_id, "userId": uid or user_id(7)}
    body = ("@บอท " if mention_bot else "") + message
    e = _base("message", None, source=src)
    e["message"] = {"type": "text", "id": "1", "quoteToken": "q", "text": body}
    if mention_bot:
        e["message"]["mention"] = {"mentionees": [
            {"index": 0, "length": 4, "type": "user", "userId": BOT_USER_ID, "isSelf": True}]}
    return e


def postback(data: str, uid: str | None = None, **kw) -> dict:
    e = _base("postback", uid or user_id(), **kw)
    e["postback"] = {"data": data}
    return e


def follow(uid: str | None = None, **kw) -> dict:
    e = _base("follow", uid or user_id(), **kw)
    e["follow"] = {"isUnblocked": False}
    return e


def unfollow(uid: str | None = None, **kw) -> dict:
    return _base("unfollow", uid or user_id(), reply=False, **kw)


def message(content: dict, uid: str | None = None, **kw) -> dict:
    e = _base("message", uid or user_id(), **kw)
    e["message"] = content
    return e


def other(kind: str, extra: dict, uid: str | None = None, source: dict | None = None, reply: bool = False) -> dict:
    e = _base(kind, uid or user_id(), source=source, reply=reply)
    e.update(extra)
    return e


def payload(*events: dict) -> dict:
    return {"destination": BOT_USER_ID, "events": list(events)}


def body_of(p: dict) -> bytes:
    return json.dumps(p, ensure_ascii=False).encode()
