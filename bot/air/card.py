"""What a resident reads about the air: a reading as a Flex card in its band's colour, "no reading",
a haze alert, and what one can do today. Words come from content/texts/air.yaml and content/air.yaml."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import messages as msg
from bot.air.nearest import Nearest
from bot.clock import BANGKOK, as_utc
from bot.content.model import AirBand, AirIndex, Content, Source
from bot.fmt import local_date
from bot.turn import Message

GREY = "#666666"
WARN = "#B71C1C"

# Postbacks of the air flow (bot/flows/air.py answers them).
NOW = "air.now"          # the reading for my district
SUBSCRIBE = "air.sub"
UNSUBSCRIBE = "air.unsub"
TODAY = "air.today"      # b=<band id>: what I can do today


def t(content: Content, key: str, **fmt: Any) -> str:
    """A text of content/texts/air.yaml."""
    return content.text(f"air.{key}", **fmt)


def index_of(content: Content) -> AirIndex:
    assert content.air is not None, "content/air.yaml is missing"
    return content.air


def fmt_value(pm25: float) -> str:
    return f"{pm25:.1f}"


def fmt_km(km: float) -> str:
    return f"{km:.1f}" if km < 10 else f"{km:,.0f}"


def when_text(content: Content, measured_at: datetime, now: datetime) -> str:
    """"วันนี้ 16:00 น." / "3 มี.ค. 2568 16:00 น." in Chiang Mai time."""
    local = as_utc(measured_at).astimezone(BANGKOK)
    hhmm = local.strftime("%H:%M")
    if local_date(measured_at) == local_date(now):
        return t(content, "time_today", hhmm=hhmm)
    return t(content, "time_date", date=content.date(measured_at), hhmm=hhmm)


def age_text(content: Content, age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    if hours < 48:
        return t(content, "age_hours", n=max(hours, 1))
    return t(content, "age_days", n=hours // 24)


def station_name(content: Content, nearest: Nearest) -> str:
    r = nearest.reading
    return (r.name_en if content.lang == "en" and r.name_en else r.name_th) or r.station_id


def _text(body: str, **style: Any) -> Message:
    return {"type": "text", "text": body, "wrap": True, **style}


def quick_replies(content: Content, band: AirBand | None, subscribed: bool) -> list[Message]:
    """One quick reply for haze alerts (on, or off when already on), one for what to do today, and
    sending a location."""
    key = "label_unsubscribe" if subscribed else "label_subscribe"
    action = UNSUBSCRIBE if subscribed else SUBSCRIBE
    items = [msg.qr_postback(t(content, key), msg.postback_data(action), t(content, key)),
             msg.qr_postback(t(content, "label_today"),
                             msg.postback_data(TODAY, **({"b": band.id} if band else {})), t(content, "label_today"))]
    return items + [location_quick_reply(content)]


def location_quick_reply(content: Content) -> Message:
    """LINE's "send my location" quick reply."""
    return {"type": "action", "action": {"type": "location", "label": t(content, "label_location")}}


def reading_bubble(content: Content, nearest: Nearest, place: str, now: datetime, *,
                   title: str | None = None, intro: str | None = None,
                   footer_buttons: list[Message] | None = None) -> Message:
    """The reading in its band's colour: value, band, time measured, advice, station and sources."""
    index = index_of(content)
    r = nearest.reading
    band = index.band(r.band) or index.band_of(r.pm25)
    colour = band.text_colour
    header: list[Message] = [
        _text(title or t(content, "title", place=place), size="sm", color=colour),
        {"type": "box", "layout": "baseline", "spacing": "sm", "margin": "sm", "contents": [
            {"type": "text", "text": fmt_value(r.pm25), "size": "3xl", "weight": "bold", "color": colour, "flex": 0},
            {"type": "text", "text": t(content, "unit"), "size": "sm", "color": colour, "flex": 0},
        ]},
        _text(t(content, "band_line", band=band.name, colour=band.colour_name), weight="bold", size="md", color=colour),
    ]
    body: list[Message] = []
    if intro:
        body.append(_text(intro, size="sm", weight="bold"))
    body.append(_text(t(content, "average_note", time=when_text(content, r.measured_at, now)), size="xs", color=GREY))
    if not nearest.fresh:
        body.append(_text(t(content, "stale", age=age_text(content, nearest.age)), size="sm", color=WARN))
    body += [
        {"type": "separator", "margin": "md"},
        _text(t(content, "advice_heading"), size="sm", weight="bold", margin="md"),
        _text(band.advice, size="sm"),
    ]
    if band.advice_sensitive:
        body.append(_text(band.advice_sensitive, size="sm"))
    body += [
        {"type": "separator", "margin": "md"},
        _text(t(content, "station_line", station=station_name(content, nearest), place=place, km=fmt_km(nearest.km)),
              size="xs", color=GREY, margin="md"),
        _text(t(content, "standard_line", standard=fmt_value(index.standard)), size="xs", color=GREY),
        _text(t(content, "source_line"), size="xs", color=GREY, weight="bold"),
        _text(t(content, "index_line"), size="xxs", color=GREY),
    ]
    buttons = list(footer_buttons or [])
    src = index.readings_source
    if src.url:
        buttons.append({"type": "button", "style": "link", "height": "sm",
                        "action": {"type": "uri", "label": t(content, "button_air4thai"), "uri": src.url}})
    bubble: Message = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "backgroundColor": band.colour, "paddingAll": "16px",
                   "contents": header},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return bubble


def reading_messages(content: Content, nearest: Nearest, place: str, now: datetime, subscribed: bool) -> list[Message]:
    """The answer to "ฝุ่นวันนี้": one card, with quick replies for alerts and for what to do today."""
    index = index_of(content)
    r = nearest.reading
    band = index.band(r.band) or index.band_of(r.pm25)
    alt = t(content, "alt", place=place, value=fmt_value(r.pm25), band=band.name, colour=band.colour_name)
    return [msg.flex(alt, reading_bubble(content, nearest, place, now), quick=quick_replies(content, band, subscribed))]


def _links(index: AirIndex) -> dict[str, str]:
    by_id = {s.id: s.url for s in index.other_services}
    return {"air4thai": index.readings_source.url or by_id.get("air4thai_web", ""),
            "dustboy": by_id.get("dustboy", "")}


def no_reading_messages(content: Content, place: str, subscribed: bool) -> list[Message]:
    """No recent reading near the place: say so and point to Air4Thai and DustBoy."""
    body = t(content, "no_reading", place=place, **_links(index_of(content)))
    return [msg.text(body, quick=quick_replies(content, None, subscribed))]


def far_messages(content: Content, km: float) -> list[Message]:
    links = _links(index_of(content))
    return [msg.text(t(content, "far_location", km=fmt_km(km), air4thai=links["air4thai"]),
                     quick=[location_quick_reply(content)])]


def alert_messages(content: Content, nearest: Nearest, district: str, now: datetime) -> list[Message]:
    """A haze alert: the reading card, titled for the district, with a button that stops the alerts."""
    index = index_of(content)
    r = nearest.reading
    band = index.band(r.band) or index.band_of(r.pm25)
    stop = t(content, "label_unsubscribe")
    stop_button = {"type": "button", "style": "secondary", "height": "sm",
                   "action": {"type": "postback", "label": stop, "data": msg.postback_data(UNSUBSCRIBE),
                              "displayText": stop}}
    today = t(content, "label_today")
    today_button = {"type": "button", "style": "primary", "height": "sm", "color": "#2E7D32",
                    "action": {"type": "postback", "label": today, "data": msg.postback_data(TODAY, b=band.id),
                               "displayText": today}}
    bubble = reading_bubble(content, nearest, t(content, "place_district", district=district), now,
                            title=t(content, "alert_title", district=district),
                            intro=t(content, "alert_intro", district=district, colour=band.colour_name),
                            footer_buttons=[today_button, stop_button])
    alt = t(content, "alert_alt", district=district, value=fmt_value(r.pm25), colour=band.colour_name, band=band.name)
    return [msg.flex(alt, bubble)]


def today_messages(content: Content, band: AirBand | None, sources: list[Source]) -> list[Message]:
    """What the resident can do today: look after themselves (the band's advice) and help the air."""
    parts = []
    if band is not None:
        parts.append(t(content, "today_band", band=band.name, colour=band.colour_name))
        parts.append(t(content, "today_self", advice=band.advice))
    parts.append(t(content, "today_actions"))
    lines = [content.text("cards.source_line", title=s.title, url=s.url) for s in sources if s.url]
    quick = [q for q in (msg.intent_quick_reply(content, i) for i in ("pledge_start", "tips_transport",
                                                                       "tips_food_farming", "tips_forest_trees")) if q]
    return [msg.text("\n\n".join(parts + lines)[:4900], quick=quick)]


