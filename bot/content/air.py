"""content/air.yaml: the bands of Thailand's air quality index for PM2.5, their colours and advice,
and whom readings and advice are credited to."""
from __future__ import annotations

import math
import re
from typing import Any

from bot.content.model import AirBand, AirIndex, Source
from bot.content.problems import NO_SOURCE, Problems, with_en

F = "content/air.yaml"
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
BAND_KEYS = with_en({"name", "colour_name", "advice", "advice_sensitive"}) | {"id", "max", "colour", "text_colour", "alert"}


def _sources(p: Problems, where: str, raw: Any) -> tuple[Source, ...]:
    if raw is None or raw == []:
        p.problem(where, "missing (a source id of content/sources.yaml)")
        return ()
    ids = raw if isinstance(raw, list) else [raw]
    return tuple(p.source_ref(f"{where}[{i}]", sid) for i, sid in enumerate(ids) if sid is not None)


def load_air(p: Problems) -> AirIndex | None:
    """The index, or None (with a problem) when the file is missing or unusable."""
    raw = p.read_yaml("air.yaml")
    if raw is None:
        return None
    d = p.mapping(F, raw)
    p.unknown_keys(F, d, {"standard", "index_sources", "advice_source", "readings_source", "other_services", "bands"})
    standard = p.number(f"{F}: standard", d.get("standard"))
    bands: list[AirBand] = []
    previous = -math.inf
    for i, b in enumerate(p.seq(f"{F}: bands", d.get("bands"))):
        where = f"{F}: bands[{i}]"
        b = p.mapping(where, b)
        p.unknown_keys(where, b, BAND_KEYS)
        bid = p.string(f"{where}.id", b.get("id"))
        top = b.get("max")
        last = i == len(d.get("bands") or []) - 1
        if top is None:
            if not last:
                p.problem(f"{where}.max", "only the last band may have no upper limit")
        else:
            top = p.number(f"{where}.max", top)
            if last:
                p.problem(f"{where}.max", "the last band must have no upper limit (max: null)")
            if not top > previous:
                p.problem(f"{where}.max", f"{top} must be above the band before ({previous})")
            previous = top
        colours = []
        for key in ("colour", "text_colour"):
            value = p.string(f"{where}.{key}", b.get(key))
            if value and not HEX.match(value):
                p.problem(f"{where}.{key}", f"{value!r} is not a colour like #FFA200")
            colours.append(value)
        if not isinstance(b.get("alert"), bool):
            p.problem(f"{where}.alert", "must be true or false")
        sensitive = p.local(where, b, "advice_sensitive", required=False) if b.get("advice_sensitive") else None
        bands.append(AirBand(id=bid, level=i + 1, max=top, colour=colours[0], text_colour=colours[1],
                             alert=bool(b.get("alert")), name=p.local(where, b, "name"),
                             colour_name=p.local(where, b, "colour_name"), advice=p.local(where, b, "advice"),
                             advice_sensitive=sensitive or None))
    if not bands:
        p.problem(f"{F}: bands", "no bands")
        return None
    if standard == standard and not any(b.max == standard for b in bands):  # not NaN
        p.problem(f"{F}: standard", f"{standard} should be the upper limit of a band (the standard is AQI 100)")
    advice = _sources(p, f"{F}: advice_source", d.get("advice_source"))
    readings = _sources(p, f"{F}: readings_source", d.get("readings_source"))
    return AirIndex(standard=standard, bands=tuple(bands),
                    index_sources=_sources(p, f"{F}: index_sources", d.get("index_sources")),
                    advice_source=advice[0] if advice else NO_SOURCE,
                    readings_source=readings[0] if readings else NO_SOURCE,
                    other_services=_sources(p, f"{F}: other_services", d.get("other_services")))
