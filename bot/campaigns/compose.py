"""A campaign's LINE messages: its text or Flex card, always with a way to stop receiving news.

Every postback button of a campaign (its own, the stop button, the check-in button) carries the
campaign's id as c=<id>, so the dialogue counts taps per campaign (bot/store/taps.py) without
storing who tapped. Buttons of older campaigns, without c, work as before.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from linebot.v3.messaging import FlexContainer

from bot import messages as msg
from bot.campaigns.errors import CampaignError
from bot.content.model import Content
from bot.flows.optout import OPTOUT_POSTBACK
from bot.impact import current_week_start
from bot.limits import MAX_POSTBACK_DATA
from bot.line import to_sdk
from bot.store.taps import CAMPAIGN_PARAM
from bot.turn import Message

# The weekly reminder's button: "my pledges", which the check-in flow (bot/flows/checkin.py)
# answers per resident with their own pledges and the week's ทำแล้ว / ยังไม่ได้ทำ buttons
# (w: the week the reminder was made for).
CHECKIN_POSTBACK = "pledge.status"


def _ids(campaign_id: int | None) -> dict[str, int]:
    return {CAMPAIGN_PARAM: campaign_id} if campaign_id is not None else {}


def optout_button(content: Content, campaign_id: int | None = None) -> Message:
    label = content.text("campaigns.optout_label")
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": label,
                       "data": msg.postback_data(OPTOUT_POSTBACK, **_ids(campaign_id)), "displayText": label}}


def with_optout_button(content: Content, container: Message, campaign_id: int | None = None) -> Message:
    """The Flex container with a small "stop receiving news" button in its (last) bubble's footer."""
    container = dict(container)
    if container.get("type") == "carousel":
        bubbles = list(container.get("contents") or [])
        if bubbles:
            bubbles[-1] = with_optout_button(content, bubbles[-1], campaign_id)
        container["contents"] = bubbles
        return container
    footer = dict(container.get("footer") or {"type": "box", "layout": "vertical", "contents": []})
    footer["contents"] = list(footer.get("contents") or []) + [optout_button(content, campaign_id)]
    container["footer"] = footer
    return container


def with_campaign_id(node: Any, campaign_id: int | None) -> Any:
    """A copy of the office's Flex JSON whose postback buttons also carry c=<campaign id>."""
    if campaign_id is None:
        return node
    if isinstance(node, list):
        return [with_campaign_id(n, campaign_id) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: with_campaign_id(v, campaign_id) for k, v in node.items()}
    data = out.get("data")
    if out.get("type") == "postback" and isinstance(data, str) and CAMPAIGN_PARAM not in msg.parse_postback(data)[1]:
        tagged = f"{data}&{CAMPAIGN_PARAM}={campaign_id}" if data else f"{CAMPAIGN_PARAM}={campaign_id}"
        if len(tagged) > MAX_POSTBACK_DATA:
            raise CampaignError(f"a button's postback data is too long to carry the campaign's id "
                                f"(LINE allows {MAX_POSTBACK_DATA} characters): {data[:60]}…")
        out["data"] = tagged
    return out


def validate_messages(messages: list[Message]) -> None:
    """Refuse what LINE would refuse, with the SDK's own models."""
    try:
        sdk = to_sdk(messages)
    except Exception as e:  # pydantic's ValidationError or the SDK's ValueError
        raise CampaignError(f"the message is not valid for LINE: {str(e)[:500]}") from None
    if not sdk:
        raise CampaignError("the campaign has no message to send")


def validate_flex(container: Any) -> None:
    if not isinstance(container, dict) or container.get("type") not in ("bubble", "carousel"):
        raise CampaignError('the Flex file must hold one container: {"type": "bubble" | "carousel", …}')
    try:
        FlexContainer.from_dict(container)
    except Exception as e:
        raise CampaignError(f"the Flex file is not valid Flex JSON: {str(e)[:500]}") from None


def checkin_messages(content: Content, text: str | None, now: datetime, campaign_id: int | None = None) -> list[Message]:
    """The weekly reminder: one message for everyone, whose button the pledge flow resolves per resident."""
    week = current_week_start(now)
    body = text or content.text("campaigns.checkin_text")
    data = msg.postback_data(CHECKIN_POSTBACK, w=week.isoformat(), **_ids(campaign_id))
    label = content.text("campaigns.checkin_button")
    bubble = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
            {"type": "text", "text": content.text("campaigns.checkin_title"), "weight": "bold", "size": "lg",
             "wrap": True},
            {"type": "text", "text": body, "wrap": True, "size": "sm"},
        ]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "button", "style": "primary",
             "action": {"type": "postback", "label": label, "data": data, "displayText": label}},
        ]},
    }
    return [msg.flex(body, with_optout_button(content, bubble, campaign_id))]


def build_messages(content: Content, text: str, flex: Message | None, checkin: bool, now: datetime,
                   campaign_id: int | None = None) -> list[Message]:
    """The campaign's LINE messages: a text (with a stop button as quick reply) or a Flex card;
    with campaign_id, every postback button carries it."""
    if checkin:
        return checkin_messages(content, text, now, campaign_id)
    if flex is not None:
        validate_flex(flex)
        # The text is the card's alt text: what notifications and the chat list show.
        return [msg.flex(text, with_optout_button(content, with_campaign_id(flex, campaign_id), campaign_id))]
    label = content.text("campaigns.optout_label")
    data = msg.postback_data(OPTOUT_POSTBACK, **_ids(campaign_id))
    return [msg.text(text, quick=[msg.qr_postback(label, data, label)])]
