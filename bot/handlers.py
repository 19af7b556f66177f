"""Imports every module that registers intents, postbacks or states with bot.registry."""
from bot import dialogue  # noqa: F401
