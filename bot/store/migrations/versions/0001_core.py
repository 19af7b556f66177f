"""Users, processed webhook events, unmatched texts.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_user_id", sa.String(64), nullable=False, unique=True),
        sa.Column("followed", sa.Boolean, nullable=False),
        sa.Column("blocked", sa.Boolean, nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("district_code", sa.String(4), nullable=True),
        sa.Column("state", sa.String(64), nullable=True),
        sa.Column("state_data", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_users_district_code", "users", ["district_code"])
    op.create_table(
        "processed_events",
        sa.Column("webhook_event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])
    op.create_table(
        "unmatched_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(40), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("unmatched_texts")
    op.drop_index("ix_processed_events_processed_at", "processed_events")
    op.drop_table("processed_events")
    op.drop_index("ix_users_district_code", "users")
    op.drop_table("users")
