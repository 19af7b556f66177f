"""The worker's air jobs: refresh Air4Thai's readings every 20 minutes, check haze alerts every 5."""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from bot.air.alerts import AlertsReport, run_alerts
from bot.air.fetch import FeedError, StationReading, around_chiang_mai, download, in_province, parse
from bot.air.geo import distance_km
from bot.campaigns.sender import SendEnv
from bot.config import DEFAULT_AIR_QUALITY_URL
from bot.content.model import Content
from bot.jobs import Job
from bot.store.air import store_readings

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

REFRESH_EVERY = 20 * 60.0
ALERTS_EVERY = 5 * 60.0
# A station this far from the district its own area names has suspicious coordinates.
MISPLACED_KM = 30.0
DISTRICT_IN_AREA = re.compile(r"อ\.\s*([^\s,]+)")


@dataclass
class RefreshReport:
    """What one refresh did: stations stored, and what it could not use."""

    stored: int = 0
    older: int = 0                 # readings not stored because the stored one is newer
    in_feed: int = 0
    around: int = 0                # stations in and around Chiang Mai in the feed
    unusable: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"Air4Thai could not be read: {self.error}; the last good readings are kept"
        line = (f"Air4Thai: {self.in_feed} stations in the feed, {self.around} in and around Chiang Mai; "
                f"stored {self.stored}")
        if self.older:
            line += f", {self.older} not newer than the stored reading"
        if self.unusable:
            line += f"; without a usable reading (last good one kept): {', '.join(self.unusable)}"
        return line


def _row(s: StationReading, content: Content, fetched_at: object) -> dict[str, object]:
    assert content.air is not None and s.pm25 is not None
    return {"name_th": s.name_th, "name_en": s.name_en, "area_th": s.area_th, "area_en": s.area_en,
            "lat": s.lat, "lon": s.lon, "measured_at": s.measured_at, "pm25": s.pm25,
            "band": content.air.band_of(s.pm25).id, "fetched_at": fetched_at}


def warn_misplaced(stations: list[StationReading], content: Content) -> None:
    """Log stations whose coordinates are far from the district their own area names (one line each)."""
    for s in stations:
        m = DISTRICT_IN_AREA.search(s.area_th)
        d = content.district_by_name(m.group(1)) if m and in_province(s) else None
        if d is None or d.lat is None or d.lon is None or s.lat is None or s.lon is None:
            continue
        km = distance_km(s.lat, s.lon, d.lat, d.lon)
        if km > MISPLACED_KM:
            log.warning("air4thai: station %s is %.0f km from อ.%s, which its area names; its coordinates may be "
                        "wrong, so its distance to residents may be too", s.station_id, km, d.name)


def refresh(deps: Deps) -> RefreshReport:
    """Fetch Air4Thai once and store the latest good reading of each station in and around Chiang Mai.

    Any fault (no answer, an HTTP error, bad JSON, missing values) is logged in one line and the
    last good readings are kept."""
    url = str(deps.config.get("AIR_QUALITY_URL") or DEFAULT_AIR_QUALITY_URL)
    timeout = float(deps.config.get("AIR_QUALITY_TIMEOUT", 15.0))
    content = deps.content
    now = deps.clock()
    report = RefreshReport()
    try:
        stations = parse(download(url, timeout), now)
    except FeedError as e:
        log.warning("air4thai: %s; kept the last good readings", e)
        report.error = str(e)
        return report
    report.in_feed = len(stations)
    around = around_chiang_mai(stations, content.districts)
    report.around = len(around)
    good = [s for s in around if s.usable]
    report.unusable = [f"{s.station_id} ({s.problem})" for s in around if not s.usable]
    rows = [(s.station_id, _row(s, content, now)) for s in good]
    for attempt in (1, 2):
        try:
            with deps.db.session() as session:
                report.stored, report.older = store_readings(session, rows)
            break
        except IntegrityError:  # another worker inserted the same new station: read its row, go on
            if attempt == 2:
                raise
    if report.unusable:
        log.warning("air4thai: %d station(s) in and around Chiang Mai without a usable reading: %s; "
                    "kept their last good readings", len(report.unusable), ", ".join(report.unusable))
    if not around:
        log.warning("air4thai: no station in or around Chiang Mai in a feed of %d stations", len(stations))
    warn_misplaced(good, content)
    log.info("air4thai: %d stations stored", report.stored)
    return report


def refresh_job(every: float = REFRESH_EVERY) -> Job:
    """The worker's refresh of Air4Thai's readings."""

    def run(deps: Deps, stop: threading.Event) -> None:
        refresh(deps)

    return Job("air readings", every, run)


def alerts(deps: Deps, stop: threading.Event | None = None, dry_run: bool = False) -> AlertsReport:
    """One round of haze alerts with the app's campaign settings."""
    return run_alerts(SendEnv.from_deps(deps), deps.contents, stop=stop, dry_run=dry_run)


def alerts_job(every: float = ALERTS_EVERY) -> Job:
    """The worker's haze-alert check."""

    def run(deps: Deps, stop: threading.Event) -> None:
        report = alerts(deps, stop)
        if report.created or report.sent or report.cancelled:
            log.info("haze alerts: %d campaign(s) made, %d sent, %d cancelled", len(report.created),
                     len(report.sent), report.cancelled)

    return Job("haze alerts", every, run)
