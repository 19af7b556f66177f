"""Proof that what the bot sends is what LINE accepts: every message the content can render,
checked with the SDK's models and LINE's limits (used by `content check`, campaigns and tests)."""
from __future__ import annotations

import json
from typing import Any

from linebot.v3.messaging import FlexContainer
from linebot.v3.messaging import Message as SdkMessage

from bot import messages as msg
from bot.content.model import Content
from bot.fmt import line_length
from bot.limits import (
    MAX_ACTION_TEXT,
    MAX_ALT_TEXT,
    MAX_BUBBLE_BYTES,
    MAX_CAROUSEL,
    MAX_CAROUSEL_BYTES,
    MAX_LABEL,
    MAX_MESSAGES,
    MAX_POSTBACK_DATA,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    MAX_URI,
)


def _check_action(where: str, a: Any, *, label_required: bool) -> list[str]:
    p: list[str] = []
    if not isinstance(a, dict):
        return [f"{where}: action must be an object"]
    t = a.get("type")
    label = a.get("label")
    if label_required and not label:
        p.append(f"{where}: action needs a label")
    if label and line_length(label) > MAX_LABEL:
        p.append(f"{where}: label {label!r} is {line_length(label)} characters, over {MAX_LABEL}")
    if t == "uri":
        uri = a.get("uri") or ""
        if not uri.startswith(("https://", "http://", "line://", "tel:")):
            p.append(f"{where}: uri action needs an http(s) uri, got {uri!r}")
        if len(uri) > MAX_URI:
            p.append(f"{where}: uri over {MAX_URI} characters")
    elif t == "message":
        body = a.get("text") or ""
        if not body.strip():
            p.append(f"{where}: message action needs text")
        if line_length(body) > MAX_ACTION_TEXT:
            p.append(f"{where}: message text over {MAX_ACTION_TEXT} characters")
    elif t == "location":  # "send my location" (quick replies only); LINE needs just the label
        pass
    elif t == "postback":
        data = a.get("data") or ""
        if not data:
            p.append(f"{where}: postback action needs data")
        if len(data) > MAX_POSTBACK_DATA:
            p.append(f"{where}: postback data over {MAX_POSTBACK_DATA} characters")
        if line_length(a.get("displayText") or "") > MAX_ACTION_TEXT:
            p.append(f"{where}: displayText over {MAX_ACTION_TEXT} characters")
    else:
        p.append(f"{where}: unsupported action type {t!r}")
    return p


def _check_component(where: str, c: Any) -> list[str]:
    """Required fields the SDK's models leave optional."""
    if not isinstance(c, dict):
        return [f"{where}: component must be an object"]
    t = c.get("type")
    p: list[str] = []
    if t == "box":
        if c.get("layout") not in ("vertical", "horizontal", "baseline"):
            p.append(f"{where}: box needs layout vertical|horizontal|baseline")
        kids = c.get("contents")
        if not isinstance(kids, list):
            p.append(f"{where}: box needs contents (a list)")
            kids = []
        for i, k in enumerate(kids):
            p += _check_component(f"{where}.contents[{i}]", k)
    elif t == "text":
        if not (isinstance(c.get("text"), str) and c["text"].strip()) and not c.get("contents"):
            p.append(f"{where}: text component needs non-empty text")
    elif t == "button":
        if "action" not in c:
            p.append(f"{where}: button needs an action")
    elif t == "image" and not str(c.get("url", "")).startswith("https://"):
        p.append(f"{where}: image needs an https url")
    if "action" in c:
        p += _check_action(f"{where}.action", c["action"], label_required=(t == "button"))
    return p


def _check_bubble(where: str, b: Any) -> list[str]:
    if not isinstance(b, dict) or b.get("type") != "bubble":
        return [f"{where}: must be a bubble"]
    p: list[str] = []
    if not any(k in b for k in ("header", "hero", "body", "footer")):
        p.append(f"{where}: empty bubble")
    for part in ("header", "hero", "body", "footer"):
        if part in b:
            p += _check_component(f"{where}.{part}", b[part])
    return p


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


def validate_flex_container(contents: Any, where: str = "flex") -> list[str]:
    """Problems with a Flex container: SDK model, fields it would drop, required fields, size."""
    try:
        model = FlexContainer.from_dict(contents)
    except Exception as e:  # pydantic or discriminator errors: any means LINE would refuse it
        return [f"{where}: not a valid Flex container: {' '.join(str(e).split())}"]
    p: list[str] = []
    if model is None:
        return [f"{where}: not a valid Flex container"]
    if _drop_none(model.to_dict()) != contents:
        p.append(f"{where}: has fields the SDK does not know (they would be dropped)")
    size = len(json.dumps(contents, ensure_ascii=False).encode("utf-8"))
    if contents.get("type") == "carousel":
        bubbles = contents.get("contents") or []
        if not 1 <= len(bubbles) <= MAX_CAROUSEL:
            p.append(f"{where}: carousel has {len(bubbles)} bubbles (1 to {MAX_CAROUSEL})")
        for i, b in enumerate(bubbles):
            p += _check_bubble(f"{where}.contents[{i}]", b)
        if size > MAX_CAROUSEL_BYTES:
            p.append(f"{where}: carousel is {size} bytes, over {MAX_CAROUSEL_BYTES}")
    else:
        p += _check_bubble(where, contents)
        if size > MAX_BUBBLE_BYTES:
            p.append(f"{where}: bubble is {size} bytes, over {MAX_BUBBLE_BYTES}")
    return p


def validate_messages(messages: list[dict[str, Any]], where: str = "messages") -> list[str]:
    """Problems that would make LINE refuse (or the SDK mangle) a list of message dicts."""
    p: list[str] = []
    if not messages:
        p.append(f"{where}: no messages")
    if len(messages) > MAX_MESSAGES:
        p.append(f"{where}: {len(messages)} messages, over LINE's {MAX_MESSAGES} per request")
    for i, m in enumerate(messages):
        w = f"{where}[{i}]"
        try:
            SdkMessage.from_dict(m)
        except Exception as e:
            p.append(f"{w}: not a valid LINE message: {' '.join(str(e).split())}")
            continue
        if m.get("type") == "text":
            body = m.get("text") or ""
            if not body.strip():
                p.append(f"{w}: empty text")
            if line_length(body) > MAX_TEXT:
                p.append(f"{w}: text is {line_length(body)} characters, over LINE's {MAX_TEXT}")
        elif m.get("type") == "flex":
            alt = m.get("altText") or ""
            if not alt.strip() or line_length(alt) > MAX_ALT_TEXT:
                p.append(f"{w}: altText must be 1 to {MAX_ALT_TEXT} characters")
            p += validate_flex_container(m.get("contents"), f"{w}.contents")
        items = (m.get("quickReply") or {}).get("items")
        if items is not None:
            if not 1 <= len(items) <= MAX_QUICK_REPLIES:
                p.append(f"{w}: {len(items)} quick replies (1 to {MAX_QUICK_REPLIES})")
            for j, it in enumerate(items):
                p += _check_action(f"{w}.quickReply[{j}]", (it or {}).get("action"), label_required=True)
    return p


def check_rendering(content: Content) -> list[str]:
    """Render everything the bot can say from content/ and report what LINE would refuse."""
    p: list[str] = []
    for intent in content.answers:
        try:
            msgs = msg.answer_messages(content, intent)
        except Exception as e:
            p.append(f"answer {intent}: cannot be rendered: {type(e).__name__}: {e}")
            continue
        p += validate_messages(msgs, f"answer {intent}")
    for aid, action in content.actions.items():
        try:
            p += validate_messages([msg.flex(action.title, msg.action_card(action, content))], f"action {aid} card")
            p += validate_messages(msg.estimate_messages(content, aid), f"action {aid} estimate")
        except Exception as e:
            p.append(f"action {aid}: cannot be rendered: {type(e).__name__}: {e}")
    topics = msg.topic_quick_replies(content)
    if topics:
        p += validate_messages([msg.text("-", quick=topics)], "topic quick replies")
    return p
