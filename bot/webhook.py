"""POST /callback (LINE's webhook) and GET /healthz.

Each event is handled once: its webhookEventId goes into processed_events in the same
transaction as its effects, which commit before the 200. Replies go out afterwards from a
background thread, so a slow or hanging LINE API never holds the webhook's answer.

The signature is checked by the SDK's SignatureValidator on the raw body; the events are then
read as plain JSON, only the few fields a turn needs, each checked for its type (building the
SDK's pydantic event models cost more than the rest of the request). An event of a kind the bot
does not know, or one whose fields are not of LINE's shape, is ignored, as the SDK's parser
would make it an UnknownEvent.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue
from linebot.v3.webhook import SignatureValidator
from sqlalchemy import delete

from bot.deps import DatabaseDown, Deps, deps_of, run_turn
from bot.store.db import rowcount
from bot.store.models import ProcessedEvent
from bot.turn import Message, Turn

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


# LINE redelivers within hours; event ids are kept well beyond that, then forgotten.
KEEP_EVENT_IDS = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)

MEDIA = frozenset({"image", "video", "audio", "file"})


@dataclass
class Outcome:
    reply_token: str | None
    messages: list[Message]


def without_span(text: str, index: int, length: int) -> str:
    """text without the mention at index/length, counted in characters or in UTF-16 units.

    The two agree unless an emoji outside the Basic Multilingual Plane comes first; then the
    count whose span starts with "@" is the one LINE meant.
    """
    if text[index:index + 1] == "@" or text.isascii() or all(ord(ch) < 0x10000 for ch in text[:index + length]):
        return text[:index] + text[index + length:]
    units = text.encode("utf-16-le")
    head, span, tail = units[: 2 * index], units[2 * index: 2 * (index + length)], units[2 * (index + length):]
    if span.decode("utf-16-le", errors="replace").startswith("@"):
        return head.decode("utf-16-le", errors="replace") + tail.decode("utf-16-le", errors="replace")
    return text[:index] + text[index + length:]


def events_of(body: str) -> list[Mapping[str, Any]]:
    """The events of a verified webhook body; ValueError when the body is not LINE's shape."""
    payload = json.loads(body)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ValueError("not a webhook body")
    return events


class Malformed(Exception):
    """A field of an event is not of the type LINE's API gives it."""


def _obj(m: Mapping[str, Any], key: str, required: bool = False) -> Mapping[str, Any]:
    v = m.get(key)
    if isinstance(v, dict):
        return v
    if v is None and not required:
        return {}
    raise Malformed(key)


def _str(m: Mapping[str, Any], key: str, required: bool = False) -> str:
    v = m.get(key)
    if isinstance(v, str):
        return v
    if v is None and not required:
        return ""
    raise Malformed(key)


def _num(m: Mapping[str, Any], key: str) -> float:
    v = m.get(key)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise Malformed(key)


def _self_mentions(message: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(index, length) of each mention of the bot itself, last first."""
    mentionees = _obj(message, "mention").get("mentionees") or []
    if not isinstance(mentionees, list):
        raise Malformed("mentionees")
    spans = []
    for x in mentionees:
        if not isinstance(x, dict):
            raise Malformed("mentionee")
        if x.get("isSelf") is True:
            index, length = x.get("index"), x.get("length")
            if not isinstance(index, int) or not isinstance(length, int) or index < 0 or length < 0:
                raise Malformed("mentionee")
            spans.append((index, length))
    return sorted(spans, reverse=True)


def turn_for(event: Mapping[str, Any]) -> Turn | None:
    """The dialogue turn an event stands for, or None when the bot has nothing to do."""
    try:
        return _turn_for(event)
    except Malformed as e:
        log.info("webhook: ignored an event whose %s is not of LINE's shape", e)
        return None


def _turn_for(event: Mapping[str, Any]) -> Turn | None:
    source = _obj(event, "source")
    group = source.get("type") in ("group", "room")
    user_id = _str(source, "userId")
    kind = event.get("type")
    if kind == "follow":
        return Turn(user_id, "follow")
    if kind == "unfollow":
        return Turn(user_id, "unfollow")
    if kind == "join":
        return Turn("", "follow", group=True)
    if kind == "postback":
        return Turn(user_id, "postback", data=_str(_obj(event, "postback", required=True), "data", required=True),
                    group=group)
    if kind != "message":
        return None  # leave, member joined/left, unsend, beacon, types LINE adds later…
    m = _obj(event, "message", required=True)
    mtype = _str(m, "type", required=True)
    if mtype == "text":
        text = _str(m, "text", required=True)
        if group:
            mentioned = _self_mentions(m)
            if not mentioned:
                return None  # in groups the bot speaks only when spoken to
            for index, length in mentioned:
                text = without_span(text, index, length)
        return Turn(user_id, "text", text=text, group=group)
    if group:
        return None
    if mtype == "sticker":
        return Turn(user_id, "sticker")
    if mtype in MEDIA:
        return Turn(user_id, "media")
    if mtype == "location":
        return Turn(user_id, "location", latitude=_num(m, "latitude"), longitude=_num(m, "longitude"))
    return Turn(user_id, "other")  # a kind of message LINE adds later


def process_event(deps: Deps, event: Mapping[str, Any]) -> Outcome | None:
    """Handle one event exactly once; None when it was handled before or needs nothing."""
    if event.get("mode") == "standby":
        return None  # another channel is in control of this chat
    turn = turn_for(event)
    if turn is None:
        return None
    event_id = event.get("webhookEventId")
    messages = run_turn(deps, turn, event_id if isinstance(event_id, str) else None)
    if messages is None:
        return None
    reply_token = event.get("replyToken")
    return Outcome(reply_token if isinstance(reply_token, str) else None, messages)


class Pruner:
    """Forgets processed event ids older than KEEP_EVENT_IDS, at most once an hour per process."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    def __call__(self, deps: Deps) -> None:
        now = deps.clock()
        if self.last is not None and now - self.last < PRUNE_EVERY:
            return
        self.last = now
        prune_event_ids(deps, now)


def prune_event_ids(deps: Deps, now: datetime) -> None:
    """Forget processed event ids older than KEEP_EVENT_IDS."""
    try:
        with deps.db.session() as s:
            gone = s.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < now - KEEP_EVENT_IDS))
        if rowcount(gone):
            log.info("forgot %d processed event ids older than %s", rowcount(gone), KEEP_EVENT_IDS)
    except Exception as e:  # housekeeping must never fail a webhook
        log.warning("could not prune processed event ids (%s)", type(e).__name__)


@bp.post("/callback")
def callback() -> ResponseReturnValue:
    """LINE's webhook: verify, handle each event once, answer fast."""
    deps = deps_of()
    validator = current_app.extensions.get("line_signature")
    if validator is None:
        return jsonify(error="LINE_CHANNEL_SECRET is not set; the webhook accepts no requests"), 403
    signature = flask_request.headers.get("X-Line-Signature", "")
    if not signature:
        return jsonify(error="missing X-Line-Signature"), 400
    try:
        # Strict UTF-8: the SDK's validator signs body.encode("utf-8"), the very bytes LINE sent.
        body = flask_request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        log.info("webhook: body is not UTF-8")
        return jsonify(error="malformed body"), 400
    if not validator.validate(body, signature):
        log.info("webhook: invalid signature")
        return jsonify(error="invalid signature"), 400
    try:
        events = events_of(body)
    except (ValueError, RecursionError) as e:  # a signed but malformed body
        log.info("webhook: malformed body (%s)", type(e).__name__)
        return jsonify(error="malformed body"), 400
    outcomes: list[Outcome] = []
    status = 200
    for event in events:
        try:
            outcome = process_event(deps, event)
        except DatabaseDown:
            log.error("webhook: database unavailable; answering 503 so LINE redelivers")
            status = 503
            break
        if outcome and outcome.reply_token and outcome.messages:
            outcomes.append(outcome)
    for o in outcomes:
        assert o.reply_token is not None
        deps.line.reply_later(o.reply_token, o.messages)
    if status != 200:
        return jsonify(error="database unavailable"), status
    current_app.extensions["event_pruner"](deps)
    log.debug("webhook: %d events, %d replies", len(events), len(outcomes))
    return "OK", 200


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers."""
    try:
        deps_of().db.ping()
    except Exception as e:
        log.error("healthz: database unavailable (%s)", type(e).__name__)
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok"), 200


def init_app(app: Flask) -> None:
    """The webhook's routes and its housekeeping."""
    secret = app.config["LINE_CHANNEL_SECRET"]
    app.extensions["line_signature"] = SignatureValidator(secret) if secret else None
    app.extensions["event_pruner"] = Pruner()
    app.register_blueprint(bp)
