"""How numbers, dates and labels are written for residents."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime

from bot.clock import BANGKOK, as_utc
from bot.limits import MAX_LABEL


def line_length(s: str) -> int:
    """Characters as LINE counts them for its limits: UTF-16 code units (an emoji beyond the basic
    plane counts two; Thai letters and marks count one each)."""
    return len(s.encode("utf-16-le")) // 2


def within(s: str, limit: int) -> str:
    """The longest start of s that LINE counts as at most limit characters (never half an emoji)."""
    n = limit
    while line_length(s[:n]) > limit:
        n -= (line_length(s[:n]) - limit + 1) // 2  # a character is at most two units: never cut too far
    return s[:n]


def shorten(s: str, limit: int = MAX_LABEL) -> str:
    """s cut to LINE's limit with an ellipsis (button labels, notification texts)."""
    return s if line_length(s) <= limit else within(s, limit - 1) + "…"


def visible_length(s: str) -> int:
    """Characters as a Thai reader counts them: combining vowels and tone marks take no place."""
    return sum(1 for ch in s if unicodedata.category(ch) != "Mn")


def fmt_number(x: float) -> str:
    """1,500 / 0.475 / 208.1: thousands separators, no trailing zeros."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4f}".rstrip("0").rstrip(".")


def fmt_kg(kg: float) -> str:
    """A kilogram figure: one decimal under 10, whole numbers above."""
    if kg == 0:
        return "0"
    return f"{kg:,.1f}" if kg < 10 else f"{kg:,.0f}"


def fmt_t(t: float) -> str:
    """A tonne figure: two decimals under one tonne, one above."""
    if t == 0:
        return "0"
    if t < 1:
        return f"{t:,.2f}"
    return f"{t:,.1f}"


def local_date(d: date | datetime) -> date:
    """The calendar day in Chiang Mai."""
    if isinstance(d, datetime):
        return as_utc(d).astimezone(BANGKOK).date()
    return d


def fmt_date(months: str, d: date | datetime, era_offset: int) -> str:
    """"3 มี.ค. 2568" / "3 Mar 2025": day, short month from months ("ม.ค.|ก.พ.|…"), year + era_offset."""
    day = local_date(d)
    names = months.split("|")
    return f"{day.day} {names[day.month - 1]} {day.year + era_offset}"
