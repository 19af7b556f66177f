"""One module per conversation; each declares what it answers in register(registry)."""
from __future__ import annotations

from bot import dialogue
from bot.flows import (
    air,
    answers,
    checkin,
    checkin_typed,
    community,
    district,
    estimate,
    optout,
    pledge,
    privacy,
    quantity,
    reminders,
    share,
)
from bot.registry import Registry

# Text hooks run in this order: a request for today's air reading, an amount asked of an action, then a
# follow-up about the last answer.
MODULES = (
    dialogue, air, estimate, answers, district, pledge, checkin, checkin_typed, quantity, reminders, share,
    community, privacy, optout,
)


def build_registry() -> Registry:
    """A registry with every flow's intents, postbacks and states."""
    registry = Registry()
    for module in MODULES:
        module.register(registry)
    return registry
