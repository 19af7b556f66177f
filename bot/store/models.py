"""All the typed SQLAlchemy models, in one module. Nothing here stores a message text with a user id."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.clock import utcnow


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class PledgeStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class CampaignStatus(StrEnum):
    """draft (waits for `campaign send`), scheduled (the worker sends it at scheduled_at), sending
    (claimed by claimed_by, alive while claimed_at keeps moving), interrupted (stopped half-way;
    `campaign send` resumes it), done, cancelled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    INTERRUPTED = "interrupted"
    DONE = "done"
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    """pending (recorded, maybe attempted, not confirmed), sent (LINE answered 2xx, or 409 for an
    earlier accepted attempt), failed (LINE refused it with a 4xx; last_error says why)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# --- residents ---------------------------------------------------------------------------------

class User(Base):
    """One LINE user who has talked to the bot in a 1:1 chat."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    followed: Mapped[bool] = mapped_column(Boolean, default=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    district_code: Mapped[str | None] = mapped_column(String(4), index=True)
    # Named state of a conversation flow (e.g. "pledge.confirm") and its data.
    state: Mapped[str | None] = mapped_column(String(64))
    state_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The language the resident last wrote in ("th", "en"; None: not known yet, Thai).
    lang: Mapped[str | None] = mapped_column(String(2))
    # What was last shown (question-bank entry, topic, action, when), so a follow-up such as
    # "แล้วเด็กล่ะ" can be read against it; ids only, never the resident's words.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The weekly check-in reminder, as the resident set it (bot/flows/reminders.py): the day
    # (0 = Monday … 6 = Sunday; None: the default day), "morning" or "evening" (None: the
    # default), off (reminders only; news is opted_out), a week skipped (its Monday), and the
    # Monday of the last week a reminder went out (at most one a week).
    reminder_day: Mapped[int | None] = mapped_column(Integer)
    reminder_slot: Mapped[str | None] = mapped_column(String(8))
    reminders_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    reminder_snoozed_week: Mapped[date | None] = mapped_column(Date)
    reminded_week: Mapped[date | None] = mapped_column(Date)
    # Milestones already celebrated ("weeks_4", "kg_100", …), so each is said once.
    milestones: Mapped[list[Any] | None] = mapped_column(JSON)

    pledges: Mapped[list[Pledge]] = relationship(back_populates="user", viewonly=True, order_by="Pledge.id")


class ProcessedEvent(Base):
    """A webhook event already handled; the primary key makes handling happen once."""

    __tablename__ = "processed_events"

    webhook_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class UnmatchedText(Base):
    """A message the matcher could not place, kept without any user id for content authors."""

    __tablename__ = "unmatched_texts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- pledges -------------------------------------------------------------------------------------

class Pledge(Base):
    """A household's commitment to one action of the catalogue."""

    __tablename__ = "pledges"
    __table_args__ = (
        # At most one active pledge per user and action, whatever the redeliveries.
        Index(
            "uq_pledges_active_user_action", "user_id", "action_id", unique=True,
            sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(12), default=PledgeStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How many (trees, bulbs, litres a week…) for actions with a quantity; None: the action's default.
    quantity: Mapped[float | None] = mapped_column(Float)

    user: Mapped[User] = relationship(back_populates="pledges", viewonly=True)
    checkins: Mapped[list[CheckIn]] = relationship(back_populates="pledge", viewonly=True,
                                                   order_by="CheckIn.week_start")


class CheckIn(Base):
    """Whether a pledge was kept in one week (week_start is that week's Monday, Asia/Bangkok)."""

    __tablename__ = "checkins"
    # One answer per pledge and week: a second tap updates it, never adds a row.
    __table_args__ = (UniqueConstraint("pledge_id", "week_start", name="uq_checkins_pledge_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    pledge: Mapped[Pledge] = relationship(back_populates="checkins", viewonly=True)


class PledgeCounter(Base):
    """Running totals for community_stats, changed in the same transaction as the pledges.

    Counting 1,000,000 pledges at every question is too slow, so the totals are kept here:
    scope "all" (key ""), "action" (key action id), "district" (key DOPA code, "" when unknown)
    and "district_action" (key "<code>:<action id>"). households counts households with at
    least one active pledge; pledges counts active pledges. bot.store.pledges.recount rebuilds them.
    """

    __tablename__ = "pledge_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    pledges: Mapped[int] = mapped_column(Integer, default=0)
    # Of those pledges, how many chose a quantity, and the sum of their quantities: the kg total
    # is (pledges - quantified) × the default's estimate + quantity_sum × the estimate per unit.
    quantified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quantity_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class SuppressedUser(Base):
    """A resident who had stopped campaign news and then deleted their data: only a salted hash
    of their LINE user id (bot/store/users.py), so that writing again does not restart the news."""

    __tablename__ = "suppressed_users"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InstallSecret(Base):
    """Secrets generated once per installation ("suppression_salt"), kept in the database."""

    __tablename__ = "install_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- campaigns -------------------------------------------------------------------------------------

class Campaign(Base):
    """One broadcast: its messages, who gets it, and how far its sending has got (see CampaignStatus)."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("uq_campaigns_reminder_slot", "reminder_slot", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    flex: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The LINE message objects exactly as they are sent, fixed when the campaign is created.
    messages: Mapped[list[Any]] = mapped_column(JSON)
    # "all", "district:<code>", "pledged", "not_pledged" or "action:<id>".
    audience: Mapped[str] = mapped_column(String(100), default="all")
    # A generated weekly-reminder campaign's slot ("<week Monday>:<day>:<morning|evening>"):
    # unique, so two workers never make the same slot's campaign twice.
    reminder_slot: Mapped[str | None] = mapped_column(String(32))
    checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT, index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # Heartbeat of the claim: a sender moves it on while it works; a stale one may be taken over.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Highest users.id already put into a batch: a resumed send continues after it. Residents who
    # read English get messages_en when the campaign has an English text (text_en).
    cursor_user_id: Mapped[int] = mapped_column(Integer, default=0)
    text_en: Mapped[str | None] = mapped_column(Text)
    messages_en: Mapped[list[Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    batches: Mapped[list[CampaignBatch]] = relationship(back_populates="campaign", viewonly=True,
                                                        order_by="CampaignBatch.seq")


class CampaignBatch(Base):
    """Up to 500 recipients and the retry key they are (re)sent with (see BatchStatus)."""

    __tablename__ = "campaign_batches"
    __table_args__ = (
        UniqueConstraint("campaign_id", "seq", name="uq_campaign_batches_seq"),
        Index("ix_campaign_batches_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    retry_key: Mapped[str] = mapped_column(String(36))
    # LINE user ids of the members (users.line_user_id), fixed before the first attempt.
    user_ids: Mapped[list[Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    # Which of the campaign's texts the batch receives.
    lang: Mapped[str] = mapped_column(String(2), default="th", server_default="th")
    # The batch's own messages when they differ from the campaign's (a personal reminder shows
    # each resident's own pledges; residents with the same words share a batch); None: the campaign's.
    messages: Mapped[list[Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=BatchStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # True when LINE answered 409: an earlier attempt with this retry key had been accepted.
    already_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    campaign: Mapped[Campaign] = relationship(back_populates="batches", viewonly=True)


# --- the office's console ---------------------------------------------------------------------------

class AccountRole(StrEnum):
    """What a console account may do: viewer reads, sender also sends campaigns, admin also manages accounts."""

    VIEWER = "viewer"
    SENDER = "sender"
    ADMIN = "admin"


class Account(Base):
    """A campaign-office member who signs in to the console (never a resident)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12), default=AccountRole.VIEWER)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Changed with the password or when the account is disabled: every session signed with the
    # old one ends.
    session_token: Mapped[str] = mapped_column(String(32))
    # The TOTP second factor (base32), once confirmed with a code; the last time step used, so
    # a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInThrottle(Base):
    """Wrong passwords for one email (sha256 of it, whether an account has it or not), so every
    worker slows down and then locks sign-in for that email alike."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One thing done in the console or by `flask users`: append-only (database triggers refuse
    UPDATE and DELETE); who did it, never a resident's data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: entries outlive anything
    actor: Mapped[str] = mapped_column(String(254))  # the account's email, or "cli:<os user>"
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(254))
    detail: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(45))


class CampaignTap(Base):
    """How many times a campaign's buttons were tapped, per button action; never who tapped."""

    __tablename__ = "campaign_taps"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    action: Mapped[str] = mapped_column(String(40), primary_key=True)
    taps: Mapped[int] = mapped_column(Integer, default=0)


class UnmatchedReview(Base):
    """The office's verdict on an unmatched text (its normalised form): reviewed, or sent to the
    content editors as a phrase for a topic."""

    __tablename__ = "unmatched_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    intent: Mapped[str | None] = mapped_column(String(40))  # set when added as a phrase
    account_id: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- air quality ----------------------------------------------------------------------------------

class AirReading(Base):
    """The latest good PM2.5 reading of one Air4Thai station in or near Chiang Mai province."""

    __tablename__ = "air_readings"

    station_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    area_th: Mapped[str] = mapped_column(String(300))
    area_en: Mapped[str] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # When the station measured it (Air4Thai gives Thai time; stored in UTC).
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # 24-hour rolling average, µg/m³, and its band id (content/air.yaml).
    pm25: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(40))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AirSubscription(Base):
    """A resident who asked for haze alerts for their district (independent of campaign news)."""

    __tablename__ = "air_subscriptions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last alert this resident was put in, and its day in Chiang Mai: at most one a day.
    last_alert_id: Mapped[int | None] = mapped_column(Integer, index=True)
    last_alert_on: Mapped[date | None] = mapped_column(Date)


class AirAlert(Base):
    """A district's haze alert of one day: at most one per district and day (Asia/Bangkok).

    Its campaigns (audience "air:<id>:<lang>") carry the messages through the campaign sender."""

    __tablename__ = "air_alerts"
    __table_args__ = (UniqueConstraint("district_code", "day", name="uq_air_alerts_district_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    district_code: Mapped[str] = mapped_column(String(4))
    day: Mapped[date] = mapped_column(Date)
    band: Mapped[str] = mapped_column(String(40))
    pm25: Mapped[float] = mapped_column(Float)
    station_id: Mapped[str] = mapped_column(String(32))
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
