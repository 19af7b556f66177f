"""Draw content/richmenu.png from content/richmenu.yaml (Thai labels on coloured tiles).

Run after editing richmenu.yaml, then commit the PNG: the app uploads it as is and needs
no font at run time. Needs Pillow (the `test` extra) and a Thai-capable font:
Debian's fonts-thai-tlwg (`apt-get install -y fonts-thai-tlwg`), or pass --font.

    python scripts/draw_richmenu.py [--content content] [--font /path/to/font.ttf]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont, features  # noqa: E402

from bot.content import RichMenu, load_content  # noqa: E402

# Thai-capable fonts, bold first (Debian: fonts-thai-tlwg; fonts-noto-core as a fallback).
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/tlwg/Loma-Bold.ttf",
    "/usr/share/fonts/truetype/tlwg/Garuda-Bold.ttf",
    "/usr/share/fonts/opentype/tlwg/Loma-Bold.otf",
    "/usr/share/fonts/opentype/tlwg/Garuda-Bold.otf",
    "/usr/share/fonts/truetype/noto/NotoSansThai-Bold.ttf",
]
SUB_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/tlwg/Loma.ttf",
    "/usr/share/fonts/truetype/tlwg/Garuda.ttf",
    "/usr/share/fonts/opentype/tlwg/Loma.otf",
    "/usr/share/fonts/opentype/tlwg/Garuda.otf",
    "/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
]
GAP = 6  # white line between tiles


def find_font(candidates: list[str], override: str | None) -> str:
    if override:
        return override
    for c in candidates:
        if Path(c).exists():
            return c
    sys.exit("no Thai font found: apt-get install -y fonts-thai-tlwg, or pass --font")


def fit_font(draw: ImageDraw.ImageDraw, text: str, path: str, size: int, max_width: int,
             layout: int) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` in which `text` fits `max_width`."""
    while size > 20:
        font = ImageFont.truetype(path, size, layout_engine=layout)
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_width:
            return font
        size -= 4
    return ImageFont.truetype(path, size, layout_engine=layout)


def draw(menu: RichMenu, font_path: str, sub_font_path: str) -> Image.Image:
    # Raqm shapes Thai (stacked vowels and tone marks); without it marks may collide.
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    img = Image.new("RGB", (menu.width, menu.height), "white")
    d = ImageDraw.Draw(img)
    for a in menu.areas:
        box = (a.x + GAP, a.y + GAP, a.x + a.width - GAP, a.y + a.height - GAP)
        d.rounded_rectangle(box, radius=36, fill=a.color)
        cx = a.x + a.width // 2
        cy = a.y + a.height // 2
        big = fit_font(d, a.label, font_path, 120, a.width - 120, layout)
        d.text((cx, cy - 40), a.label, font=big, fill="white", anchor="mm")
        if a.sublabel:
            small = fit_font(d, a.sublabel, sub_font_path, 64, a.width - 140, layout)
            d.text((cx, cy + 90), a.sublabel, font=small, fill="#F1F8E9", anchor="mm")
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", type=Path, default=ROOT / "content")
    ap.add_argument("--font", help="a Thai-capable .ttf/.otf for the labels")
    ap.add_argument("--out", type=Path, help="where to write (default: the image named in richmenu.yaml)")
    args = ap.parse_args(argv)
    content = load_content(args.content)
    if content.richmenu is None:
        sys.exit("content/richmenu.yaml is missing")
    img = draw(content.richmenu, find_font(FONT_CANDIDATES, args.font), find_font(SUB_FONT_CANDIDATES, args.font))
    out = args.out or content.richmenu.image
    img.save(out, "PNG", optimize=True)
    print(f"wrote {out} ({img.width}x{img.height}, {out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
