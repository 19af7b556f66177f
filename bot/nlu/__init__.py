"""Natural-language understanding: residents' Thai -> intent, score, entities."""
import os

# Nothing may be downloaded at run time: set before pythainlp is imported.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from bot.nlu.matcher import Match, Matcher

__all__ = ["Match", "Matcher"]
