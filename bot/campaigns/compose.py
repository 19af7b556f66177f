"""A campaign's LINE messages: its text or Flex card, always with a way to stop receiving news."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from linebot.v3.messaging import FlexContainer

from bot import messages as msg
from bot.campaigns.errors import CampaignError
from bot.content.model import Content
from bot.flows.optout import OPTOUT_POSTBACK
from bot.impact import current_week_start
from bot.line import to_sdk
from bot.turn import Message

# The weekly reminder's button: "my pledges", which the check-in flow (bot/flows/checkin.py)
# answers per resident with their own pledges and the week's ทำแล้ว / ยังไม่ได้ทำ buttons
# (w: the week the reminder was made for).
CHECKIN_POSTBACK = "pledge.status"


def optout_button(content: Content) -> Message:
    label = content.text("campaigns.optout_label")
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": label, "data": msg.postback_data(OPTOUT_POSTBACK),
                       "displayText": label}}


def with_optout_button(content: Content, container: Message) -> Message:
    """The Flex container with a small "stop receiving news" button in its (last) bubble's footer."""
    container = dict(container)
    if container.get("type") == "carousel":
        bubbles = list(container.get("contents") or [])
        if bubbles:
            bubbles[-1] = with_optout_button(content, bubbles[-1])
        container["contents"] = bubbles
        return container
    footer = dict(container.get("footer") or {"type": "box", "layout": "vertical", "contents": []})
    footer["contents"] = list(footer.get("contents") or []) + [optout_button(content)]
    container["footer"] = footer
    return container


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


def checkin_messages(content: Content, text: str | None, now: datetime) -> list[Message]:
    """The weekly reminder: one message for everyone, whose button the pledge flow resolves per resident."""
    week = current_week_start(now)
    body = text or content.text("campaigns.checkin_text")
    data = msg.postback_data(CHECKIN_POSTBACK, w=week.isoformat())
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
    return [msg.flex(body, with_optout_button(content, bubble))]


def build_messages(content: Content, text: str, flex: Message | None, checkin: bool, now: datetime) -> list[Message]:
    """The campaign's LINE messages: a text (with a stop button as quick reply) or a Flex card."""
    if checkin:
        return checkin_messages(content, text, now)
    if flex is not None:
        validate_flex(flex)
        # The text is the card's alt text: what notifications and the chat list show.
        return [msg.flex(text, with_optout_button(content, flex))]
    label = content.text("campaigns.optout_label")
    return [msg.text(text, quick=[msg.qr_postback(label, msg.postback_data(OPTOUT_POSTBACK), label)])]
