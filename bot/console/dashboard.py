"""The dashboard (viewer and up): followers, pledges by week, sector and action, the check-in
rate by week since pledging, estimated tCO2e a year, districts with at least k households; and
the same figures as CSV. Counts only: no resident's id, name or words."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Response, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot.console.web import audit, bp, deps, now
from bot.content.model import Content
from bot.flows.community import MIN_HOUSEHOLDS_SHOWN, community_of
from bot.impact import current_week_start
from bot.store import reports

WEEKS_SHOWN = 26       # of the pledges-by-week chart
RETENTION_WEEKS = 12   # weeks since pledging on the retention chart


@dataclass
class Row:
    key: str
    label: str
    households: int
    pledges: int
    tonnes_year: float = 0.0


@dataclass
class RetentionPoint:
    week: int          # weeks since the pledge's week (0: that week itself)
    eligible: int      # pledges old enough to have reached that week
    done: int          # check-ins marked done in that week
    rate: float | None  # None when fewer than k pledges are eligible


@dataclass
class Dashboard:
    followers: reports.Followers
    households: int
    pledges: int
    tonnes_year: float
    by_week: list[tuple[date, int, int]]  # Monday, pledges made, first-time households
    by_action: list[Row]
    by_sector: list[Row]
    retention: list[RetentionPoint]
    districts: list[Row]
    caveats: list[str] = field(default_factory=list)


CAVEATS = [
    "Estimated, not measured: each active pledge counts its action's yearly estimate "
    "(inputs × a named emission factor, see content/actions.yaml and its sources).",
    "Pledges are what households say they will do; weeks they answered 'not done' are not subtracted "
    "from this yearly figure, and actions without a sourced estimate count zero.",
    "Households are LINE accounts with at least one active pledge; one household may use several accounts.",
]


def dashboard_of(session: Session, content: Content, today: datetime) -> Dashboard:
    """Every figure of the dashboard, from the bot's own counters and aggregate queries."""
    view = community_of(session, content)
    by_action = []
    by_sector: dict[str, Row] = {}
    for action_id, n in view.by_action:
        a = content.actions.get(action_id)
        kg = (a.kg_co2e_year or 0.0) * n if a else 0.0
        by_action.append(Row(action_id, a.title if a else action_id, n, n, kg / 1000))
        sector = a.sector if a else "?"
        row = by_sector.setdefault(sector, Row(sector, content.sectors.get(sector, sector), 0, 0))
        row.pledges += n
        row.tonnes_year += kg / 1000
    this_week = current_week_start(today)
    weekly = reports.pledges_by_week(session)
    first = this_week - timedelta(weeks=WEEKS_SHOWN - 1)
    by_week = [(w, *weekly.get(w, (0, 0))) for w in (first + timedelta(weeks=i) for i in range(WEEKS_SHOWN))]
    done = reports.done_checkins_by_weeks_since_pledge(session)
    retention = []
    for k in range(RETENTION_WEEKS):
        eligible = sum(made for w, (made, _) in weekly.items() if w + timedelta(weeks=k) <= this_week)
        d = done.get(k, 0)
        rate = d / eligible if eligible >= MIN_HOUSEHOLDS_SHOWN else None
        retention.append(RetentionPoint(k, eligible, d if rate is not None else 0, rate))
    districts = []
    for r in view.ranking:  # only districts with at least MIN_HOUSEHOLDS_SHOWN households
        district = content.district_by_code(r.code)
        districts.append(Row(r.code, district.name if district else r.code, r.households, r.pledges, r.kg_year / 1000))
    return Dashboard(followers=reports.followers(session), households=view.households, pledges=view.pledges,
                     tonnes_year=view.kg_year / 1000, by_week=by_week, by_action=by_action,
                     by_sector=sorted(by_sector.values(), key=lambda r: -r.pledges), retention=retention,
                     districts=districts, caveats=list(CAVEATS))


def csv_rows(d: Dashboard) -> list[list[str]]:
    """The dashboard as section,key,label,value rows."""
    rows = [["section", "key", "label", "value"]]
    f = d.followers
    rows += [["followers", k, k.replace("_", " "), str(v)] for k, v in (
        ("followers", f.followers), ("blocked", f.blocked), ("opted_out", f.opted_out), ("reachable", f.reachable))]
    rows += [["totals", "households", "pledging households", str(d.households)],
             ["totals", "pledges", "active pledges", str(d.pledges)],
             ["totals", "tco2e_year", "estimated tCO2e a year", f"{d.tonnes_year:.3f}"]]
    for w, made, first in d.by_week:
        rows += [["pledges_by_week", w.isoformat(), "pledges made", str(made)],
                 ["households_by_week", w.isoformat(), "first-time pledging households", str(first)]]
    rows += [["pledges_by_action", r.key, r.label, str(r.pledges)] for r in d.by_action]
    rows += [["pledges_by_sector", r.key, r.label, str(r.pledges)] for r in d.by_sector]
    for p in d.retention:
        rows.append(["checkin_rate_by_week_since_pledge", str(p.week), f"eligible {p.eligible}",
                     "" if p.rate is None else f"{p.rate:.4f}"])
    for r in d.districts:
        rows += [["district_households", r.key, r.label, str(r.households)],
                 ["district_pledges", r.key, r.label, str(r.pledges)],
                 ["district_tco2e_year", r.key, r.label, f"{r.tonnes_year:.3f}"]]
    return rows


def chart_data(d: Dashboard) -> dict[str, object]:
    return {
        "weeks": [w.isoformat() for w, _, _ in d.by_week],
        "pledges": [m for _, m, _ in d.by_week],
        "households": [h for _, _, h in d.by_week],
        "retention_weeks": [p.week for p in d.retention],
        "retention": [None if p.rate is None else round(100 * p.rate, 1) for p in d.retention],
        "sectors": [r.label for r in d.by_sector],
        "sector_pledges": [r.pledges for r in d.by_sector],
    }


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    """The dashboard."""
    dp = deps()
    with dp.db.session() as s:
        d = dashboard_of(s, dp.content, now())
    return render_template("console/dashboard.html", d=d, charts=chart_data(d), k=MIN_HOUSEHOLDS_SHOWN)


@bp.route("/dashboard.csv")
def dashboard_csv() -> ResponseReturnValue:
    """The dashboard's figures as CSV (audited as an export)."""
    dp = deps()
    with dp.db.session() as s:
        d = dashboard_of(s, dp.content, now())
        audit(s, "export", target="dashboard.csv")
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(d))
    stamp = now().strftime("%Y%m%d")
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="dashboard-{stamp}.csv"'})
