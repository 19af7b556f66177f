"""Natural-language understanding: residents' Thai -> intent, score, entities."""
import os

# Nothing may be downloaded at run time: set before pythainlp is imported.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

from bot.nlu.matcher import Matcher
from bot.nlu.readings import Match

__all__ = ["Match", "Matcher"]
