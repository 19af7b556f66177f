"""Air quality: the latest reading of each station, haze-alert subscriptions, one alert per district and day.

Revision ID: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "air_readings",
        sa.Column("station_id", sa.String(32), primary_key=True),
        sa.Column("name_th", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("area_th", sa.String(300), nullable=False),
        sa.Column("area_en", sa.String(300), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pm25", sa.Float, nullable=False),
        sa.Column("band", sa.String(40), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "air_subscriptions",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_alert_id", sa.Integer, nullable=True),
        sa.Column("last_alert_on", sa.Date, nullable=True),
    )
    op.create_index("ix_air_subscriptions_last_alert_id", "air_subscriptions", ["last_alert_id"])
    op.create_table(
        "air_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("district_code", sa.String(4), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("band", sa.String(40), nullable=False),
        sa.Column("pm25", sa.Float, nullable=False),
        sa.Column("station_id", sa.String(32), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("district_code", "day", name="uq_air_alerts_district_day"),
    )


def downgrade() -> None:
    op.drop_table("air_alerts")
    op.drop_index("ix_air_subscriptions_last_alert_id", table_name="air_subscriptions")
    op.drop_table("air_subscriptions")
    op.drop_table("air_readings")
