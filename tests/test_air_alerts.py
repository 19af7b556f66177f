"""Opt-in haze alerts end to end: residents subscribe through the webhook, readings come from a fake
Air4Thai through `air refresh`, `air alerts` (and the worker) send through the fake LINE API.
A subscriber gets exactly one alert a day when the district turns orange or red, none at night,
none after "หยุดแจ้งเตือนฝุ่น", none when blocked; news opt-out does not silence alerts."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from bot import validate
from bot.store.models import AirAlert, AirSubscription, Campaign, User
from tests import airdata, events
from tests.reading import actions_in, all_text

MAE_RIM, FANG = "5007", "5009"


def bkk(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of March 2025 in Chiang Mai, as UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def app_config(app_config, fake_air):
    return {**app_config, "AIR_QUALITY_URL": fake_air.url, "AIR_QUALITY_TIMEOUT": 1.0}


@pytest.fixture
def clock(app):
    """Set the bot's clock to a time in Chiang Mai: clock.at(day, hour, minute)."""
    deps = app.extensions["deps"]

    class Clock:
        def at(self, day: int, hour: int, minute: int = 0) -> None:
            now = bkk(day, hour, minute)
            deps.clock = lambda: now

    c = Clock()
    c.at(3, 9)
    return c


@pytest.fixture(autouse=True)
def sleeps(app):
    """Backoff and rate waits are recorded, not slept."""
    recorded: list[float] = []
    app.extensions["deps"].sleep = recorded.append
    return recorded


@pytest.fixture
def air(runner, fake_air):
    """The fake Air4Thai serves these stations, and `air refresh` stores them."""
    def serve(*stations: dict) -> None:
        fake_air.serve(*stations)
        result = runner.invoke(args=["air", "refresh"])
        assert result.exit_code == 0, result.output
    return serve


def at(day: int, hour: int, **values: str) -> list[dict]:
    """The usual stations, measured at that hour in Chiang Mai, with these values."""
    date, time = f"2025-03-{day:02d}", f"{hour:02d}:00"
    return [airdata.city_hall(values.get("city_hall", "30.0"), date, time),
            airdata.fang(values.get("fang", "20.0"), date, time),
            airdata.lamphun(values.get("lamphun", "20.0"), date, time)]


def resident(app, n: int, district: str | None = MAE_RIM, lang: str | None = None) -> str:
    uid = events.user_id(n)
    with app.extensions["deps"].db.session() as s:
        s.execute(insert(User).values(line_user_id=uid, followed=True, blocked=False, opted_out=False,
                                      district_code=district, lang=lang, created_at=bkk(1, 9), updated_at=bkk(1, 9)))
    return uid


def says(signed_post, fake_line, uid: str, text: str) -> str:
    before = len(fake_line.replies())
    assert signed_post(events.payload(events.text(text, uid))).status_code == 200
    messages = fake_line.replies()[before:][-1]["messages"]
    assert validate.validate_messages(messages) == []
    return all_text(messages)


def subscriber(app, signed_post, fake_line, n: int, district: str = MAE_RIM, lang: str | None = None) -> str:
    uid = resident(app, n, district, lang)
    words = "alert me when the air is bad" if lang == "en" else "แจ้งเตือนฝุ่น"
    got = says(signed_post, fake_line, uid, words)
    assert "Haze alerts are on" in got if lang == "en" else "เปิดแจ้งเตือนฝุ่น" in got, got
    return uid


def alerts(runner, *extra: str) -> str:
    result = runner.invoke(args=["air", "alerts", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def alerts_received(fake) -> Counter:
    """How many alerts (multicast requests LINE accepted) each user received."""
    c: Counter = Counter()
    for d in fake.deliveries:
        if d.kind == "multicast":
            c.update(d.recipients)
    return c


def test_a_subscriber_gets_exactly_one_alert_a_day_when_the_band_turns_orange(
        app, runner, signed_post, fake_line, air, clock):
    air(*at(3, 9, city_hall="30.0"))  # yellow
    uid = subscriber(app, signed_post, fake_line, 1)
    other = resident(app, 2)  # same district, not subscribed
    alerts(runner)
    assert alerts_received(fake_line) == Counter()

    clock.at(3, 10, 5)
    air(*at(3, 10, city_hall="45.0"))  # orange
    out = alerts(runner)
    assert "alerting 1 of 1 subscribers" in out
    assert alerts_received(fake_line) == Counter({uid: 1})
    [call] = fake_line.calls_to("multicast")
    assert call.headers.get("x-line-retry-key")
    [message] = fake_line.delivered(uid)
    assert validate.validate_messages([message]) == []
    text = all_text([message])
    assert "แจ้งเตือนฝุ่น อ.แม่ริม" in text and "45.0" in text and "สีส้ม" in text and "วันนี้ 10:00 น." in text
    assert "หน้ากากป้องกัน PM2.5" in text and "ที่มา: Air4Thai (กรมควบคุมมลพิษ)" in text
    assert message["contents"]["header"]["backgroundColor"] == "#FFA200"
    stop = next(a for a in actions_in([message]) if a.get("label") == "หยุดแจ้งเตือนฝุ่น")
    assert stop["data"] == "a=air.unsub"

    # still orange, then red: nothing more today
    for hour, value in ((11, "60.0"), (12, "90.0")):
        clock.at(3, hour, 5)
        air(*at(3, hour, city_hall=value))
        assert "the district had its alert today" in alerts(runner)
    assert alerts_received(fake_line) == Counter({uid: 1})
    assert other not in alerts_received(fake_line)

    # the next day, still bad: one more
    clock.at(4, 9, 5)
    air(*at(4, 9, city_hall="58.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter({uid: 2})


def test_no_alert_at_night_and_one_in_the_morning_if_still_bad(app, runner, signed_post, fake_line, air, clock):
    uid = subscriber(app, signed_post, fake_line, 3)
    clock.at(3, 22, 5)
    air(*at(3, 22, city_hall="70.0"))
    assert "quiet hours" in alerts(runner)
    clock.at(4, 5, 55)
    air(*at(4, 5, city_hall="72.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter()
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(AirAlert)) == 0
    clock.at(4, 6, 5)
    air(*at(4, 6, city_hall="71.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter({uid: 1})
    assert "วันนี้ 06:00 น." in all_text(fake_line.delivered(uid))


def test_no_morning_alert_when_the_air_cleared_overnight(app, runner, signed_post, fake_line, air, clock):
    subscriber(app, signed_post, fake_line, 4)
    clock.at(3, 23)
    air(*at(3, 23, city_hall="70.0"))
    alerts(runner)
    clock.at(4, 6, 5)
    air(*at(4, 6, city_hall="30.0"))
    assert "below orange" in alerts(runner)
    assert alerts_received(fake_line) == Counter()


def test_stopping_haze_alerts_is_not_stopping_news_and_stops_only_the_alerts(
        app, runner, signed_post, fake_line, air, clock):
    uid = subscriber(app, signed_post, fake_line, 5)
    got = says(signed_post, fake_line, uid, "หยุดแจ้งเตือนฝุ่น")
    assert "หยุดแจ้งเตือนฝุ่นแล้ว" in got
    assert app.extensions["deps"].content.text("core.optout_done")[:20] not in got
    with app.extensions["deps"].db.session() as s:
        user = s.scalar(select(User).where(User.line_user_id == uid))
        assert user.opted_out is False
        assert s.get(AirSubscription, user.id) is None
    clock.at(3, 10)
    air(*at(3, 10, city_hall="50.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter()
    assert "ไม่ได้เปิดแจ้งเตือนฝุ่น" in says(signed_post, fake_line, uid, "ยกเลิกแจ้งเตือนฝุ่น")


def test_news_opt_out_does_not_silence_alerts_but_a_block_does(app, runner, signed_post, fake_line, air, clock):
    no_news = subscriber(app, signed_post, fake_line, 6)
    says(signed_post, fake_line, no_news, "หยุดรับข่าวสาร")
    blocked = subscriber(app, signed_post, fake_line, 7)
    assert signed_post(events.payload(events.unfollow(blocked))).status_code == 200
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(User.opted_out).where(User.line_user_id == no_news)) is True
    air(*at(3, 9, city_hall="50.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter({no_news: 1})


def test_only_the_district_whose_station_turned_bad_is_alerted(app, runner, signed_post, fake_line, air, clock):
    mae_rim = subscriber(app, signed_post, fake_line, 8)
    fang = subscriber(app, signed_post, fake_line, 9, FANG)
    air(*at(3, 9, city_hall="30.0", fang="80.0"))
    out = alerts(runner)
    assert "ฝาง (5009)" in out and "alerting 1 of 1" in out and "below orange" in out
    assert alerts_received(fake_line) == Counter({fang: 1})
    assert "สีแดง" in all_text(fake_line.delivered(fang)) and mae_rim not in alerts_received(fake_line)


def test_english_subscribers_get_the_alert_in_english(app, runner, signed_post, fake_line, air, clock):
    thai = subscriber(app, signed_post, fake_line, 10)
    english = subscriber(app, signed_post, fake_line, 11, lang="en")
    air(*at(3, 9, city_hall="50.0"))
    alerts(runner)
    assert alerts_received(fake_line) == Counter({thai: 1, english: 1})
    text = all_text(fake_line.delivered(english))
    assert "Haze alert: Mae Rim" in text and "50.0" in text and "orange" in text and "Stop haze alerts" in str(
        actions_in(fake_line.delivered(english)))
    assert "แจ้งเตือนฝุ่น อ.แม่ริม" in all_text(fake_line.delivered(thai))


def test_dry_run_shows_who_would_be_alerted_per_district_and_sends_nothing(
        app, runner, signed_post, fake_line, air, clock):
    for n in range(20, 23):
        subscriber(app, signed_post, fake_line, n)
    subscriber(app, signed_post, fake_line, 23, FANG)
    resident(app, 24)  # not subscribed
    air(*at(3, 9, city_hall="45.0", fang="90.0"))
    out = alerts(runner, "--dry-run")
    assert "dry run" in out
    assert "แม่ริม (5007)" in out and "would alert 3 of 3 subscribers" in out
    assert "ฝาง (5009)" in out and "would alert 1 of 1 subscribers" in out
    assert "35t" in out and "99t" in out
    assert alerts_received(fake_line) == Counter()
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(AirAlert)) == 0
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0
    alerts(runner)
    assert sum(alerts_received(fake_line).values()) == 4


def test_an_alert_cut_off_by_line_resumes_with_its_retry_key_and_nobody_gets_it_twice(
        app, runner, signed_post, fake_line, air, clock):
    users = [subscriber(app, signed_post, fake_line, n) for n in range(30, 34)]
    air(*at(3, 9, city_hall="50.0"))
    fake_line.fail_next("multicast", 500, count=20)
    out = alerts(runner)
    assert "interrupted" in out
    assert alerts_received(fake_line) == Counter()
    fake_line.clear_faults()
    clock.at(3, 9, 10)
    alerts(runner)
    assert alerts_received(fake_line) == Counter({u: 1 for u in users})
    keys = {c.headers.get("x-line-retry-key") for c in fake_line.calls_to("multicast")}
    assert len(keys) == 1  # every attempt carried the batch's one key


def test_an_accepted_but_unanswered_alert_is_not_sent_twice(app, runner, signed_post, fake_line, air, clock):
    users = [subscriber(app, signed_post, fake_line, n) for n in range(35, 38)]
    air(*at(3, 9, city_hall="50.0"))
    fake_line.fail_after_accept_next("multicast", count=1)
    alerts(runner)
    assert alerts_received(fake_line) == Counter({u: 1 for u in users})


def test_the_month_quota_is_checked_before_an_alert_is_sent(app, runner, signed_post, fake_line, air, clock):
    users = [subscriber(app, signed_post, fake_line, n) for n in range(40, 43)]
    fake_line.set_quota(100, used=99)
    air(*at(3, 9, city_hall="50.0"))
    assert "quota" in alerts(runner)
    assert alerts_received(fake_line) == Counter()
    fake_line.set_quota(None)
    clock.at(3, 9, 10)
    alerts(runner)
    assert alerts_received(fake_line) == Counter({u: 1 for u in users})


def test_an_alert_that_could_not_go_out_is_never_sent_the_next_day(app, runner, signed_post, fake_line, air, clock):
    subscriber(app, signed_post, fake_line, 44)
    clock.at(3, 20, 50)
    air(*at(3, 20, city_hall="50.0"))
    fake_line.fail_next("multicast", 500, count=20)
    alerts(runner)
    fake_line.clear_faults()
    clock.at(4, 6, 5)
    air(*at(4, 6, city_hall="30.0"))
    assert "cancelled" in alerts(runner)
    assert alerts_received(fake_line) == Counter()


def test_the_worker_refreshes_readings_and_sends_alerts(app, runner, signed_post, fake_line, fake_air, clock):
    uid = subscriber(app, signed_post, fake_line, 50)
    fake_air.serve(*at(3, 9, city_hall="50.0"))
    result = runner.invoke(args=["campaign", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert alerts_received(fake_line) == Counter({uid: 1})


def test_deleting_ones_data_deletes_the_subscription(app, signed_post, fake_line, clock):
    uid = subscriber(app, signed_post, fake_line, 51)
    says(signed_post, fake_line, uid, "ลบข้อมูล")
    assert signed_post(events.payload(events.postback("a=privacy.delete", uid))).status_code == 200
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(AirSubscription)) == 0


def test_subscribing_without_a_district_asks_for_it_then_subscribes(app, signed_post, fake_line, air, clock):
    air(*at(3, 9, city_hall="30.0"))
    uid = resident(app, 52, district=None)
    before = len(fake_line.replies())
    signed_post(events.payload(events.text("แจ้งเตือนฝุ่น", uid)))
    messages = fake_line.replies()[before:][-1]["messages"]
    assert "แจ้งเตือนฝุ่นของอำเภอไหน" in all_text(messages)
    fang = next(a for a in actions_in(messages) if a.get("label") == "ฝาง")
    before = len(fake_line.replies())
    signed_post(events.payload(events.postback(fang["data"], uid)))
    got = all_text(fake_line.replies()[before:][-1]["messages"])
    assert "เปิดแจ้งเตือนฝุ่นของอ.ฝาง แล้ว" in got
    with app.extensions["deps"].db.session() as s:
        assert s.scalar(select(func.count()).select_from(AirSubscription)) == 1
