"""Opt-in haze alerts: when the station nearest to a district first reads orange or red on a day,
the district's subscribers get one alert, sent by the campaign sender.

An alert is an AirAlert row (unique per district and day) and one campaign per language whose
audience is "air:<alert id>:<lang>": the subscribers put into the alert when it was made (at most
one alert per resident per day), still subscribed and reachable when each batch is cut. So alerts
get the campaigns' batching, retry keys, rate limit, quota check, block rules and resumability.
News opt-out does not stop alerts ("หยุดแจ้งเตือนฝุ่น" does); a block always does.
No alert is made or sent between 21:00 and 06:00 in Chiang Mai: a district still orange or red at
06:00 gets that day's alert then. An alert of an earlier day that could not be sent is cancelled,
never sent late.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.air.card import alert_messages, fmt_km, fmt_value
from bot.air.nearest import FRESH_FOR, Nearest, nearest
from bot.campaigns.claims import new_owner
from bot.campaigns.compose import validate_messages
from bot.campaigns.errors import CampaignError, ClaimLost
from bot.campaigns.sender import SendEnv, Sender, SendReport
from bot.clock import BANGKOK, as_utc, bangkok_text
from bot.content.model import AirBand, Contents, District
from bot.fmt import local_date
from bot.store.air import all_readings, count_not_alerted, members_by_lang, put_into_alert, subscribers_by_district
from bot.store.campaigns import SENDABLE, claim
from bot.store.models import AirAlert, Campaign, CampaignStatus

log = logging.getLogger(__name__)

QUIET_FROM, QUIET_UNTIL = 21, 6  # hours, Asia/Bangkok
AUDIENCE_PREFIX = "air:"


def quiet(now: datetime) -> bool:
    """Between 21:00 and 06:00 in Chiang Mai: no alert is made or sent."""
    hour = as_utc(now).astimezone(BANGKOK).hour
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


@dataclass
class DistrictCheck:
    """One district with subscribers: its nearest fresh reading and whether it is alerted now."""

    district: District
    subscribers: int
    waiting: int                 # subscribers not alerted yet today
    nearest: Nearest | None
    band: AirBand | None
    decision: str                # why (not) alerted
    alert: bool = False

    def describe(self, would: bool) -> str:
        d = self.district
        head = f"{d.name} ({d.code}): "
        if self.nearest is not None and self.band is not None:
            r = self.nearest.reading
            head += (f"{fmt_value(r.pm25)} µg/m³ {self.band.id} at {r.station_id} "
                     f"{r.name_en or r.name_th}, {fmt_km(self.nearest.km)} km, measured {bangkok_text(r.measured_at)}; ")
        verb = "would alert" if would else "alerting"
        what = f"{verb} {self.waiting} of {self.subscribers} subscribers" if self.alert else self.decision
        return head + what


@dataclass
class AlertsReport:
    """What one round of the alerts job saw and did."""

    now: datetime
    checks: list[DistrictCheck] = field(default_factory=list)
    created: list[int] = field(default_factory=list)     # alert campaign ids made this round
    sent: list[SendReport] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)  # why an alert campaign could not go out now
    cancelled: int = 0
    quiet: bool = False

    def describe(self, dry_run: bool) -> str:
        lines = [f"haze alerts at {bangkok_text(self.now)}" + (" (dry run: nothing is stored or sent)" if dry_run else "")]
        if self.quiet:
            lines.append(f"quiet hours ({QUIET_FROM:02d}:00-{QUIET_UNTIL:02d}:00 in Chiang Mai): nothing is sent now")
        if not self.checks:
            lines.append("no district has haze-alert subscribers yet")
        lines += [c.describe(dry_run) for c in self.checks]
        for r in self.sent:
            lines.append(r.describe())
        lines += self.not_sent
        if self.cancelled:
            lines.append(f"{self.cancelled} unsent alert campaign(s) of earlier days cancelled")
        return "\n".join(lines)


def check_districts(session: Session, contents: Contents, now: datetime) -> list[DistrictCheck]:
    """Every district with reachable subscribers, and whether its alert is due now."""
    content = contents.th
    index = content.air
    counts = subscribers_by_district(session)
    readings = all_readings(session)
    day = local_date(now)
    alerted = set(session.scalars(select(AirAlert.district_code).where(AirAlert.day == day)))
    is_quiet = quiet(now)
    checks = []
    for code in sorted(counts):
        d = content.district_by_code(code)
        if d is None:
            continue
        waiting = count_not_alerted(session, code, day)
        if d.lat is None or d.lon is None or index is None:
            checks.append(DistrictCheck(d, counts[code], waiting, None, None, "no alert: the district has no centre"))
            continue
        found = nearest(readings, d.lat, d.lon, now, in_service_for=FRESH_FOR)
        band = (index.band(found.reading.band) or index.band_of(found.reading.pm25)) if found else None
        check = DistrictCheck(d, counts[code], waiting, found, band, "")
        if found is None or band is None:
            check.decision = f"no alert: no station near it reported in the last {int(FRESH_FOR.total_seconds() // 3600)} hours"
        elif not band.alert:
            check.decision = "no alert: below orange"
        elif code in alerted:
            check.decision = "no alert: the district had its alert today"
        elif waiting == 0:
            check.decision = "no alert: every subscriber had an alert today"
        elif is_quiet:
            check.decision = f"held: quiet hours until {QUIET_UNTIL:02d}:00 (alerted then if still orange or red)"
        else:
            check.alert, check.decision = True, "alert"
        checks.append(check)
    return checks


def create_alert(session: Session, contents: Contents, check: DistrictCheck, now: datetime) -> list[int]:
    """Record the district's alert of the day, put its subscribers in, and make one campaign per
    language; the campaign ids. Raises IntegrityError when another worker made it first."""
    assert check.nearest is not None and check.band is not None
    d, r = check.district, check.nearest.reading
    day = local_date(now)
    alert = AirAlert(district_code=d.code, day=day, band=check.band.id, pm25=r.pm25, station_id=r.station_id,
                     measured_at=r.measured_at, recipients=0, created_at=now)
    session.add(alert)
    session.flush()
    alert.recipients = put_into_alert(session, alert.id, d.code, day)
    ids = []
    for lang, count in members_by_lang(session, alert.id).items():
        if not count:
            continue
        content = contents.of(lang)
        messages = alert_messages(content, check.nearest, content.district_name(d), now)
        validate_messages(messages)
        campaign = Campaign(name=f"haze alert {d.name} {day.isoformat()} ({lang})", text=messages[0]["altText"],
                            flex=None, messages=messages, audience=f"{AUDIENCE_PREFIX}{alert.id}:{lang}", checkin=False,
                            status=CampaignStatus.DRAFT, cursor_user_id=0, created_at=now)
        session.add(campaign)
        session.flush()
        ids.append(campaign.id)
    log.info("haze alert %s for district %s (%s): %d recipients, campaigns %s", alert.id, d.code, check.band.id,
             alert.recipients, ids)
    return ids


def unsent_alert_campaigns(session: Session, now: datetime) -> tuple[list[int], int]:
    """Alert campaigns of today still to be sent (or resumed); those of earlier days are cancelled.
    Returns (ids to send, how many were cancelled)."""
    rows = session.execute(select(Campaign.id, Campaign.created_at).where(
        Campaign.audience.like(AUDIENCE_PREFIX + "%"),
        Campaign.status.in_([*SENDABLE, CampaignStatus.SENDING])).order_by(Campaign.id)).all()
    today = local_date(now)
    old = [cid for cid, created in rows if local_date(created) != today]
    if old:
        session.execute(update(Campaign).where(Campaign.id.in_(old), Campaign.status.in_(list(SENDABLE)))
                        .values(status=CampaignStatus.CANCELLED,
                                last_error="a haze alert of an earlier day is never sent late")
                        .execution_options(synchronize_session=False))
    return [cid for cid, created in rows if local_date(created) == today], len(old)


def send_alerts(env: SendEnv, ids: list[int], stop: threading.Event, owner: str,
                not_sent: list[str] | None = None) -> list[SendReport]:
    """Send (or resume) each alert campaign it can claim, like `campaign send`; why one could not
    go out now is added to not_sent."""
    reports = []
    for cid in ids:
        if stop.is_set():
            break
        with env.db.session() as s:
            won = claim(s, cid, owner, env.clock(), statuses=SENDABLE, stale_after=env.claim_timeout)
        if not won:
            continue  # another worker sends it
        try:
            reports.append(Sender(env, cid, owner, stop=stop).run())
        except (CampaignError, ClaimLost) as e:  # the quota, LINE, a takeover: resumed next round
            log.error("haze alert campaign %s not sent now: %s", cid, e)
            if not_sent is not None:
                not_sent.append(f"campaign {cid} not sent now (tried again at the next round): {e}")
    return reports


def run_alerts(env: SendEnv, contents: Contents, *, stop: threading.Event | None = None, dry_run: bool = False,
               owner: str | None = None) -> AlertsReport:
    """One round: which districts are due, make their alerts and send them (none in quiet hours)."""
    stop = stop or threading.Event()
    now = env.clock()
    report = AlertsReport(now, quiet=quiet(now))
    with env.db.session() as s:
        report.checks = check_districts(s, contents, now)
    if dry_run or report.quiet:
        return report
    for check in report.checks:
        if not check.alert:
            continue
        try:
            with env.db.session() as s:
                report.created += create_alert(s, contents, check, now)
        except IntegrityError:
            log.info("haze alert for district %s was made by another worker", check.district.code)
    with env.db.session() as s:
        ids, report.cancelled = unsent_alert_campaigns(s, now)
    report.sent = send_alerts(env, ids, stop, owner or new_owner(), report.not_sent)
    return report
