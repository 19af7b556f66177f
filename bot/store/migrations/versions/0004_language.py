"""Residents' language and conversation context; campaigns' English text.

Revision ID: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("lang", sa.String(2), nullable=True))
        b.add_column(sa.Column("context", sa.JSON, nullable=True))
    with op.batch_alter_table("campaigns") as b:
        b.add_column(sa.Column("text_en", sa.Text, nullable=True))
        b.add_column(sa.Column("messages_en", sa.JSON, nullable=True))
    with op.batch_alter_table("campaign_batches") as b:
        b.add_column(sa.Column("lang", sa.String(2), nullable=False, server_default="th"))


def downgrade() -> None:
    with op.batch_alter_table("campaign_batches") as b:
        b.drop_column("lang")
    with op.batch_alter_table("campaigns") as b:
        b.drop_column("messages_en")
        b.drop_column("text_en")
    with op.batch_alter_table("users") as b:
        b.drop_column("context")
        b.drop_column("lang")
