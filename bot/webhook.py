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
from sqlalchemy import delete, insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot import dialogue
from bot.store.models import ProcessedEvent, User

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


# LINE redelivers within hours; event ids are kept well beyond that, then forgotten.
KEEP_EVENT_IDS = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)


class DatabaseDown(Exception):
    """The database did not answer: LINE should redeliver later."""


@dataclass
class Outcome:
    reply_token: str | None
    messages: list[dict]


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


def turn_for(event: Any) -> dialogue.Turn | None:
    """The dialogue turn an event stands for, or None when the bot has nothing to do."""
    source = event.source
    group = source is not None and getattr(source, "type", "user") in ("group", "room")
    user_id = getattr(source, "user_id", None) or ""
    if isinstance(event, FollowEvent):
        return dialogue.Turn(user_id, "follow")
    if isinstance(event, UnfollowEvent):
        return dialogue.Turn(user_id, "unfollow")
    if isinstance(event, JoinEvent):
        return dialogue.Turn("", "follow", group=True)
    if isinstance(event, PostbackEvent):
        return dialogue.Turn(user_id, "postback", data=event.postback.data or "", group=group)
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
        return dialogue.Turn(user_id, "text", text=text, group=group)
    if group:
        return None
    if isinstance(m, StickerMessageContent):
        return dialogue.Turn(user_id, "sticker")
    if isinstance(m, (ImageMessageContent, VideoMessageContent, AudioMessageContent, FileMessageContent)):
        return dialogue.Turn(user_id, "media")
    if isinstance(m, LocationMessageContent):
        return dialogue.Turn(user_id, "location")
    return dialogue.Turn(user_id, "other")


def process_event(app: Flask, event: Any) -> Outcome | None:
    """Handle one event exactly once; None when it was handled before or needs nothing."""
    if getattr(event, "mode", None) == "standby":
        return None  # another channel is in control of this chat
    turn = turn_for(event)
    event_id = getattr(event, "webhook_event_id", None)
    if turn is None and event_id is None:
        return None
    reply_token = getattr(event, "reply_token", None)
    db = app.extensions["db"]
    for attempt in (1, 2):
        try:
            with db.session() as session:
                now = app.extensions["clock"]()
                if event_id:
                    try:
                        session.execute(insert(ProcessedEvent).values(webhook_event_id=event_id, processed_at=now))
                    except IntegrityError:
                        session.rollback()
                        log.info("event %s already handled; skipped", event_id)
                        return None
                if turn is None or (not turn.group and not turn.user_id):
                    return None
                if turn.group:
                    user = User(line_user_id="")  # never added to the session: nothing stored
                elif turn.kind == "unfollow" and dialogue.find_user(session, turn.user_id) is None:
                    return None  # someone we never knew blocked us: nothing to keep
                else:
                    user = dialogue.load_user(session, turn.user_id, now)
                ctx = dialogue.Ctx(session=session, content=app.extensions["content"],
                                   matcher=app.extensions["matcher"], now=now, user=user)
                messages = dialogue.handle(turn, ctx)
            return Outcome(reply_token, messages)
        except IntegrityError:
            # Two deliveries of the same tap racing: the loser runs again and sees the winner's work.
            if attempt == 2:
                log.exception("event %s: conflict persisted", event_id)
                break
        except (OperationalError, DBAPIError) as e:
            if isinstance(e, DBAPIError) and not isinstance(e, OperationalError) and not e.connection_invalidated:
                log.exception("event %s: database error", event_id)
                break
            raise DatabaseDown() from e
        except Exception:
            log.exception("event %s (%s) failed", event_id, getattr(event, "type", "?"))
            break
    content = app.extensions["content"]
    return Outcome(reply_token, [{"type": "text", "text": content.text("core.error_sorry")}])


def prune_event_ids(app: Flask) -> None:
    """Forget processed event ids older than KEEP_EVENT_IDS, at most once an hour per process."""
    now: datetime = app.extensions["clock"]()
    last = app.extensions.get("events_pruned_at")
    if last is not None and now - last < PRUNE_EVERY:
        return
    app.extensions["events_pruned_at"] = now
    try:
        with app.extensions["db"].session() as s:
            gone = s.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < now - KEEP_EVENT_IDS))
        if gone.rowcount:
            log.info("forgot %d processed event ids older than %s", gone.rowcount, KEEP_EVENT_IDS)
    except Exception as e:  # housekeeping must never fail a webhook
        log.warning("could not prune processed event ids (%s)", type(e).__name__)


@bp.post("/callback")
def callback():  # type: ignore[no-untyped-def]
    """LINE's webhook: verify, handle each event once, answer fast."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    parser = app.extensions.get("webhook_parser")
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
            outcome = process_event(app, event)
        except DatabaseDown:
            log.error("webhook: database unavailable; answering 503 so LINE redelivers")
            status = 503
            break
        if outcome and outcome.reply_token and outcome.messages:
            outcomes.append(outcome)
    line = app.extensions["line"]
    for o in outcomes:
        line.reply_later(o.reply_token, o.messages)
    if status == 200:
        prune_event_ids(app)
    log.info("webhook: %d events, %d replies, status %d", len(payload.events), len(outcomes), status)
    if status != 200:
        return jsonify(error="database unavailable"), status
    return "OK", 200


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 when the database answers."""
    try:
        current_app.extensions["db"].ping()
    except Exception as e:
        log.error("healthz: database unavailable (%s)", type(e).__name__)
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok"), 200
