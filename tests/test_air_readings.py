"""Fetching Air4Thai with `flask --app wsgi air refresh` against a fake Air4Thai on loopback: what is
stored, and that every fault (a hang, a 500, bad JSON, missing values, stale or future times) keeps
the last good readings and is logged in one line."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import as_utc
from bot.store.models import AirReading
from tests import airdata
from tests.airdata import NOW


@pytest.fixture
def app_config(app_config, fake_air):
    return {**app_config, "AIR_QUALITY_URL": fake_air.url, "AIR_QUALITY_TIMEOUT": 1.0}


@pytest.fixture(autouse=True)
def _clock(app):
    app.extensions["deps"].clock = lambda: NOW


def refresh(runner):
    result = runner.invoke(args=["air", "refresh"])
    return result, result.output.strip().splitlines()[-1]


def stored(app) -> dict[str, AirReading]:
    with app.extensions["deps"].db.session() as s:
        rows = list(s.scalars(select(AirReading)))
        for r in rows:
            s.expunge(r)
    return {r.station_id: r for r in rows}


def test_refresh_stores_chiang_mai_and_nearby_stations_and_prints_the_count(app, runner, fake_air):
    fake_air.serve(*airdata.feed())
    result, last = refresh(runner)
    assert result.exit_code == 0, result.output
    assert last == "4"
    rows = stored(app)
    # Chiang Mai's three and Lamphun's (near Saraphi); not Chiang Rai's nor Bangkok's
    assert set(rows) == {"35t", "36t", "99t", "68t"}
    city = rows["35t"]
    assert city.pm25 == 52.3 and city.band == "starting_to_affect_health"
    assert city.name_th == "ศูนย์ราชการจังหวัดเชียงใหม่"  # the feed's trailing space is gone
    assert (city.lat, city.lon) == (18.840633, 98.969661)
    assert as_utc(city.measured_at) == NOW  # 09:00 Thai time is 02:00 UTC
    assert rows["99t"].band == "affects_health" and rows["68t"].band == "moderate"


@pytest.mark.parametrize("value, band", [("15.0", "very_good"), ("15.1", "good"), ("25.0", "good"), ("25.1", "moderate"),
                                         ("37.5", "moderate"), ("37.6", "starting_to_affect_health"),
                                         ("75.0", "starting_to_affect_health"), ("75.1", "affects_health")])
def test_bands_follow_the_2023_index_at_their_edges(app, runner, fake_air, value, band):
    fake_air.serve(airdata.city_hall(value))
    refresh(runner)
    assert stored(app)["35t"].band == band


@pytest.mark.parametrize("missing", ["-1", "-999", "N/A", "-", "", "abc"])
def test_a_missing_value_keeps_the_last_good_reading_and_is_logged_once(app, runner, fake_air, caplog, missing):
    fake_air.serve(airdata.city_hall("40.0", time="08:00"), airdata.yupparaj("20.0"))
    refresh(runner)
    fake_air.serve(airdata.city_hall(missing, time="09:00"), airdata.yupparaj("22.0"))
    with caplog.at_level(logging.WARNING, logger="bot.air"):
        result, last = refresh(runner)
    assert result.exit_code == 0 and last == "1"
    rows = stored(app)
    assert rows["35t"].pm25 == 40.0 and as_utc(rows["35t"].measured_at) == NOW - timedelta(hours=1)
    assert rows["36t"].pm25 == 22.0
    lines = [r.getMessage() for r in caplog.records if "35t" in r.getMessage()]
    assert len(lines) == 1 and "kept" in lines[0]


def test_an_older_reading_never_replaces_a_newer_one_and_a_stale_one_is_still_the_latest(app, runner, fake_air):
    fake_air.serve(airdata.city_hall("40.0", time="09:00"), airdata.yupparaj("33.3", date="2025-02-20", time="14:00"))
    refresh(runner)
    fake_air.serve(airdata.city_hall("10.0", time="07:00"))  # the feed went back in time
    result, last = refresh(runner)
    assert result.exit_code == 0 and last == "0"
    rows = stored(app)
    assert rows["35t"].pm25 == 40.0
    # a station silent for days keeps its last reading (the answers say how old it is)
    assert rows["36t"].pm25 == 33.3 and as_utc(rows["36t"].measured_at).date().isoformat() == "2025-02-20"


def test_a_time_in_the_future_or_no_time_is_not_stored(app, runner, fake_air):
    tomorrow = airdata.city_hall("40.0", date="2025-03-04")
    no_time = airdata.yupparaj("20.0")
    no_time["AQILast"]["date"] = ""
    fake_air.serve(tomorrow, no_time)
    result, last = refresh(runner)
    assert result.exit_code == 0 and last == "0" and stored(app) == {}


def test_coordinates_that_are_missing_or_far_from_the_stations_own_district_are_handled(app, runner, fake_air, caplog):
    no_place = airdata.fang("50.0")
    no_place["lat"] = no_place["long"] = ""
    # Air4Thai's 2019 feed put Yupparaj school (in the old city) 55 km south-west of it
    misplaced = airdata.yupparaj("20.0", lat="18.47327", lon="98.59162")
    fake_air.serve(airdata.city_hall(), no_place, misplaced)
    with caplog.at_level(logging.WARNING, logger="bot.air"):
        result, last = refresh(runner)
    assert result.exit_code == 0 and last == "2" and set(stored(app)) == {"35t", "36t"}
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "99t (no place)" in text
    assert "36t" in text and "coordinates may be wrong" in text


@pytest.mark.parametrize("fault", ["hang", "500", "503", "not json", "no stations", "html", "redirect elsewhere"])
def test_every_fault_keeps_the_last_good_readings(app, runner, fake_air, caplog, fault):
    fake_air.serve(*airdata.feed())
    refresh(runner)
    before = {k: (r.pm25, r.measured_at) for k, r in stored(app).items()}
    fake_air.serve(*airdata.feed(city_hall="99.0"))
    if fault == "hang":
        fake_air.hang_next(10)
    elif fault in ("500", "503"):
        fake_air.fail_next(int(fault))
    elif fault == "not json":
        fake_air.body_next(b'{"stations": [')
    elif fault == "no stations":
        fake_air.body_next(b'{"error": "maintenance"}')
    elif fault == "html":
        fake_air.body_next("<html><body>ปิดปรับปรุงระบบ</body></html>")
    else:
        fake_air.redirect_next("http://example.com/elsewhere.json")
    with caplog.at_level(logging.WARNING, logger="bot.air"):
        result, last = refresh(runner)
    assert result.exit_code == 1 and last == "0"
    assert "last good readings are kept" in result.output
    after = {k: (r.pm25, r.measured_at) for k, r in stored(app).items()}
    assert after == before
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "kept the last good readings" in warnings[0].getMessage()
    # and the next good answer is stored again
    result, last = refresh(runner)
    assert last == "4" and stored(app)["35t"].pm25 == 99.0


def test_a_redirect_on_the_same_host_is_followed(app, runner, fake_air):
    fake_air.serve(airdata.city_hall())
    fake_air.redirect_next(fake_air.url + "?moved=1")
    result, last = refresh(runner)
    assert result.exit_code == 0 and last == "1"


def test_the_older_feed_shape_is_read_too(app, runner, fake_air):
    old = airdata.city_hall()
    block = old.pop("AQILast")
    old["LastUpdate"] = {"date": block["date"], "time": block["time"], "PM25": {"value": "61", "unit": "µg/m³"},
                         "AQI": {"Level": "4", "aqi": "150"}}
    fake_air.serve(old)
    result, last = refresh(runner)
    assert result.exit_code == 0 and last == "1" and stored(app)["35t"].pm25 == 61.0
