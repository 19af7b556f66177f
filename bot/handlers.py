"""Imports every module that registers intents, postbacks or states with bot.registry."""
from bot import dialogue  # noqa: F401
from bot import pledges  # noqa: F401
from bot import campaigns  # noqa: F401
