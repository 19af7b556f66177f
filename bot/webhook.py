"""POST /callback (LINE's webhook) and GET /healthz.

Each event is handled once: its webhookEventId goes into processed_events in the same
transaction as its effects, which commit before the 200. Replies go out afterwards from a
background thread, so a slow or hanging LINE API never holds the webhook's answer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    AudioMessageContent,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    JoinEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    VideoMessageContent,
)
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


def turn_for(event: Any) -> Turn | None:
    """The dialogue turn an event stands for, or None when the bot has nothing to do."""
    source = event.source
    group = source is not None and getattr(source, "type", "user") in ("group", "room")
    user_id = getattr(source, "user_id", None) or ""
    if isinstance(event, FollowEvent):
        return Turn(user_id, "follow")
    if isinstance(event, UnfollowEvent):
        return Turn(user_id, "unfollow")
    if isinstance(event, JoinEvent):
        return Turn("", "follow", group=True)
    if isinstance(event, PostbackEvent):
        return Turn(user_id, "postback", data=event.postback.data or "", group=group)
    if not isinstance(event, MessageEvent):
        return None  # leave, member joined/left, unsend, beacon, types LINE adds later…
    m = event.message
    if isinstance(m, TextMessageContent):
        text = m.text or ""
        if group:
            mentioned = [x for x in ((m.mention.mentionees if m.mention else None) or [])
                         if getattr(x, "is_self", False)]
            if not mentioned:
                return None  # in groups the bot speaks only when spoken to
            for x in sorted(mentioned, key=lambda x: x.index, reverse=True):
                text = without_span(text, x.index, x.length)
        return Turn(user_id, "text", text=text, group=group)
    if group:
        return None
    if isinstance(m, StickerMessageContent):
        return Turn(user_id, "sticker")
    if isinstance(m, (ImageMessageContent, VideoMessageContent, AudioMessageContent, FileMessageContent)):
        return Turn(user_id, "media")
    if isinstance(m, LocationMessageContent):
        return Turn(user_id, "location", latitude=m.latitude, longitude=m.longitude)
    return Turn(user_id, "other")


def process_event(deps: Deps, event: Any) -> Outcome | None:
    """Handle one event exactly once; None when it was handled before or needs nothing."""
    if getattr(event, "mode", None) == "standby":
        return None  # another channel is in control of this chat
    turn = turn_for(event)
    if turn is None:
        return None
    messages = run_turn(deps, turn, getattr(event, "webhook_event_id", None))
    if messages is None:
        return None
    return Outcome(getattr(event, "reply_token", None), messages)


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
    parser = current_app.extensions.get("webhook_parser")
    if parser is None:
        return jsonify(error="LINE_CHANNEL_SECRET is not set; the webhook accepts no requests"), 403
    signature = flask_request.headers.get("X-Line-Signature", "")
    if not signature:
        return jsonify(error="missing X-Line-Signature"), 400
    body = flask_request.get_data(as_text=True)
    try:
        payload = parser.parse(body, signature, as_payload=True)
    except InvalidSignatureError:
        log.info("webhook: invalid signature")
        return jsonify(error="invalid signature"), 400
    except Exception as e:  # a signed but malformed body
        log.info("webhook: malformed body (%s)", type(e).__name__)
        return jsonify(error="malformed body"), 400
    outcomes: list[Outcome] = []
    status = 200
    for event in payload.events:
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
    if status == 200:
        current_app.extensions["event_pruner"](deps)
    log.info("webhook: %d events, %d replies, status %d", len(payload.events), len(outcomes), status)
    if status != 200:
        return jsonify(error="database unavailable"), status
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
    from linebot.v3 import WebhookParser

    secret = app.config["LINE_CHANNEL_SECRET"]
    app.extensions["webhook_parser"] = WebhookParser(secret) if secret else None
    app.extensions["event_pruner"] = Pruner()
    app.register_blueprint(bp)
