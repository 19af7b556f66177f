"""Load and validate content/ (YAML, Thai and English) into typed objects.

Everything a resident reads lives in content/ so the campaign office can correct a fact or
add a measure without touching code. One loader per file turns it into dataclasses and
refuses, with one line per problem, content that would make the bot say something wrong;
`bot.content.check.check_content` adds the checks that need the renderer and the contract.
"""
from bot.content.loader import CONTENT_DIR, ContentError, load_content, load_contents, read_contents
from bot.content.model import (
    Action,
    Adaptation,
    AdaptationSector,
    Answer,
    Card,
    Content,
    Contents,
    District,
    Factor,
    Flow,
    Input,
    Lang,
    Measure,
    Measures,
    RichMenu,
    RichMenuArea,
    Source,
)
from bot.content.richmenu import png_size

__all__ = [
    "CONTENT_DIR", "Action", "Adaptation", "AdaptationSector", "Answer", "Card", "Content", "ContentError",
    "Contents", "District", "Factor", "Flow", "Input", "Lang", "Measure", "Measures", "RichMenu", "RichMenuArea",
    "Source", "load_content", "load_contents", "png_size", "read_contents",
]
