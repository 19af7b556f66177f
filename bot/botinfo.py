"""The bot's own LINE basic id, for the add-friend link residents share.

From the LINE_BOT_BASIC_ID setting, or read once from LINE's bot info in a background thread the
first time it is needed: a webhook turn never waits for LINE. Until it is known, shared
invitations name the account instead of linking to it.
"""
from __future__ import annotations

import logging
import os
import threading

from bot.line import LineClient

log = logging.getLogger(__name__)


class BasicId:
    """The basic id, configured or looked up once per process (lookups are not repeated on failure
    more often than every retry_after seconds)."""

    def __init__(self, configured: str, line: LineClient, retry_after: float = 600.0) -> None:
        self.configured = configured.strip()
        self.line = line
        self.retry_after = retry_after
        self._value: str | None = None
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._pid: int | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> str | None:
        """The basic id if known now; otherwise starts the background lookup and answers None."""
        if self.configured:
            return self.configured
        if self._value:
            return self._value
        import time

        with self._lock:
            now = time.monotonic()
            fresh_process = self._pid != os.getpid()  # threads do not survive gunicorn's fork
            if fresh_process or self._started_at is None or now - self._started_at >= self.retry_after:
                self._pid, self._started_at = os.getpid(), now
                self._thread = threading.Thread(target=self._look_up, name="line-bot-info", daemon=True)
                self._thread.start()
        return None

    def wait(self, timeout: float = 5.0) -> str | None:
        """For tests and commands: the lookup's result, waiting for it at most timeout seconds."""
        if self.get() is None and self._thread is not None:
            self._thread.join(timeout)
        return self.configured or self._value

    def _look_up(self) -> None:
        value = self.line.basic_id()
        if value:
            self._value = value
            log.info("the bot's basic id is known")
