"""Pledges, weekly check-ins and the community counters.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_pledges_user_id", "pledges", ["user_id"])
    op.create_index("ix_pledges_action_id", "pledges", ["action_id"])
    op.create_index(
        "uq_pledges_active_user_action", "pledges", ["user_id", "action_id"], unique=True,
        sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pledge_id", sa.Integer, sa.ForeignKey("pledges.id", ondelete="CASCADE"), nullable=False),
        sa.Column("week_start", sa.Date, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("pledge_id", "week_start", name="uq_checkins_pledge_week"),
    )
    op.create_index("ix_checkins_pledge_id", "checkins", ["pledge_id"])
    op.create_table(
        "pledge_counters",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("pledges", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pledge_counters")
    op.drop_table("checkins")
    op.drop_index("uq_pledges_active_user_action", "pledges")
    op.drop_index("ix_pledges_action_id", "pledges")
    op.drop_index("ix_pledges_user_id", "pledges")
    op.drop_table("pledges")
