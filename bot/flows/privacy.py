"""What the bot keeps about a resident, and deleting all of it (PDPA)."""
from __future__ import annotations

from enum import StrEnum

from bot import messages as msg
from bot.flows.common import district_name, stop_flow, stop_quick, t, title_of
from bot.flows.reminders import current_setting
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.models import PledgeStatus
from bot.store.pledges import all_pledges, count_checkins, delete_user_data
from bot.turn import Ctx, Message, Turn
from bot.words import in_words, is_no


class PrivacyState(StrEnum):
    CONFIRM_DELETE = "privacy.confirm_delete"


def privacy(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """Show everything stored about me, with a button that deletes it all."""
    return privacy_messages(ctx)


def privacy_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "ข้อมูลของฉัน" button."""
    return privacy_messages(ctx)


def privacy_messages(ctx: Ctx) -> list[Message]:
    c, user = ctx.content, ctx.user
    lines = []
    for p in all_pledges(ctx.session, user.id):
        title = title_of(c, p.action_id)
        if p.status == PledgeStatus.ACTIVE:
            lines.append(t(c, "privacy_pledge_active", title=title, since=c.date(p.started_at)))
        else:
            lines.append(t(c, "privacy_pledge_ended", title=title, since=c.date(p.started_at),
                           until=c.date(p.ended_at or p.started_at)))
    body = t(c, "privacy_show",
             since=c.date(user.created_at or ctx.now),
             district=district_name(c, user.district_code),
             pledges="\n".join(lines) if lines else t(c, "privacy_no_pledges"),
             checkins=count_checkins(ctx.session, user.id),
             broadcast=t(c, "privacy_broadcast_off" if user.opted_out else "privacy_broadcast_on"),
             reminders=current_setting(c, user, ctx.now))
    ctx.set_state(PrivacyState.CONFIRM_DELETE)
    quick = [msg.qr_postback(t(c, "label.delete"), msg.postback_data("privacy.delete"), t(c, "label.delete")),
             msg.qr_postback(t(c, "label.districts"), msg.postback_data("pledge.districts"), t(c, "label.districts")),
             stop_quick(c)]
    return [msg.text(body), msg.text(t(c, "privacy_delete_ask"), quick=quick)]


def privacy_delete(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Delete every row linked to this LINE user id, then say so."""
    kept_stop = delete_user_data(ctx.session, ctx.user, ctx.now)
    key = "privacy_deleted_still_stopped" if kept_stop else "privacy_deleted"
    return [msg.text(t(ctx.content, key), quick=msg.topic_quick_replies(ctx.content))]


def typed_after_showing(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """Deleting everything needs the words for it: a bare "ค่ะ" or "โอเค" after reading one's data is not a yes."""
    if in_words(ctx.content, "pledges.delete_words", turn.text):
        return privacy_delete(turn, ctx, {})
    if is_no(ctx.content, turn.text):
        return stop_flow(turn, ctx, {})
    ctx.clear_state()
    return None


def register(registry: Registry) -> None:
    registry.intent(privacy, "privacy")
    registry.postback(privacy_tap, "privacy.show")
    registry.postback(privacy_delete, "privacy.delete")
    registry.state(typed_after_showing, PrivacyState.CONFIRM_DELETE)
