"""content/districts.yaml: Chiang Mai's 25 districts, their codes, names and what residents type."""
from __future__ import annotations

import re
from typing import Any

from bot.content.model import District
from bot.content.problems import Problems

F = "content/districts.yaml"
# Chiang Mai province lies within these (with a margin): a centre outside them is a typo.
LAT_RANGE, LON_RANGE = (17.0, 21.0), (97.5, 100.0)


def load_districts(p: Problems) -> list[District]:
    raw = p.read_yaml("districts.yaml")
    out: list[District] = []
    codes: set[str] = set()
    names: set[str] = set()
    for i, d in enumerate(p.seq(F, raw)):
        where = f"{F}[{i}]"
        d = p.mapping(where, d)
        p.unknown_keys(where, d, {"code", "name", "name_en", "aliases", "centre"})
        code = str(d.get("code", ""))
        if not re.fullmatch(r"50\d\d", code):
            p.problem(f"{where}.code", f"must be a Chiang Mai DOPA code 50xx, not {code!r}")
        if code in codes:
            p.problem(f"{where}.code", f"duplicate code {code}")
        codes.add(code)
        name = p.string(f"{where}.name", d.get("name"))
        if name in names:
            p.problem(f"{where}.name", f"duplicate name {name}")
        names.add(name)
        aliases = tuple(p.string(f"{where}.aliases[{j}]", a) for j, a in enumerate(p.seq(f"{where}.aliases", d.get("aliases"))))
        lat, lon = _centre(p, f"{where}.centre", d.get("centre"))
        out.append(District(code, name, p.string(f"{where}.name_en", d.get("name_en")), aliases, lat, lon))
    if raw is not None and not out:
        p.problem(F, "no districts")
    return out


def _centre(p: Problems, where: str, raw: Any) -> tuple[float | None, float | None]:
    """A district's centre (lat, lon) with where it comes from; (None, None) when not given."""
    if raw is None:
        return None, None
    c = p.mapping(where, raw)
    p.unknown_keys(where, c, {"lat", "lon", "source", "what"})
    lat = p.number(f"{where}.lat", c.get("lat"))
    lon = p.number(f"{where}.lon", c.get("lon"))
    if not LAT_RANGE[0] <= lat <= LAT_RANGE[1] or not LON_RANGE[0] <= lon <= LON_RANGE[1]:
        p.problem(where, f"{lat}, {lon} is not in Chiang Mai (latitude {LAT_RANGE}, longitude {LON_RANGE})")
    source = p.string(f"{where}.source", c.get("source"), max_len=1000)
    if source and not re.match(r"^https?://\S+$", source):
        p.problem(f"{where}.source", f"not an http(s) link: {source!r}")
    p.string(f"{where}.what", c.get("what"))
    return lat, lon
