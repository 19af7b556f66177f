"""Campaigns the office sends, and the batches they go out in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class Campaign(Base):
    """One broadcast: its messages, who gets it, and how far its sending has got.

    status: draft (waits for `campaign send`), scheduled (the worker sends it at scheduled_at),
    sending (claimed by claimed_by, alive while claimed_at keeps moving), interrupted (stopped
    half-way; `campaign send` resumes it), done, cancelled.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    flex: Mapped[dict | None] = mapped_column(JSON)
    # The LINE message objects exactly as they are sent, fixed when the campaign is created.
    messages: Mapped[list] = mapped_column(JSON)
    # "all", "district:<code>", "pledged", "not_pledged" or "action:<id>".
    audience: Mapped[str] = mapped_column(String(100), default="all")
    checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # Heartbeat of the claim: a sender moves it on while it works; a stale one may be taken over.
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Highest users.id already put into a batch: a resumed send continues after it.
    cursor_user_id: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignBatch(Base):
    """Up to 500 recipients and the retry key they are (re)sent with.

    status: pending (recorded, maybe attempted, not confirmed), sent (LINE answered 2xx, or 409
    for an earlier accepted attempt), failed (LINE refused it with a 4xx; last_error says why).
    """

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
    user_ids: Mapped[list] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # True when LINE answered 409: an earlier attempt with this retry key had been accepted.
    already_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
