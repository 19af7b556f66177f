"""The app's dependencies as one typed object, and run_turn(): the one way a turn is handled.

The webhook, the terminal chat and the tests all call run_turn, so a turn is committed the
same way whichever door it came in by. Tests replace deps.clock (or any other field) instead
of patching modules.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bot import dialogue
from bot.botinfo import BasicId
from bot.clock import utcnow
from bot.content.model import Content, Contents
from bot.line import LineClient
from bot.nlu.matcher import Matcher
from bot.nlu.normalize import fold_width
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.db import Database
from bot.store.events import claim_event
from bot.store.models import User
from bot.store.users import find_user, load_user
from bot.turn import Ctx, Message, Turn

log = logging.getLogger(__name__)


class DatabaseDown(Exception):
    """The database did not answer: LINE should redeliver later."""


@dataclass
class Deps:
    """Everything the bot's parts use, built once in create_app."""

    db: Database
    contents: Contents
    matcher: Matcher
    line: LineClient
    registry: Registry
    config: Mapping[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    monotonic: Callable[[], float] = time.monotonic
    # None: a real sleep (which a campaign's stop request cuts short).
    sleep: Callable[[float], object] | None = None
    # The bot's basic id for shared add-friend links (bot/botinfo.py); None: not available.
    basic_id: BasicId | None = None

    @property
    def content(self) -> Content:
        """The Thai view of the content (the office's tools, checks)."""
        return self.contents.th


def deps_of(app: Flask | None = None) -> Deps:
    """The Deps of app (default: the current app)."""
    deps = (app or current_app).extensions["deps"]
    assert isinstance(deps, Deps)
    return deps


class PrefetchedMatcher:
    """The matcher, with its reading of one turn's words worked out before the transaction.

    On SQLite every transaction holds the database's one write lock, so the few hundred
    microseconds of tokenising and scoring are better spent before taking it; the dialogue asks
    classify() for the same words and gets the answer at once. Any other question, or other
    words, goes to the matcher itself.
    """

    def __init__(self, matcher: Matcher, text: str) -> None:
        self._matcher, self._text, self._match = matcher, text, matcher.classify(text)

    def classify(self, text: str) -> Match:
        return self._match if text == self._text else self._matcher.classify(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._matcher, name)


def matcher_for(deps: Deps, turn: Turn) -> Matcher:
    """The matcher a turn's handlers use: prefetched for typed words (as the dialogue folds them)."""
    if turn.kind == "text" and turn.text.strip():
        try:
            return cast(Matcher, PrefetchedMatcher(deps.matcher, fold_width(turn.text)))
        except Exception:  # noqa: S110 (the dialogue meets the same failure and answers with an apology)
            pass
    return deps.matcher


def run_turn(deps: Deps, turn: Turn, event_id: str | None = None) -> list[Message] | None:
    """Handle one turn in one transaction, with its event id when it has one (so it runs once).

    None when the event was handled before or needs nothing. Raises DatabaseDown when the
    database does not answer; any other failure answers the resident with an apology.
    """
    matcher = matcher_for(deps, turn)
    for attempt in (1, 2):
        try:
            with deps.db.session() as session:
                now = deps.clock()
                if event_id and not claim_event(session, event_id, now):
                    log.info("event %s already handled; skipped", event_id)
                    return None
                if not turn.group and not turn.user_id:
                    return None
                if turn.group:
                    user = User(line_user_id="")  # never added to the session: nothing stored
                elif turn.kind == "unfollow" and find_user(session, turn.user_id) is None:
                    return None  # someone we never knew blocked us: nothing to keep
                else:
                    user = load_user(session, turn.user_id, now)
                ctx = Ctx(session=session, contents=deps.contents, matcher=matcher, registry=deps.registry,
                          now=now, user=user, content=deps.contents.th,
                          basic_id=deps.basic_id.get() if deps.basic_id else None)
                return dialogue.handle(turn, ctx)
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
            log.exception("event %s (%s) failed", event_id, turn.kind)
            break
    return [{"type": "text", "text": deps.contents.th.text("core.error_sorry")}]
