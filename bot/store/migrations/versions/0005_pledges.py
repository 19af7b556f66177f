"""Pledges residents come back to: quantities, reminder settings, milestones, a suppression list
that outlives deletion, personal reminder batches.

Revision ID: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("reminder_day", sa.Integer, nullable=True))
        b.add_column(sa.Column("reminder_slot", sa.String(8), nullable=True))
        b.add_column(sa.Column("reminders_off", sa.Boolean, nullable=False, server_default=sa.text("false")))
        b.add_column(sa.Column("reminder_snoozed_week", sa.Date, nullable=True))
        b.add_column(sa.Column("reminded_week", sa.Date, nullable=True))
        b.add_column(sa.Column("milestones", sa.JSON, nullable=True))
    with op.batch_alter_table("pledges") as b:
        b.add_column(sa.Column("quantity", sa.Float, nullable=True))
    with op.batch_alter_table("pledge_counters") as b:
        b.add_column(sa.Column("quantified", sa.Integer, nullable=False, server_default="0"))
        b.add_column(sa.Column("quantity_sum", sa.Float, nullable=False, server_default="0"))
    with op.batch_alter_table("campaigns") as b:
        b.add_column(sa.Column("reminder_slot", sa.String(32), nullable=True))
    op.create_index("uq_campaigns_reminder_slot", "campaigns", ["reminder_slot"], unique=True)
    with op.batch_alter_table("campaign_batches") as b:
        b.add_column(sa.Column("messages", sa.JSON, nullable=True))
    op.create_table(
        "suppressed_users",
        sa.Column("user_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "install_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("install_secrets")
    op.drop_table("suppressed_users")
    with op.batch_alter_table("campaign_batches") as b:
        b.drop_column("messages")
    op.drop_index("uq_campaigns_reminder_slot", "campaigns")
    with op.batch_alter_table("campaigns") as b:
        b.drop_column("reminder_slot")
    with op.batch_alter_table("pledge_counters") as b:
        b.drop_column("quantity_sum")
        b.drop_column("quantified")
    with op.batch_alter_table("pledges") as b:
        b.drop_column("quantity")
    with op.batch_alter_table("users") as b:
        b.drop_column("milestones")
        b.drop_column("reminded_week")
        b.drop_column("reminder_snoozed_week")
        b.drop_column("reminders_off")
        b.drop_column("reminder_slot")
        b.drop_column("reminder_day")
