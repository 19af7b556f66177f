"""content/richmenu.yaml and its PNG: the menu under the chat."""
from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path

from bot.content.model import RichMenu, RichMenuArea
from bot.content.problems import Problems
from bot.limits import MAX_CHAT_BAR, MAX_LABEL, MAX_RICHMENU_AREAS, MAX_RICHMENU_BYTES

COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
F = "content/richmenu.yaml"


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, without an imaging library."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


def load_richmenu(p: Problems, ask_of: Callable[[str], str | None]) -> RichMenu | None:
    """The rich menu; ask_of(intent) is the message a tap sends (None when the intent has none)."""
    raw = p.read_yaml("richmenu.yaml", required=False)
    if raw is None:
        return None
    raw = p.mapping(F, raw)
    p.unknown_keys(F, raw, {"name", "chat_bar_text", "width", "height", "columns", "rows", "image", "areas"})
    width = p.integer(f"{F}: width", raw.get("width"))
    height = p.integer(f"{F}: height", raw.get("height"))
    if (width, height) not in ((2500, 1686), (2500, 843)):
        p.problem(f"{F}: width/height", f"{width}x{height}; LINE's full menu is 2500x1686 (or 2500x843)")
    cols = max(1, p.integer(f"{F}: columns", raw.get("columns"), 1))
    rows = max(1, p.integer(f"{F}: rows", raw.get("rows"), 1))
    areas_raw = p.seq(f"{F}: areas", raw.get("areas"))
    if len(areas_raw) != cols * rows:
        p.problem(f"{F}: areas", f"{len(areas_raw)} areas for a {cols}x{rows} grid")
    if len(areas_raw) > MAX_RICHMENU_AREAS:
        p.problem(f"{F}: areas", f"over LINE's {MAX_RICHMENU_AREAS} areas")
    areas = []
    for i, a in enumerate(areas_raw):
        where = f"{F}: areas[{i}]"
        a = p.mapping(where, a)
        p.unknown_keys(where, a, {"label", "sublabel", "color", "intent"})
        intent = str(a.get("intent"))
        text = ask_of(intent)
        if text is None:
            p.problem(f"{where}.intent", f"{intent!r} has no answer and no flow with label/ask")
        color = str(a.get("color", ""))
        if not COLOR_RE.match(color):
            p.problem(f"{where}.color", f"must look like #2E7D32, not {color!r}")
        r, c = divmod(i, max(cols, 1))
        x0, x1 = width * c // cols, width * (c + 1) // cols
        y0, y1 = height * r // rows, height * (r + 1) // rows
        areas.append(RichMenuArea(
            label=p.string(f"{where}.label", a.get("label"), max_len=MAX_LABEL),
            sublabel=p.string(f"{where}.sublabel", a.get("sublabel"), required=False, max_len=40),
            color=color, intent=intent, text=text or "", x=x0, y=y0, width=x1 - x0, height=y1 - y0,
        ))
    image = p.path / str(raw.get("image", "richmenu.png"))
    if not image.exists():
        p.check_only_problem(f"{F}: image", f"{image.name} is missing: run python scripts/draw_richmenu.py")
    else:
        size = png_size(image)
        if size is None:
            p.check_only_problem(f"{F}: image", f"{image.name} is not a PNG")
        elif size != (width, height):
            p.check_only_problem(f"{F}: image", f"{image.name} is {size[0]}x{size[1]}, the menu is {width}x{height}: "
                                 "redraw it")
        if image.stat().st_size > MAX_RICHMENU_BYTES:
            p.check_only_problem(f"{F}: image", f"{image.name} is over LINE's 1 MB")
    return RichMenu(
        name=p.string(f"{F}: name", raw.get("name"), max_len=300),
        chat_bar_text=p.string(f"{F}: chat_bar_text", raw.get("chat_bar_text"), max_len=MAX_CHAT_BAR),
        width=width, height=height, image=image, areas=tuple(areas),
    )
