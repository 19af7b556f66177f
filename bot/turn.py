"""What one turn of a conversation is made of: the resident's move in, and what a handler may use."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.content.model import Content, Contents
from bot.store.models import User

if TYPE_CHECKING:
    from bot.nlu.matcher import Matcher
    from bot.registry import Registry

Message = dict[str, Any]  # a LINE message object, as LINE's JSON API wants it


@dataclass(frozen=True)
class Turn:
    """What a resident did: typed text, tapped a postback, followed, sent a sticker…"""

    user_id: str
    kind: str  # text, postback, follow, unfollow, sticker, media, location, or other (what LINE adds later)
    text: str = ""
    data: str = ""
    # True in group chats and rooms: nothing may be stored about the members there.
    group: bool = False
    # A shared location (kind "location"): where, as LINE sends it.
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Ctx:
    """Everything a handler may use for one turn; built by bot.deps.run_turn, replaceable in tests."""

    session: Session
    contents: Contents
    matcher: Matcher
    registry: Registry
    now: datetime
    user: User
    # The resident's language view of the content (set by the dialogue from what they wrote).
    content: Content
    # The bot's LINE basic id ("@123abcde") when known, for add-friend links (bot/botinfo.py).
    basic_id: str | None = None

    def set_state(self, state: str | None, **data: Any) -> None:
        """Enter a named conversation state with its named data (None leaves every flow).

        What the flow already recorded ("saved", see note_saved) goes along from state to state,
        so a later cancel can say exactly what stays saved."""
        saved = self.state_value("saved") if state is not None else None
        self.user.state = state
        values = {k: v for k, v in data.items() if v is not None}
        if saved and "saved" not in values:
            values["saved"] = saved
        self.user.state_data = values or None

    def note_saved(self, line: str) -> None:
        """Remember, for as long as the resident stays in a flow, one line of what it recorded."""
        if self.user.state is not None:
            saved = [*(self.state_value("saved") or []), line]
            self.user.state_data = {**(self.user.state_data or {}), "saved": saved[-5:]}

    def state_value(self, name: str) -> Any:
        return (self.user.state_data or {}).get(name)

    def clear_state(self) -> None:
        self.set_state(None)
