"""Settings from the environment, with defaults that run a local bot."""
from __future__ import annotations

import os

DEFAULT_AIR_QUALITY_URL = "https://air4thai.pcd.go.th/services/getNewAQI_JSON.php"


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class Config:
    """Production and local settings, read from the environment at app creation."""

    def __init__(self) -> None:
        self.LINE_CHANNEL_SECRET: str = os.environ.get("LINE_CHANNEL_SECRET", "")
        self.LINE_CHANNEL_ACCESS_TOKEN: str = os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", "")
        self.LINE_API_BASE_URL: str = os.environ.get("LINE_API_BASE_URL", "https://api.line.me").rstrip("/")
        # None means: a SQLite file in the app's instance folder (resolved in create_app).
        self.DATABASE_URL: str | None = os.environ.get("DATABASE_URL") or None
        # Seconds for one call to LINE's API from the webhook path (connect, read).
        self.LINE_CONNECT_TIMEOUT: float = _float("LINE_CONNECT_TIMEOUT", 2.0)
        self.LINE_READ_TIMEOUT: float = _float("LINE_READ_TIMEOUT", 5.0)
        # Migrate the embedded SQLite database at start-up so a newcomer needs no extra step.
        self.AUTO_MIGRATE: bool = os.environ.get("AUTO_MIGRATE", "").lower() not in ("0", "false", "no")
        # Campaign sending: requests per second to multicast (LINE allows 200), requests in
        # flight, recipients per multicast (LINE allows 500), tries per batch before the send
        # stops resumably, and seconds after which a silent sender's claim may be taken over.
        self.CAMPAIGN_RATE: float = _float("CAMPAIGN_RATE", 180.0)
        self.CAMPAIGN_CONCURRENCY: int = int(_float("CAMPAIGN_CONCURRENCY", 8))
        self.CAMPAIGN_BATCH_SIZE: int = int(_float("CAMPAIGN_BATCH_SIZE", 500))
        self.CAMPAIGN_MAX_ATTEMPTS: int = int(_float("CAMPAIGN_MAX_ATTEMPTS", 6))
        self.CAMPAIGN_CLAIM_TIMEOUT: float = _float("CAMPAIGN_CLAIM_TIMEOUT", 120.0)
        # Seconds between the worker's looks for weekly reminder slots that have come due.
        self.REMINDER_POLL: float = _float("REMINDER_POLL", 60.0)
        # The bot's LINE basic id ("@123abcde") for the add-friend link residents share; when
        # unset, it is read once from LINE's bot info in the background.
        self.LINE_BOT_BASIC_ID: str = os.environ.get("LINE_BOT_BASIC_ID", "").strip()
        # Air4Thai's latest readings of every station (JSON), fetched by the worker; seconds for one
        # download (connect, silence and the whole answer).
        self.AIR_QUALITY_URL: str = os.environ.get("AIR_QUALITY_URL") or DEFAULT_AIR_QUALITY_URL
        self.AIR_QUALITY_TIMEOUT: float = _float("AIR_QUALITY_TIMEOUT", 15.0)
        self.CONTENT_DIR: str | None = os.environ.get("CONTENT_DIR") or None
        # The office's console (/admin/): off until SECRET_KEY is set; it signs the sessions.
        self.SECRET_KEY: str | None = os.environ.get("SECRET_KEY") or None
        # Session cookies only over HTTPS; set SESSION_COOKIE_SECURE=0 for a local http:// console.
        self.SESSION_COOKIE_SECURE: bool = os.environ.get("SESSION_COOKIE_SECURE", "").lower() not in ("0", "false", "no")
        self.CONSOLE_SESSION_HOURS: float = _float("CONSOLE_SESSION_HOURS", 8.0)
        # Wrong passwords for one email: slower from the 3rd, locked at the 10th for 15 minutes.
        self.CONSOLE_SLOW_AFTER: int = int(_float("CONSOLE_SLOW_AFTER", 3))
        self.CONSOLE_LOCK_AFTER: int = int(_float("CONSOLE_LOCK_AFTER", 10))
        self.CONSOLE_LOCK_MINUTES: float = _float("CONSOLE_LOCK_MINUTES", 15.0)
        # Where "add as a phrase" writes for the content editors (default: instance/phrase-review.tsv).
        self.PHRASE_REVIEW_FILE: str | None = os.environ.get("PHRASE_REVIEW_FILE") or None
        # LINE's webhook bodies are a few kilobytes; anything far larger is refused with 413.
        self.MAX_CONTENT_LENGTH: int = 1024 * 1024


def database_url_for(app_instance_path: str, configured: str | None) -> str:
    """The SQLAlchemy URL: the configured one, or a SQLite file in the instance folder."""
    if configured:
        if configured.startswith("postgres://"):  # Heroku-style URLs
            configured = "postgresql+psycopg://" + configured[len("postgres://"):]
        elif configured.startswith("postgresql://"):
            configured = "postgresql+psycopg://" + configured[len("postgresql://"):]
        return configured
    os.makedirs(app_instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app_instance_path, "bot.sqlite3")
