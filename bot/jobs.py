"""Job: one kind of background work the worker runs (a name, how often, what it does).

Kept apart from bot/worker.py so the parts that declare jobs (campaigns, reminders, air) and the
worker that runs them all can import it without importing each other.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.deps import Deps


@dataclass
class Job:
    """One kind of background work."""

    name: str
    every: float  # seconds between runs
    run: Callable[[Deps, threading.Event], object]
    next_at: float = field(default=0.0, compare=False)
