"""One module per conversation; each declares what it answers in register(registry)."""
from __future__ import annotations

from bot import dialogue
from bot.flows import air, answers, checkin, community, district, optout, pledge, privacy
from bot.registry import Registry

MODULES = (dialogue, answers, district, pledge, checkin, community, privacy, optout, air)


def build_registry() -> Registry:
    """A registry with every flow's intents, postbacks and states."""
    registry = Registry()
    for module in MODULES:
        module.register(registry)
    return registry
