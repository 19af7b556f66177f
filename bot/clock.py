"""Time in one place: UTC for storage, Asia/Bangkok for what residents and the office read."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BANGKOK = ZoneInfo("Asia/Bangkok")

__all__ = ["BANGKOK", "UTC", "as_utc", "bangkok_text", "utcnow"]


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the default clock)."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """An aware UTC datetime; SQLite hands stored timestamps back naive, and they were stored in UTC."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def bangkok_text(dt: datetime | None) -> str:
    """"2025-03-01 18:00 +07" for the office's terminal; "-" for no time."""
    return as_utc(dt).astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M %Z") if dt else "-"
