"""Where flows declare which intents, postbacks and conversation states they answer.

The dialogue core looks handlers up here; modules register themselves with the decorators
when bot.handlers imports them, so the core never imports a flow directly.
"""
from __future__ import annotations

from typing import Callable

INTENTS: dict[str, Callable] = {}
POSTBACKS: dict[str, Callable] = {}
STATES: dict[str, Callable] = {}


def _register(table: dict[str, Callable], keys: tuple[str, ...]) -> Callable[[Callable], Callable]:
    def deco(fn: Callable) -> Callable:
        for key in keys:
            if key in table and table[key] is not fn:
                raise ValueError(f"{key!r} is already handled by {table[key].__qualname__}")
            table[key] = fn
        return fn

    return deco


def on_intent(*intents: str) -> Callable[[Callable], Callable]:
    """Register fn(turn, ctx, match) -> messages for these intent ids."""
    return _register(INTENTS, intents)


def on_postback(*actions: str) -> Callable[[Callable], Callable]:
    """Register fn(turn, ctx, params) -> messages for postback data "a=<action>&…"."""
    return _register(POSTBACKS, actions)


def on_state(*states: str) -> Callable[[Callable], Callable]:
    """Register fn(turn, ctx) -> messages | None for a text typed while the user is in a state."""
    return _register(STATES, states)
