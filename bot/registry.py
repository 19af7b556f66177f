"""Where flows declare the intents, postbacks and conversation states they answer.

Each flow module has a `register(registry)` that create_app calls, so the dialogue core never
imports a flow and every handler is found by the name it answers.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.turn import Ctx, Message, Turn

if TYPE_CHECKING:
    from bot.nlu.readings import Match


class IntentHandler(Protocol):
    def __call__(self, turn: Turn, ctx: Ctx, match: Match, /) -> list[Message]: ...


class ContextReader(Protocol):
    """Reads a message as the next turn of the conversation; None when it is not about it."""

    def __call__(self, turn: Turn, ctx: Ctx, match: Match, /) -> list[Message] | None: ...


class PostbackHandler(Protocol):
    def __call__(self, turn: Turn, ctx: Ctx, params: dict[str, str], /) -> list[Message]: ...


class TurnHandler(Protocol):
    """Answers a turn before the matcher reads it (a text hook), or a kind of turn (a location…);
    None lets the dialogue go on as usual."""

    def __call__(self, turn: Turn, ctx: Ctx, /) -> list[Message] | None: ...


class StateHandler(Protocol):
    """Answers text typed while the resident is in a state; None hands the text to the matcher."""

    def __call__(self, turn: Turn, ctx: Ctx, /) -> list[Message] | None: ...


H = TypeVar("H", bound=Callable[..., object])


class Registry:
    """The handlers of one app, by intent id, postback action and state name."""

    def __init__(self) -> None:
        self.intents: dict[str, IntentHandler] = {}
        self.postbacks: dict[str, PostbackHandler] = {}
        self.states: dict[str, StateHandler] = {}
        self.text_hooks: list[TurnHandler] = []
        self.first_hooks: list[TurnHandler] = []
        self.kinds: dict[str, TurnHandler] = {}
        self.topic_answer: IntentHandler | None = None
        self.context_reader: ContextReader | None = None

    @staticmethod
    def _add(table: dict[str, H], keys: tuple[str, ...], fn: H) -> None:
        for key in keys:
            if key in table and table[key] is not fn:
                raise ValueError(f"{key!r} is already handled by {getattr(table[key], '__qualname__', table[key])}")
            table[key] = fn

    def intent(self, fn: IntentHandler, *intents: str) -> None:
        """fn(turn, ctx, match) answers these intent ids."""
        self._add(self.intents, intents, fn)

    def postback(self, fn: PostbackHandler, *actions: str) -> None:
        """fn(turn, ctx, params) answers postback data "a=<action>&…"."""
        self._add(self.postbacks, actions, fn)

    def state(self, fn: StateHandler, *states: str) -> None:
        """fn(turn, ctx) answers text typed while the resident is in one of these states."""
        self._add(self.states, states, fn)

    def text_hook(self, fn: TurnHandler) -> None:
        """fn(turn, ctx) may answer typed text before the matcher does (outside any flow state)."""
        self.text_hooks.append(fn)

    def first_hook(self, fn: TurnHandler) -> None:
        """fn(turn, ctx) may answer typed text before anything else, even mid-flow (emergencies)."""
        self.first_hooks.append(fn)

    def topics(self, fn: IntentHandler) -> None:
        """fn(turn, ctx, match) answers the informational topics (an entry or the topic's overview)."""
        if self.topic_answer is not None and self.topic_answer is not fn:
            raise ValueError("the topics are already answered by another handler")
        self.topic_answer = fn

    def in_context(self, fn: ContextReader) -> None:
        """fn(turn, ctx, match) reads a question the matcher alone finds vague (or answers with a
        topic) as the next turn of the conversation; None when it is not one."""
        if self.context_reader is not None and self.context_reader is not fn:
            raise ValueError("messages are already read in context by another handler")
        self.context_reader = fn

    def kind(self, fn: TurnHandler, *kinds: str) -> None:
        """fn(turn, ctx) answers turns of these kinds ("location", "sticker", …)."""
        self._add(self.kinds, kinds, fn)
