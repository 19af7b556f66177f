"""Which stored reading answers "the air where I live": the nearest station that has reported lately."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.air.geo import distance_km
from bot.clock import as_utc
from bot.store.models import AirReading

# Older than this, a reading says how old it is (Air4Thai updates hourly).
FRESH_FOR = timedelta(hours=3)
# A station silent for longer is treated as out of service: the next one answers instead.
IN_SERVICE_FOR = timedelta(hours=24)
# A place farther than this from every station is outside what the bot follows.
FAR_KM = 100.0


@dataclass(frozen=True)
class Nearest:
    """A station's reading, how far the station is from the place asked about, and its age."""

    reading: AirReading
    km: float
    age: timedelta

    @property
    def fresh(self) -> bool:
        return self.age <= FRESH_FOR


def nearest(readings: Iterable[AirReading], lat: float, lon: float, now: datetime,
            in_service_for: timedelta = IN_SERVICE_FOR) -> Nearest | None:
    """The nearest station with a reading no older than in_service_for, or None."""
    best: Nearest | None = None
    for r in readings:
        age = now - as_utc(r.measured_at)
        if age > in_service_for:
            continue
        km = distance_km(lat, lon, r.lat, r.lon)
        if best is None or km < best.km:
            best = Nearest(r, km, max(age, timedelta(0)))
    return best
