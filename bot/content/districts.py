"""content/districts.yaml: Chiang Mai's 25 districts, their codes, names and what residents type."""
from __future__ import annotations

import re

from bot.content.model import District
from bot.content.problems import Problems

F = "content/districts.yaml"


def load_districts(p: Problems) -> list[District]:
    raw = p.read_yaml("districts.yaml")
    out: list[District] = []
    codes: set[str] = set()
    names: set[str] = set()
    for i, d in enumerate(p.seq(F, raw)):
        where = f"{F}[{i}]"
        d = p.mapping(where, d)
        p.unknown_keys(where, d, {"code", "name", "name_en", "aliases"})
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
        out.append(District(code, name, p.string(f"{where}.name_en", d.get("name_en")), aliases))
    if raw is not None and not out:
        p.problem(F, "no districts")
    return out
