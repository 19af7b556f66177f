"""The weekly check-in reminder as each resident wants it: which day, morning or evening, skip a
week, or no reminders at all (campaign news is separate: bot/flows/optout.py). And the reminder's
own words: this week's progress against the resident's own pledges, praise when kept, no shaming
when not (sent by bot/campaigns/reminders.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot import messages as msg
from bot.clock import as_utc
from bot.content.model import Content
from bot.flows.checkin import checkin_bubble, status_of, week_asked
from bot.flows.common import carousel, next_quick, stop_quick, t
from bot.fmt import fmt_kg
from bot.impact import REMINDER_TIMES, WEEK, current_week_start, reminder_time
from bot.limits import MAX_CAROUSEL
from bot.registry import Registry
from bot.store.campaigns import DEFAULT_REMINDER_DAY, DEFAULT_REMINDER_SLOT, REMINDER_SLOTS
from bot.store.models import User
from bot.turn import Ctx, Message, Turn
from bot.words import in_words


def day_name(content: Content, day: int) -> str:
    return t(content, "reminder_days").split("|")[day]


def slot_name(content: Content, slot: str) -> str:
    return t(content, f"reminder_slot.{slot}")


def day_and_slot(user: User) -> tuple[int, str]:
    day = user.reminder_day if user.reminder_day is not None and 0 <= user.reminder_day <= 6 else DEFAULT_REMINDER_DAY
    slot = user.reminder_slot if user.reminder_slot in REMINDER_SLOTS else DEFAULT_REMINDER_SLOT
    return day, slot


def current_setting(content: Content, user: User, now: datetime) -> str:
    """"ตอนนี้: เตือนทุกวันอาทิตย์ ตอนเย็น (18:00)", or that reminders are off."""
    if user.reminders_off:
        return t(content, "reminder_now_off")
    day, slot = day_and_slot(user)
    out = t(content, "reminder_now", day=day_name(content, day), slot=slot_name(content, slot))
    if user.reminder_snoozed_week is not None and user.reminder_snoozed_week >= current_week_start(now):
        out += "\n" + t(content, "reminder_now_snoozed", week=content.date(user.reminder_snoozed_week))
    return out


def controls(content: Content, user: User) -> list[Message]:
    """Quick replies under a reminder and its settings: change the day, skip a week, stop or restart."""
    def q(label_key: str, action: str) -> Message:
        label = t(content, label_key)
        return msg.qr_postback(label, msg.postback_data(action), label)

    if user.reminders_off:
        return [q("label.reminders_on", "remind.on"), q("label.reminder_day", "remind.settings")]
    return [q("label.reminder_day", "remind.settings"), q("label.snooze", "remind.snooze"),
            q("label.reminders_off", "remind.off")]


# --- settings ---------------------------------------------------------------------------------------

def show_settings(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """"ตั้งวันเตือน": the current setting, a button for each day, skip a week, stop."""
    c, user = ctx.content, ctx.user
    ctx.clear_state()
    days = [msg.qr_postback(t(c, "label.day", day=day_name(c, d)), msg.postback_data("remind.day", d=str(d)),
                            t(c, "label.day", day=day_name(c, d))) for d in range(7)]
    rest = [q for q in controls(c, user) if "remind.settings" not in q["action"]["data"]]
    return [msg.text(current_setting(c, user, ctx.now) + "\n\n" + t(c, "reminder_pick_day"),
                     quick=days + rest + [stop_quick(c)])]


def pick_day(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """A day picked: morning or evening?"""
    c = ctx.content
    try:
        day = int(params.get("d", ""))
    except ValueError:
        return show_settings(turn, ctx)
    if not 0 <= day <= 6:
        return show_settings(turn, ctx)
    quick = [msg.qr_postback(slot_name(c, s), msg.postback_data("remind.set", d=str(day), s=s), slot_name(c, s))
             for s in REMINDER_SLOTS]
    return [msg.text(t(c, "reminder_pick_slot", day=day_name(c, day)), quick=quick + [stop_quick(c)])]


def set_slot(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Save the day and time of day; reminders on."""
    c, user = ctx.content, ctx.user
    try:
        day = int(params.get("d", ""))
    except ValueError:
        return show_settings(turn, ctx)
    slot = params.get("s", "")
    if not 0 <= day <= 6 or slot not in REMINDER_TIMES:
        return show_settings(turn, ctx)
    user.reminder_day, user.reminder_slot, user.reminders_off = day, slot, False
    return [msg.text(t(c, "reminder_saved", day=day_name(c, day), slot=slot_name(c, slot)),
                     quick=controls(c, user) + next_quick(ctx, "status"))]


def next_reminder_week(user: User, now: datetime) -> date:
    """The week whose reminder comes next: this week's, unless it went out or its time has passed."""
    this_week = current_week_start(now)
    day, slot = day_and_slot(user)
    if user.reminded_week == this_week or reminder_time(this_week, day, slot) <= as_utc(now):
        return this_week + WEEK
    return this_week


def snooze(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """Skip the next reminder (one week), then carry on as before."""
    c, user = ctx.content, ctx.user
    ctx.clear_state()
    week = next_reminder_week(user, ctx.now)
    user.reminder_snoozed_week, user.reminders_off = week, False
    day, slot = day_and_slot(user)
    return [msg.text(t(c, "reminder_snoozed", week=c.date(week), day=day_name(c, day), slot=slot_name(c, slot),
                       again=c.date(week + WEEK)), quick=controls(c, user) + next_quick(ctx, "status"))]


def stop(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """No more check-in reminders; campaign news goes on (or stays stopped) as it was."""
    c, user = ctx.content, ctx.user
    ctx.clear_state()
    key = "reminders_already_off" if user.reminders_off else "reminders_stopped"
    user.reminders_off = True
    news = t(c, "reminder_news_off" if user.opted_out else "reminder_news_on")
    return [msg.text(t(c, key) + " " + news, quick=controls(c, user) + next_quick(ctx, "status"))]


def restart(turn: Turn, ctx: Ctx, params: dict[str, str] | None = None) -> list[Message]:
    """Reminders on again, on the day set before."""
    c, user = ctx.content, ctx.user
    ctx.clear_state()
    user.reminders_off = False
    day, slot = day_and_slot(user)
    return [msg.text(t(c, "reminder_saved", day=day_name(c, day), slot=slot_name(c, slot)),
                     quick=controls(c, user) + next_quick(ctx, "status"))]


def typed(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """"หยุดเตือน", "ตั้งเวลาเตือน", "เลื่อนการเตือน" typed (words from content, matched whole)."""
    c = ctx.content
    if in_words(c, "pledges.reminder_stop_words", turn.text):
        return stop(turn, ctx)
    if in_words(c, "pledges.reminder_snooze_words", turn.text):
        return snooze(turn, ctx)
    if in_words(c, "pledges.reminder_settings_words", turn.text):
        return show_settings(turn, ctx)
    return None


# --- the reminder itself ------------------------------------------------------------------------------

def reminder_messages(session: Session, content: Content, user: User, now: datetime, week: date) -> list[Message]:
    """One resident's reminder: their week so far against their own pledges, praise or a fresh start,
    the week's check-in buttons, and the controls."""
    c = content
    view = status_of(session, c, user.id, now)
    this_week = current_week_start(now)
    asked = [(v, week_asked(v, week, this_week)) for v in view.pledges]
    answered = [(v, w) for v, w in asked if w in v.checkins]
    kept = sum(1 for v, w in answered if v.checkins[w])
    best = max((v.streak for v in view.pledges), default=0)
    parts = [t(c, "reminder_head", week=c.date(week)),
             t(c, "reminder_progress", n=len(asked), answered=len(answered), kept=kept)]
    parts.append(t(c, "reminder_praise", streak=best) if best >= 1 else t(c, "reminder_fresh"))
    if any(v.kg_to_date is not None for v in view.pledges):
        parts.append(t(c, "reminder_impact", kg=fmt_kg(view.kg_to_date), kg_year=fmt_kg(view.kg_year)))
    open_ = [(v, w) for v, w in asked if w not in v.checkins][:MAX_CAROUSEL]
    parts.append(t(c, "reminder_ask") if open_ else t(c, "reminder_all_answered"))
    parts.append(t(c, "reminder_controls"))
    quick = controls(c, user)
    body = "\n\n".join(parts)
    if not open_:
        return [msg.text(body, quick=quick)]
    bubbles = [checkin_bubble(c, v.pledge, w) for v, w in open_]
    return [msg.text(body), msg.flex(t(c, "checkin_alt_week", week=c.date(week)), carousel(bubbles), quick=quick)]


def register(registry: Registry) -> None:
    registry.postback(show_settings, "remind.settings")
    registry.postback(pick_day, "remind.day")
    registry.postback(set_slot, "remind.set")
    registry.postback(snooze, "remind.snooze")
    registry.postback(stop, "remind.off")
    registry.postback(restart, "remind.on")
    registry.text_hook(typed)
