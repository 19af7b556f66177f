"""Who a campaign goes to, as the office types it ("district:แม่ริม") and as it is stored ("district:5007")."""
from __future__ import annotations

from bot.campaigns.errors import CampaignError
from bot.content.model import Content

AUDIENCE_KINDS = ("all", "district", "pledged", "not_pledged", "action")


def parse_audience(content: Content, raw: str) -> str:
    """The canonical audience ("district:<code>", …) for what the office typed, or CampaignError."""
    raw = (raw or "all").strip()
    kind, sep, arg = raw.partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind in ("all", "pledged", "not_pledged") and not sep:
        return kind
    if kind == "district" and arg:
        district = content.district_by_name(arg)
        if district is None:
            district = next((d for d in content.districts if d.code == arg), None)
        if district is None:
            names = ", ".join(d.name for d in content.districts)
            raise CampaignError(f"unknown district {arg!r}; Chiang Mai's districts are: {names}")
        return f"district:{district.code}"
    if kind == "action" and arg:
        if arg not in content.actions:
            raise CampaignError(f"unknown action {arg!r}; actions are: {', '.join(content.actions)}")
        return f"action:{arg}"
    raise CampaignError(f"unknown audience {raw!r}; use all, district:NAME, pledged, not_pledged or action:ID")


def describe_audience(content: Content, audience: str) -> str:
    kind, _, arg = audience.partition(":")
    if kind == "air":  # made by bot/air/alerts.py, never typed by the office
        alert_id, _, lang = arg.partition(":")
        return f"haze alert {alert_id} ({lang or 'th'})"
    if kind == "district":
        name = next((d.name for d in getattr(content, "districts", []) if d.code == arg), arg)
        return f"district:{name}"
    return audience
