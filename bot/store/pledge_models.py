"""Pledges, their weekly check-ins, and the community counters kept as pledges change."""
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
    status: Mapped[str] = mapped_column(String(12), default="active")  # "active" | "cancelled"
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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


class PledgeCounter(Base):
    """Running totals for community_stats, changed in the same transaction as the pledges.

    Counting 1,000,000 pledges at every question is too slow, so the totals are kept here:
    scope "all" (key ""), "action" (key action id), "district" (key DOPA code, "" when unknown)
    and "district_action" (key "<code>:<action id>"). households counts households with at
    least one active pledge; pledges counts active pledges. bot.pledges.recount rebuilds them.
    """

    __tablename__ = "pledge_counters"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    pledges: Mapped[int] = mapped_column(Integer, default=0)
