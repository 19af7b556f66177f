"""Taps on a campaign's buttons, counted per campaign and button action; never who tapped."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.db import table_of
from bot.store.models import Campaign, CampaignTap

# The postback parameter that names the campaign a button came with (bot/campaigns/compose.py).
CAMPAIGN_PARAM = "c"


def record_tap(session: Session, campaign_id: str | int, action: str) -> bool:
    """Count one tap of a campaign's button; False (nothing counted) for an unknown campaign."""
    try:
        cid = int(campaign_id)
    except (TypeError, ValueError):
        return False
    if cid <= 0 or session.get(Campaign, cid) is None:
        return False
    table = table_of(CampaignTap)
    values = {"campaign_id": cid, "action": (action or "-")[:40], "taps": 1}
    add = {"taps": table.c.taps + 1}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(values).on_conflict_do_update(
            index_elements=["campaign_id", "action"], set_=add))
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        session.execute(lite_insert(table).values(values).on_conflict_do_update(
            index_elements=["campaign_id", "action"], set_=add))
    return True


def taps_of(session: Session, campaign_id: int) -> dict[str, int]:
    """{button action: taps} for one campaign."""
    return {a: int(n) for a, n in session.execute(
        select(CampaignTap.action, CampaignTap.taps).where(CampaignTap.campaign_id == campaign_id))}


def total_taps(session: Session) -> dict[int, int]:
    """{campaign id: taps on any of its buttons}."""
    return {int(c): int(n) for c, n in session.execute(
        select(CampaignTap.campaign_id, func.sum(CampaignTap.taps)).group_by(CampaignTap.campaign_id))}
