"""Campaigns in the console (sender and up; the list and reports for viewers too): the list, the
composer with its live preview and audience count, the confirmation step, cancel, and each
campaign's delivery and engagement report. Creating and sending go through bot.campaigns: a
confirmed campaign is scheduled (for now, or a Bangkok time) and the worker sends it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot import campaigns as cp
from bot.campaigns.sender import Plan
from bot.clock import bangkok_text
from bot.console.auth import requires, staff
from bot.console.web import audit, bp, deps, now, shown
from bot.content.model import Content
from bot.store.campaigns import SENDABLE
from bot.store.models import AccountRole, Campaign
from bot.store.taps import taps_of, total_taps
from bot.turn import Message

AUDIENCE_KINDS = (("all", "All followers"), ("pledged", "Households with a pledge"),
                  ("not_pledged", "Followers without a pledge"), ("district", "Followers in one district"),
                  ("action", "Households that pledged one action"))
# What a tapped button was, for the engagement report.
TAP_LABELS = {"optout": "Stop receiving news", "pledge.status": "Check in (my pledges)", "pledge.pick": "Pledge an action",
              "pledge.start": "Start a pledge", "pledge.stats": "Community totals", "action.estimate": "How it is worked out"}


@dataclass
class Draft:
    """The composer's fields, as typed."""

    name: str = ""
    text: str = ""
    text_en: str = ""
    flex: str = ""
    audience: str = "all"
    district: str = ""
    action: str = ""
    when: str = "now"   # "now" or "at"
    at: str = ""        # datetime-local, Bangkok time

    @classmethod
    def from_form(cls, form: Any) -> Draft:
        return cls(**{k: str(form.get(k, "") or "").strip()[:20000] for k in cls.__dataclass_fields__})

    def audience_value(self) -> str:
        if self.audience == "district":
            return f"district:{self.district}"
        if self.audience == "action":
            return f"action:{self.action}"
        return self.audience


@dataclass
class Checked:
    errors: list[str]
    messages: list[Message]
    messages_en: list[Message] | None
    audience: str = ""
    recipients: int = 0
    by_district: bool = False
    at: datetime | None = None

    @property
    def recipients_text(self) -> str:
        return shown(self.recipients, self.by_district)


def _flex(raw: str) -> tuple[Message | None, str | None]:
    if not raw.strip():
        return None, None
    try:
        value = json.loads(raw)
    except ValueError as e:
        return None, f"Flex JSON: {e}"
    if not isinstance(value, dict):
        return None, 'Flex JSON: one container is expected, {"type": "bubble", …} or {"type": "carousel", …}'
    return value, None


def check_draft(s: Session, content: Content, content_en: Content, d: Draft, t: datetime, *, store: bool = False
                ) -> tuple[Checked, Campaign | None]:
    """Validate the draft through create_campaign; kept only with store (otherwise rolled back)."""
    errors: list[str] = []
    flex, problem = _flex(d.flex)
    if problem:
        errors.append(problem)
    at: datetime | None = t
    if d.when == "at":
        try:
            at = cp.parse_at(d.at)
            if at <= t:
                errors.append(f"{bangkok_text(at)} has passed: choose a later time, or send now.")
        except cp.CampaignError:
            errors.append("Choose the date and time to send it (Bangkok time), or send now.")
    if d.audience not in {k for k, _ in AUDIENCE_KINDS}:
        errors.append("Choose who receives it.")
    if errors:
        return Checked(errors, [], None), None
    try:
        c = cp.create_campaign(s, content, name=d.name, text=d.text, flex=flex, audience=d.audience_value(), at=at,
                               now=t, text_en=d.text_en or None, content_en=content_en)
    except cp.CampaignError as e:
        s.rollback()
        return Checked([str(e).replace("--name", "The name").replace("--text", "The text")], [], None), None
    checked = Checked([], c.messages, c.messages_en, c.audience, cp.count_audience(s, c.audience),
                      c.audience.startswith("district:"), at)
    if not store:
        s.rollback()
        return checked, None
    return checked, c


def _quota(recipients: int) -> tuple[Plan | None, str | None]:
    try:
        limit, used = cp.read_quota(deps().line)
    except cp.CampaignError as e:
        return None, str(e)
    return Plan(recipients, limit, used), None


def _form_context(content: Content) -> dict[str, Any]:
    return {"kinds": AUDIENCE_KINDS, "districts": content.districts,
            "actions": [(a.id, a.title) for a in content.actions.values()]}


@bp.route("/campaigns")
def campaigns() -> ResponseReturnValue:
    """Campaigns, newest first, with status, progress and taps."""
    dp = deps()
    rows = []
    with dp.db.session() as s:
        taps = total_taps(s)
        for c, sent in cp.list_rows(s):
            by_district = c.audience.startswith("district:")
            rows.append({"c": c, "audience": cp.describe_audience(dp.content, c.audience),
                         "when": bangkok_text(c.scheduled_at or c.created_at), "sent": shown(sent, by_district),
                         "taps": shown(taps.get(c.id, 0), by_district) if taps.get(c.id) else "0"})
    return render_template("console/campaigns.html", rows=rows)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@requires(AccountRole.SENDER)
def compose() -> ResponseReturnValue:
    """The composer; POST shows the confirmation step, POST with confirm=1 schedules the campaign."""
    dp = deps()
    content = dp.content
    if request.method == "GET":
        plan, quota_problem = _quota(0)
        return render_template("console/compose.html", d=Draft(), errors=[], plan=plan, quota_problem=quota_problem,
                               **_form_context(content))
    d = Draft.from_form(request.form)
    t = now()
    confirmed = request.form.get("confirm") == "1"
    with dp.db.session() as s:
        checked, campaign = check_draft(s, content, dp.contents.en, d, t, store=False)
        plan, quota_problem = _quota(checked.recipients)
        if checked.errors:
            return render_template("console/compose.html", d=d, errors=checked.errors, plan=plan,
                                   quota_problem=quota_problem, **_form_context(content)), 400
        if not confirmed or (plan is not None and not plan.fits):
            return render_template("console/confirm.html", d=d, checked=checked, plan=plan, quota_problem=quota_problem,
                                   audience=cp.describe_audience(content, checked.audience),
                                   when=("now" if d.when == "now" else bangkok_text(checked.at)))
        checked, campaign = check_draft(s, content, dp.contents.en, d, t, store=True)
        if campaign is None:
            return render_template("console/compose.html", d=d, errors=checked.errors, plan=plan,
                                   quota_problem=quota_problem, **_form_context(content)), 400
        audit(s, "campaign_send_now" if d.when == "now" else "campaign_scheduled", target=f"campaign {campaign.id}",
              detail=f"{campaign.name[:200]}; audience {campaign.audience}; at {bangkok_text(campaign.scheduled_at)}; "
                     f"{checked.recipients} recipients now")
        campaign_id = campaign.id
    flash("Handed to the worker: it starts sending within a minute." if d.when == "now"
          else f"Scheduled for {bangkok_text(checked.at)}.")
    return redirect(url_for("console.campaign_report", campaign_id=campaign_id))


@bp.route("/campaigns/preview", methods=["POST"])
@requires(AccountRole.SENDER)
def preview() -> ResponseReturnValue:
    """The composer's live check: errors, the messages as LINE will get them, the audience's size."""
    dp = deps()
    d = Draft.from_form(request.get_json(silent=True) or {})
    if not d.name:
        d.name = "preview"
    with dp.db.session() as s:
        checked, _ = check_draft(s, dp.content, dp.contents.en, d, now(), store=False)
    return jsonify({"errors": checked.errors, "messages": checked.messages, "messages_en": checked.messages_en,
                    "recipients": checked.recipients_text if not checked.errors else None})


def _report(s: Session, campaign_id: int) -> dict[str, Any]:
    try:
        p = cp.progress_of(s, campaign_id)
    except cp.CampaignError:
        abort(404)
    c = p.campaign
    by_district = c.audience.startswith("district:")
    taps = taps_of(s, campaign_id)
    return {"id": c.id, "status": c.status, "sent": shown(p.sent, by_district), "failed": shown(p.failed, by_district),
            "pending": shown(p.pending, by_district), "percent": round(p.percent, 1),
            "taps": [{"action": a, "label": TAP_LABELS.get(a, a), "taps": shown(n, by_district)}
                     for a, n in sorted(taps.items(), key=lambda kv: -kv[1])],
            "total_taps": shown(sum(taps.values()), by_district) if taps else "0",
            "last_error": c.last_error, "failures": p.failures if not by_district else [],
            "started": bangkok_text(c.started_at), "finished": bangkok_text(c.finished_at),
            "cancellable": c.status in SENDABLE}


@bp.route("/campaigns/<int:campaign_id>")
def campaign_report(campaign_id: int) -> ResponseReturnValue:
    """One campaign: what it says, who it goes to, delivery (sent, failed, pending) and taps."""
    dp = deps()
    with dp.db.session() as s:
        report = _report(s, campaign_id)
        c = s.get(Campaign, campaign_id)
        assert c is not None
        return render_template("console/report.html", c=c, r=report, audience=cp.describe_audience(dp.content, c.audience),
                               scheduled=bangkok_text(c.scheduled_at), created=bangkok_text(c.created_at),
                               can_send=staff().can(AccountRole.SENDER))


@bp.route("/campaigns/<int:campaign_id>/progress.json")
def campaign_progress(campaign_id: int) -> ResponseReturnValue:
    with deps().db.session() as s:
        return jsonify(_report(s, campaign_id))


@bp.route("/campaigns/<int:campaign_id>/cancel", methods=["POST"])
@requires(AccountRole.SENDER)
def campaign_cancel(campaign_id: int) -> ResponseReturnValue:
    """Stop a draft, scheduled or interrupted campaign (what went out stays sent)."""
    with deps().db.session() as s:
        if cp.cancel(s, campaign_id):
            audit(s, "campaign_cancelled", target=f"campaign {campaign_id}")
            flash(f"Campaign {campaign_id} cancelled.")
        else:
            flash(f"Campaign {campaign_id} cannot be cancelled now (it is sending, done or already cancelled).")
    return redirect(url_for("console.campaign_report", campaign_id=campaign_id))


@bp.route("/campaigns/edit", methods=["POST"])
@requires(AccountRole.SENDER)
def compose_edit() -> ResponseReturnValue:
    """Back from the confirmation step to the composer, with what was typed."""
    plan, quota_problem = _quota(0)
    return render_template("console/compose.html", d=Draft.from_form(request.form), errors=[], plan=plan,
                           quota_problem=quota_problem, **_form_context(deps().content))
