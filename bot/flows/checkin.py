"""My pledges: since when, streaks, estimated impact to date, and the weekly check-in."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from bot import messages as msg
from bot.clock import as_utc
from bot.content.model import Action, Content
from bot.flows.common import action_of, bubble, button, carousel, district_name, next_quick, row_id, t, tap, title_of, trees_text
from bot.flows.quantity import amount
from bot.fmt import fmt_kg
from bot.impact import WEEK, checkin_week, current_week_start, impact_to_date, streak
from bot.limits import MAX_CAROUSEL
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.models import Pledge, PledgeStatus
from bot.store.pledges import CheckinChange, active_pledges, checkins_of, own_pledge, record_checkin, weeks_kept
from bot.store.users import lock_user
from bot.turn import Ctx, Message, Turn


class CheckinState(StrEnum):
    # A check-in is open: the status card or a check-in answer was just shown, so typed answers
    # ("ทำแล้ว", "ยังไม่ได้ทำ ฝนตก", "จริงๆ ทำแล้ว ขอแก้") are read as answers (bot/flows/checkin_typed.py).
    OPEN = "checkin.open"  # data: week (the Monday asked about), last (the pledge just answered), saved


@dataclass
class PledgeView:
    pledge: Pledge
    action: Action | None
    checkins: dict[date, bool]
    streak: int
    kg_to_date: float | None


@dataclass
class StatusView:
    pledges: list[PledgeView] = field(default_factory=list)

    @property
    def kg_to_date(self) -> float:
        return sum(v.kg_to_date or 0.0 for v in self.pledges)

    @property
    def kg_year(self) -> float:
        return sum(v.action.kg_year(v.pledge.quantity) or 0.0 for v in self.pledges if v.action is not None)


def status_of(session: Session, content: Content, user_id: int, now: datetime) -> StatusView:
    """A resident's active pledges with streaks and impact to date (two indexed queries)."""
    pledges = active_pledges(session, user_id)
    cis = checkins_of(session, [p.id for p in pledges])
    week = current_week_start(now)
    out = StatusView()
    for p in pledges:
        a = action_of(content, p.action_id)
        c = cis.get(p.id, {})
        kg = a.kg_year(p.quantity) if a is not None else None
        out.pledges.append(PledgeView(p, a, c, streak(c, week),
                                      impact_to_date(kg, p.started_at, now, c) if kg is not None else None))
    return out


def checkin_bubble(content: Content, pledge: Pledge, week_start: date, answered: bool | None = None) -> Message:
    """One pledge's ทำแล้ว / ยังไม่ได้ทำ buttons for one week (with the answer saved, when there is one)."""
    week = content.date(week_start)
    data = {"p": str(pledge.id), "w": week_start.isoformat()}
    lines = [(t(content, "checkin_week", week=week), "#555555")]
    if answered is not None:
        lines.append((t(content, "checkin_recorded_line", answer=answer_word(content, answered)), "#2E7D32"))
    return bubble(title_of(content, pledge.action_id), lines, [
        button(t(content, "label.done"), msg.postback_data("pledge.checkin", **data, d="1"), t(content, "label.done"),
               style="secondary" if answered is True else "primary"),
        button(t(content, "label.not_done"), msg.postback_data("pledge.checkin", **data, d="0"),
               t(content, "label.not_done"), style="secondary"),
    ])


def answer_word(content: Content, done: bool) -> str:
    return t(content, "checkin_answer_done" if done else "checkin_answer_not_done")


def week_asked(v: PledgeView, week: date, this_week: date) -> date:
    """The week a pledge is asked about: the requested one, or this week when it began after that."""
    return week if week >= current_week_start(as_utc(v.pledge.started_at)) else this_week


def pledge_status(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """My pledges: since when, streaks, estimated impact to date, and this week's check-in."""
    return status_messages(ctx)


def pledge_status_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "คำมั่นของฉัน" button, the weekly reminder's button (w=<Monday of the week asked about>),
    and "แก้คำตอบ" (e=1: the week's cards with their saved answers, to change one)."""
    return status_messages(ctx, checkin_week(ctx.now, params.get("w")), edit=params.get("e") == "1")


def status_messages(ctx: Ctx, week: date | None = None, edit: bool = False) -> list[Message]:
    ctx.clear_state()
    c = ctx.content
    view = status_of(ctx.session, c, ctx.user.id, ctx.now)
    if not view.pledges:
        return [msg.text(t(c, "status_none"), quick=next_quick(ctx, "start", "stats"))]
    this_week = current_week_start(ctx.now)
    week = week or this_week
    lines = []
    for v in view.pledges:
        impact = (t(c, "status_impact", kg=fmt_kg(v.kg_to_date)) if v.kg_to_date is not None
                  else t(c, "status_no_estimate"))
        title = title_of(c, v.pledge.action_id)
        if v.action is not None and v.action.quantity is not None:
            title += f" ({amount(c, v.action, v.pledge.quantity)})"
        lines.append(t(c, "status_line", title=title, since=c.date(v.pledge.started_at), streak=v.streak, impact=impact))
    if any(v.kg_to_date is not None for v in view.pledges):
        total = t(c, "status_total", kg=fmt_kg(view.kg_to_date), kg_year=fmt_kg(view.kg_year)) + "\n" + t(c, "status_rule")
    else:  # no pledge has a sourced number: say so rather than add up zeros
        total = t(c, "status_total_none")
    body = t(c, "status_head", n=len(view.pledges), district=district_name(c, ctx.user.district_code)) \
        + "\n\n" + "\n\n".join(lines) + "\n\n" + total
    out = [msg.text(body)]
    asked = [(v, week_asked(v, week, this_week)) for v in view.pledges]
    shown = asked if edit else [(v, w) for v, w in asked if w not in v.checkins]
    shown = shown[:MAX_CAROUSEL]
    quick = next_quick(ctx, "start", "cancel", "stats")
    fixes = []
    if not edit and len(shown) < len(asked):  # some answered: they can be changed
        fixes.append(msg.qr_postback(t(c, "label.fix_answers"), msg.postback_data("pledge.status", w=week.isoformat(), e="1"),
                                     t(c, "label.fix_answers")))
    last_week = this_week - WEEK
    if week == this_week and any(current_week_start(as_utc(v.pledge.started_at)) <= last_week for v in view.pledges):
        fixes.append(msg.qr_postback(t(c, "label.last_week"), msg.postback_data("pledge.status", w=last_week.isoformat(), e="1"),
                                     t(c, "label.last_week")))
    if any(v.action is not None and v.action.quantity is not None for v in view.pledges):
        quick.append(tap(c, "label.change_qty", "pledge.qty_change"))
    quick.append(tap(c, "label.reminder_day", "remind.settings"))
    quick += [tap(c, "label.share_mine", "share.mine"), tap(c, "label.invite", "share.invite")]
    quick = fixes + quick
    ctx.set_state(CheckinState.OPEN, week=week.isoformat())
    if shown:
        bubbles = [checkin_bubble(c, v.pledge, w, v.checkins.get(w) if edit else None) for v, w in shown]
        alt = (t(c, "checkin_alt") if all(w == this_week for _, w in shown)
               else t(c, "checkin_alt_week", week=c.date(week)))
        out.append(msg.flex(alt, carousel(bubbles), quick=quick))
    else:
        done_key = "checkin_all_done" if week == this_week else "checkin_all_done_week"
        out[-1] = msg.text(body + "\n\n" + t(c, done_key, week=c.date(week)), quick=quick)
    return out


def check_in(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """Record whether a pledge was kept this week; a second tap updates, never duplicates."""
    c = ctx.content
    invalid = [msg.text(t(c, "checkin_invalid"), quick=next_quick(ctx, "status"))]
    pledge_id = row_id(params.get("p"))
    try:
        week = date.fromisoformat(params.get("w", ""))
    except ValueError:
        return invalid
    if pledge_id is None:
        return invalid
    done = params.get("d") == "1"
    lock_user(ctx.session, ctx.user)
    pledge = own_pledge(ctx.session, ctx.user, pledge_id)
    if pledge is None:
        return invalid
    if pledge.status != PledgeStatus.ACTIVE:
        return [msg.text(t(c, "checkin_ended", title=title_of(c, pledge.action_id)), quick=next_quick(ctx, "status"))]
    this_week = current_week_start(ctx.now)
    if week.weekday() != 0 or week > this_week or week < current_week_start(as_utc(pledge.started_at)):
        return invalid
    answer = record_answer(ctx, pledge, week, done)
    quick = fix_quick(ctx, pledge, week, done) + next_quick(ctx, "status", "stats")
    return with_milestones(ctx, [msg.text(answer, quick=quick)])


def record_answer(ctx: Ctx, pledge: Pledge, week: date, done: bool) -> str:
    """Record one pledge's answer for one week; what to tell the resident (the check-in stays open,
    so a typed correction right after it is read as one)."""
    c = ctx.content
    title = title_of(c, pledge.action_id)
    result = record_checkin(ctx.session, pledge, week, done, ctx.now)
    n = streak(result.weeks, current_week_start(ctx.now))
    answer = t(c, f"checkin_{result.change}_{'done' if done else 'not_done'}", title=title, week=c.date(week))
    answer += "\n" + (t(c, "streak", n=n) if n >= 1 else t(c, "streak_zero"))
    ctx.set_state(CheckinState.OPEN, week=week.isoformat(), last=pledge.id)
    if result.change != CheckinChange.ALREADY:
        ctx.note_saved(t(c, "saved_checkin", title=title, week=c.date(week), answer=answer_word(c, done)))
    return answer


# Weeks kept that earn a word of praise, and the first kgCO2e milestone.
MILESTONE_WEEKS = (4, 12, 26)
MILESTONE_KG = 100


def with_milestones(ctx: Ctx, answer: list[Message]) -> list[Message]:
    """The answer, with a short celebration before it when a milestone was just reached (each once)."""
    c, user = ctx.content, ctx.user
    have = set(user.milestones or [])
    kept = weeks_kept(ctx.session, user.id)
    view = status_of(ctx.session, c, user.id, ctx.now)
    kg = view.kg_to_date
    impact = t(c, "milestone_impact", kg=fmt_kg(kg)) if any(v.kg_to_date is not None for v in view.pledges) else ""
    trees = trees_text(c, kg) if kg else None
    lines, new = [], set()
    weeks = [n for n in MILESTONE_WEEKS if kept >= n and f"weeks_{n}" not in have]
    if weeks:
        new |= {f"weeks_{n}" for n in weeks}
        lines.append(t(c, "milestone_weeks", n=max(weeks), impact=impact).strip())
    if kg >= MILESTONE_KG and "kg_100" not in have:
        new.add("kg_100")
        lines.append(t(c, "milestone_kg", kg=fmt_kg(kg), trees=trees or "").strip())
    if not new:
        return answer
    user.milestones = sorted(have | new)
    # The celebration goes before the answer, whose quick replies must stay last.
    return [msg.text("\n\n".join(lines))] + answer


def fix_quick(ctx: Ctx, pledge: Pledge, week: date, done: bool) -> list[Message]:
    """The button that turns the answer just given into the other one."""
    key = "label.fix_not_done" if done else "label.fix_done"
    label = t(ctx.content, key)
    return [msg.qr_postback(label, msg.postback_data("pledge.checkin", p=str(pledge.id), w=week.isoformat(),
                                                     d="0" if done else "1"), label)]


def register(registry: Registry) -> None:
    registry.intent(pledge_status, "pledge_status")
    registry.postback(pledge_status_tap, "pledge.status")
    registry.postback(check_in, "pledge.checkin")
