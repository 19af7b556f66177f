"""Air4Thai's public JSON of the latest readings of every station → the PM2.5 of the stations in and
around Chiang Mai province.

The feed (getNewAQI_JSON.php) is a list `stations`; every number in it is a string, missing values
are "-1", "-999", "N/A" or "-", times are Thai local time without a zone, and `AQILast.PM25.value`
is the 24-hour rolling average. An older shape names the block `LastUpdate`; both are read.
One download has explicit connect and read timeouts and an overall deadline, follows at most two
redirects on the same host (the app may reach only LINE and Air4Thai) and reads at most 5 MB.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3

from bot.air.geo import distance_km
from bot.clock import BANGKOK, UTC
from bot.content.model import District

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 2
# Stations outside the province are kept when they are this close to a district's centre: for a
# resident near the border (Saraphi, Doi Lo…) Lamphun's station is nearer than the city's.
NEARBY_KM = 40.0
# PM2.5 above this is not a reading but a fault (the worst Chiang Mai days are a few hundred).
MAX_PLAUSIBLE = 1000.0
# A time this far ahead of our clock is a fault too.
MAX_CLOCK_SKEW = timedelta(hours=1)
IN_PROVINCE = ("เชียงใหม่", "chiang mai", "chiangmai")


class FeedError(Exception):
    """Air4Thai could not be read (no answer, an HTTP error, not the expected JSON)."""


@dataclass(frozen=True)
class StationReading:
    """One station of the feed: where it is, and its PM2.5 (24-hour average, µg/m³) with when it was
    measured (UTC); `problem` says why there is no usable reading ("no value", "no place", "bad time")."""

    station_id: str
    name_th: str
    name_en: str
    area_th: str
    area_en: str
    lat: float | None
    lon: float | None
    measured_at: datetime | None
    pm25: float | None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


def download(url: str, timeout: float, max_bytes: int = MAX_BYTES) -> bytes:
    """The body of a GET of url, or FeedError; never longer than `timeout` seconds of silence and
    never much longer than `timeout` in all."""
    deadline = time.monotonic() + timeout
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout))
    current = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            resp = http.request("GET", current, preload_content=False, redirect=False,
                                headers={"Accept": "application/json", "User-Agent": "cm-lowcarbon-bot",
                                         "Connection": "close"})
            try:
                if resp.status in (301, 302, 303, 307, 308):
                    target = urljoin(current, resp.headers.get("Location") or "")
                    if urlsplit(target).hostname != urlsplit(current).hostname:
                        raise FeedError(f"redirected to another host ({urlsplit(target).hostname})")
                    current = target
                    continue
                if resp.status != 200:
                    raise FeedError(f"HTTP {resp.status}")
                chunks, size = [], 0
                while True:
                    if time.monotonic() > deadline:
                        raise FeedError(f"no complete answer within {timeout:g} s")
                    chunk = resp.read1(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise FeedError(f"answer over {max_bytes:,} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                resp.close()  # one download a run: close the connection rather than pool it
                resp.release_conn()
        raise FeedError("too many redirects")
    except urllib3.exceptions.HTTPError as e:
        if isinstance(e, urllib3.exceptions.NewConnectionError):  # refused, or the name did not resolve
            raise FeedError(f"could not connect ({type(e).__name__})") from None
        what = "no answer in time" if isinstance(e, urllib3.exceptions.TimeoutError) else type(e).__name__
        raise FeedError(f"{what} ({timeout:g} s timeout)") from None
    except OSError as e:
        raise FeedError(f"{type(e).__name__}") from None
    finally:
        http.clear()


def _number(raw: Any) -> float | None:
    """A feed number ("12.3"), or None for "-1", "-999", "N/A", "-", "" and anything negative."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    if value != value or value < 0:  # NaN, or a "missing" code
        return None
    return value


def _measured_at(block: dict[str, Any]) -> datetime | None:
    """The block's date and time (Thai local time) as aware UTC; "24:00" is the next midnight."""
    day, hhmm = str(block.get("date") or "").strip(), str(block.get("time") or "").strip()
    try:
        base = datetime.strptime(day, "%Y-%m-%d")
        hours, _, minutes = hhmm.partition(":")
        h, m = int(hours), int(minutes or 0)
    except ValueError:
        return None
    if not (0 <= h <= 24 and 0 <= m < 60):
        return None
    return (base + timedelta(hours=h, minutes=m)).replace(tzinfo=BANGKOK).astimezone(UTC)


def _text(raw: Any) -> str:
    return " ".join(str(raw or "").split())


def parse(body: bytes, now: datetime) -> list[StationReading]:
    """Every station of a feed body, each with its reading or the problem with it; FeedError when
    the body is not the feed's shape."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FeedError(f"not JSON ({type(e).__name__})") from None
    stations = data.get("stations") if isinstance(data, dict) else None
    if not isinstance(stations, list):
        raise FeedError("JSON without a list of stations")
    out: list[StationReading] = []
    for s in stations:
        if not isinstance(s, dict):
            continue
        sid = _text(s.get("stationID"))[:32]
        if not sid:
            continue
        block = s.get("AQILast") if isinstance(s.get("AQILast"), dict) else s.get("LastUpdate")
        block = block if isinstance(block, dict) else {}
        pm = block.get("PM25")
        value = _number(pm.get("value") if isinstance(pm, dict) else pm)
        lat, lon = _number(s.get("lat")), _number(s.get("long"))
        if lat is None or lon is None or not (lat <= 90 and 0 < lon <= 180):
            lat = lon = None
        when = _measured_at(block)
        problem = None
        if lat is None:
            problem = "no place"
        elif value is None or value > MAX_PLAUSIBLE:
            problem = "no value"
        elif when is None or when > now + MAX_CLOCK_SKEW:
            problem = "bad time"
        out.append(StationReading(
            station_id=sid, name_th=_text(s.get("nameTH"))[:300], name_en=_text(s.get("nameEN"))[:300],
            area_th=_text(s.get("areaTH"))[:300], area_en=_text(s.get("areaEN"))[:300], lat=lat, lon=lon,
            measured_at=when, pm25=round(value, 1) if value is not None else None, problem=problem))
    return out


def in_province(r: StationReading) -> bool:
    areas = f"{r.area_th} {r.area_en}".lower()
    return any(word in areas for word in IN_PROVINCE)


def near_districts(r: StationReading, districts: Iterable[District], km: float = NEARBY_KM) -> bool:
    if r.lat is None or r.lon is None:
        return False
    return any(d.lat is not None and d.lon is not None and distance_km(r.lat, r.lon, d.lat, d.lon) <= km
               for d in districts)


def around_chiang_mai(stations: Iterable[StationReading], districts: list[District]) -> list[StationReading]:
    """The stations in Chiang Mai province, and those of other provinces near one of its districts."""
    return [r for r in stations if in_province(r) or near_districts(r, districts)]
