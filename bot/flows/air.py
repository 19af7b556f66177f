"""Today's air where I live: the nearest station's PM2.5 for my district or a shared location, and
opt-in haze alerts ("แจ้งเตือนฝุ่น" / "หยุดแจ้งเตือนฝุ่น", independent of campaign news).

Readings are what the worker last stored (bot/air/); this module never fetches anything. Typed
requests are caught by a text hook before the language matcher, so "หยุดแจ้งเตือนฝุ่น" is never read
as stopping campaign news.
"""
from __future__ import annotations

from bot import messages as msg
from bot.air import card
from bot.air.card import NOW, SUBSCRIBE, TODAY, UNSUBSCRIBE, t
from bot.air.nearest import FAR_KM, nearest
from bot.air.requests import Ask, Reader, Request
from bot.content.model import Content, District
from bot.flows.district import DistrictState, district_picker
from bot.registry import Registry
from bot.store.air import all_readings, is_subscribed, subscribe, unsubscribe
from bot.store.pledges import set_user_district
from bot.turn import Ctx, Message, Turn


def view(ctx: Ctx, text: str = "") -> Content:
    """The resident's language view (the dialogue picks it from what they write, and remembers it in
    users.lang, which haze alerts use too)."""
    return ctx.content


def air_text(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A typed request for today's air, or to start or stop haze alerts; None for anything else."""
    reader = Reader(ctx.contents)
    request = reader.read(turn.text, lambda s: ctx.matcher.find_district(s, fuzzy=False))
    if request is None or (request.ask == Ask.READING and asks_something_else(turn, ctx, reader, request)):
        return None
    c = view(ctx, turn.text)
    named = c.district_by_name(request.district) if request.district else None
    if request.ask == Ask.UNSUBSCRIBE:
        return stop_alerts(ctx, c)
    if request.ask == Ask.SUBSCRIBE:
        return start_alerts(turn, ctx, c, named)
    if named is not None:
        return district_reading(ctx, c, named)
    return my_reading(ctx, c)


# A reading request is a few words ("ฝุ่นแม่ริมวันนี้เป็นไง"); a longer message the question bank is
# sure of asks something else on a dusty day ("ล้างจมูกด้วยน้ำเกลือช่วยตอนฝุ่นเยอะมั้ย").
SURE_OF_ANOTHER_ANSWER = 0.9
LETTERS_OF_ANOTHER_QUESTION = 8


def asks_something_else(turn: Turn, ctx: Ctx, reader: Reader, request: Request) -> bool:
    """The words beside the air words make a question of their own, and the bank knows its answer."""
    if len(reader.leftover(turn.text, request.district)) < LETTERS_OF_ANOTHER_QUESTION:
        return False
    m = ctx.matcher.classify(turn.text)
    return m.answer_p >= SURE_OF_ANOTHER_ANSWER


def my_reading(ctx: Ctx, c: Content) -> list[Message]:
    """The reading for the resident's district, or ask which district (or for a location)."""
    district = c.district_by_code(ctx.user.district_code)
    if district is None:
        return ask_district(ctx, c, NOW, "ask_district")
    return district_reading(ctx, c, district)


def district_reading(ctx: Ctx, c: Content, district: District) -> list[Message]:
    """The nearest station's reading to the district's centre."""
    name = c.district_name(district)
    subscribed = is_subscribed(ctx.session, ctx.user.id)
    if district.lat is None or district.lon is None:
        return [msg.text(t(c, "district_no_centre", district=name), quick=[card.location_quick_reply(c)])]
    place = t(c, "place_district", district=name)
    found = nearest(all_readings(ctx.session), district.lat, district.lon, ctx.now)
    if found is None:
        return card.no_reading_messages(c, place, subscribed)
    return card.reading_messages(c, found, place, ctx.now, subscribed)


def location_reading(turn: Turn, ctx: Ctx) -> list[Message] | None:
    """A shared location: the station nearest to it (the location itself is not kept)."""
    if turn.latitude is None or turn.longitude is None:
        return None
    if ctx.user.state == DistrictState.AWAIT and ctx.state_value("next") in (NOW, SUBSCRIBE):
        ctx.clear_state()  # the location answered what the district picker was asking for
    c = view(ctx)
    place = t(c, "place_location")
    subscribed = is_subscribed(ctx.session, ctx.user.id)
    readings = all_readings(ctx.session)
    found = nearest(readings, turn.latitude, turn.longitude, ctx.now)
    if found is None:
        return card.no_reading_messages(c, place, subscribed)
    if found.km > FAR_KM:
        return card.far_messages(c, found.km)
    return card.reading_messages(c, found, place, ctx.now, subscribed)


def ask_district(ctx: Ctx, c: Content, next_step: str, prompt_key: str) -> list[Message]:
    """The district picker (typed names work too); the chosen district goes on to next_step."""
    ctx.set_state(DistrictState.AWAIT, next=next_step)
    picker = district_picker(ctx, "district_ask", n=next_step)[-1]
    items = (picker.get("quickReply") or {}).get("items", [])
    picker = {**picker, "quickReply": {"items": [card.location_quick_reply(c), *items]}}
    return [msg.text(t(c, prompt_key)), picker]


def start_alerts(turn: Turn, ctx: Ctx, c: Content, named: District | None = None) -> list[Message]:
    """Subscribe to haze alerts for my district (asking for it when unknown), then show today's air.

    Alerts follow the district the household is in: a district named in the request becomes it only
    when none is known yet (another one is not taken over, so pledges are not counted elsewhere)."""
    if named is not None and ctx.user.district_code is None:
        set_user_district(ctx.session, ctx.user, named.code, ctx.now)
    district = c.district_by_code(ctx.user.district_code)
    if district is None:
        return ask_district(ctx, c, SUBSCRIBE, "ask_district_alert")
    name = c.district_name(district)
    if district.lat is None or district.lon is None:
        return [msg.text(t(c, "district_no_centre", district=name), quick=[card.location_quick_reply(c)])]
    new = subscribe(ctx.session, ctx.user, ctx.now)
    said = t(c, "subscribed" if new else "already_subscribed", district=name)
    if named is not None and named.code != district.code:
        said += "\n\n" + t(c, "alerts_own_district", district=name, named=c.district_name(named))
    return [msg.text(said), *district_reading(ctx, c, district)]


def stop_alerts(ctx: Ctx, c: Content) -> list[Message]:
    """Stop haze alerts at once (campaign news stays as it was)."""
    key = "unsubscribed" if unsubscribe(ctx.session, ctx.user) else "not_subscribed"
    return [msg.text(t(c, key), quick=msg.topic_quick_replies(c))]


def now_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """A button (or the district picker) asking for the reading of my district."""
    return my_reading(ctx, view(ctx))


def subscribe_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "แจ้งเตือนฝุ่น" quick reply (or the district picker going on to it)."""
    return start_alerts(turn, ctx, view(ctx))


def unsubscribe_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "หยุดแจ้งเตือนฝุ่น" button under an alert or a reading."""
    return stop_alerts(ctx, view(ctx))


def today_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """What I can do today: look after myself for this band, and help the air (the campaign's actions)."""
    c = view(ctx)
    band = c.air.band(params.get("b")) if c.air else None
    sources = [s for s in (c.sources.get("haze_sources_cmuj"), c.sources.get("dnp_1362")) if s is not None]
    return card.today_messages(c, band, sources)


def register(registry: Registry) -> None:
    registry.text_hook(air_text)
    registry.kind(location_reading, "location")
    registry.postback(now_tap, NOW)
    registry.postback(subscribe_tap, SUBSCRIBE)
    registry.postback(unsubscribe_tap, UNSUBSCRIBE)
    registry.postback(today_tap, TODAY)
