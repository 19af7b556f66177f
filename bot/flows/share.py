"""Sharing: "ชวนเพื่อน" opens LINE's share screen with the bot's add-friend link and a one-line
invitation; "แชร์คำมั่นของฉัน" gives a short summary of one's own pledges to forward.

What is shared holds only what the resident chooses to share: the bot's link, and for a summary
their pledges and their estimate; never their name, district or anything stored about them.
"""
from __future__ import annotations

from urllib.parse import quote

from bot import messages as msg
from bot.flows.checkin import status_of
from bot.flows.common import bubble, next_quick, t, title_of
from bot.flows.quantity import amount, kg_text
from bot.fmt import fmt_kg
from bot.registry import Registry
from bot.turn import Ctx, Message, Turn
from bot.words import in_words

# LINE's URL schemes: the share screen (pick friends or chats to send the text to) and a
# LINE official account's add-friend page.
SHARE_URL = "https://line.me/R/share?text="
ADD_FRIEND_URL = "https://line.me/R/ti/p/"
MAX_URI = 1000  # LINE's limit for a URI action


def add_friend_link(basic_id: str | None) -> str | None:
    return ADD_FRIEND_URL + quote(basic_id, safe="") if basic_id else None


def share_uri(text: str) -> str | None:
    """LINE's share screen with this text, or None when it would be over LINE's URI limit."""
    uri = SHARE_URL + quote(text, safe="")
    return uri if len(uri) <= MAX_URI else None


def uri_button(label: str, uri: str) -> Message:
    return {"type": "button", "style": "primary", "height": "sm", "action": {"type": "uri", "label": label, "uri": uri}}


def invitation(ctx: Ctx) -> str:
    """The one line a resident sends a friend, with the add-friend link when the bot's id is known."""
    c = ctx.content
    link = add_friend_link(ctx.basic_id)
    return t(c, "share_invite_text", link=link) if link else t(c, "share_invite_text_nolink")


def invite(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """"ชวนเพื่อน": a card whose button opens LINE's share screen with the invitation."""
    c = ctx.content
    ctx.clear_state()
    text = invitation(ctx)
    uri = share_uri(text)
    quick = next_quick(ctx, "start", "status")
    if uri is None:  # cannot happen with the content's words, but never send LINE a URI it refuses
        return [msg.text(t(c, "share_forward") + "\n\n" + text, quick=quick)]
    card = bubble(t(c, "share_invite_title"), [(t(c, "share_invite_body"), "#555555"), (text, "#1B5E20")],
                  [uri_button(t(c, "label.share_open"), uri)])
    return [msg.flex(t(c, "share_invite_title"), card, quick=quick)]


def summary(ctx: Ctx, with_lines: bool = True) -> str:
    """A resident's pledges in a few lines, with their yearly estimate; nothing else about them."""
    c = ctx.content
    view = status_of(ctx.session, c, ctx.user.id, ctx.now)
    lines = []
    for v in view.pledges:
        title = title_of(c, v.pledge.action_id)
        if v.action is not None and v.action.quantity is not None:
            title += f" ({amount(c, v.action, v.pledge.quantity)})"
        kg = kg_text(v.action, v.pledge.quantity) if v.action is not None else ""
        lines.append(t(c, "share_mine_line", title=title) + (" " + t(c, "share_mine_kg", kg=kg) if kg else ""))
    parts = [t(c, "share_mine_head", n=len(view.pledges))]
    if with_lines:
        parts.append("\n".join(lines))
    if view.kg_year:
        parts.append(t(c, "share_mine_total", kg=fmt_kg(view.kg_year)))
    parts.append(invitation(ctx))
    return "\n".join(parts)


def short_summary(ctx: Ctx) -> str:
    """The summary in one line, for LINE's share screen (its URI holds 1,000 characters, and a
    Thai letter takes 9 there)."""
    c = ctx.content
    view = status_of(ctx.session, c, ctx.user.id, ctx.now)
    link = add_friend_link(ctx.basic_id)
    key = "share_mine_short" if view.kg_year else "share_mine_short_no_kg"
    return t(c, key, n=len(view.pledges), kg=fmt_kg(view.kg_year), link=link or t(c, "share_account_name"))


def share_mine(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """"แชร์คำมั่นของฉัน": the summary to forward, and a button to LINE's share screen with it."""
    c = ctx.content
    ctx.clear_state()
    if not status_of(ctx.session, c, ctx.user.id, ctx.now).pledges:
        return [msg.text(t(c, "status_none"), quick=next_quick(ctx, "start", "stats"))]
    text = summary(ctx)
    uri = share_uri(text) or share_uri(short_summary(ctx))
    quick = next_quick(ctx, "status", "start")
    out = [msg.text(t(c, "share_mine_intro")), msg.text(text)]
    if uri is not None:
        card = bubble(t(c, "share_mine_title"), [(t(c, "share_mine_private"), "#555555")],
                      [uri_button(t(c, "label.share_open"), uri)])
        out.append(msg.flex(t(c, "share_mine_title"), card, quick=quick))
    else:
        out[-1] = msg.text(text, quick=quick)
    return out


def typed(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """"ชวนเพื่อน", "แชร์คำมั่น" typed on their own."""
    if in_words(ctx.content, "pledges.share_invite_words", turn.text):
        return invite(turn, ctx)
    if in_words(ctx.content, "pledges.share_mine_words", turn.text):
        return share_mine(turn, ctx)
    return None


def register(registry: Registry) -> None:
    registry.postback(invite, "share.invite")
    registry.postback(share_mine, "share.mine")
    registry.text_hook(typed)
