"""Pledges and their weekly check-ins."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


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
    status: Mapped[str] = mapped_column(String(12), default="active")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CheckIn(Base):
    """Whether a pledge was kept in one week (week_start is that week's Monday)."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("pledge_id", "week_start", name="uq_checkins_pledge_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
