"""content/measures.yaml: the province's 30 measures and 6 adaptation sectors, as far as they are known."""
from __future__ import annotations

from bot.content.model import Adaptation, AdaptationSector, Measure, Measures
from bot.content.problems import Problems, with_en

F = "content/measures.yaml"


def load_measures(p: Problems, sectors: dict[str, str]) -> Measures | None:
    raw = p.read_yaml("measures.yaml")
    if raw is None:
        return None
    raw = p.mapping(F, raw)
    p.unknown_keys(F, raw, with_en({"card_title", "known", "missing_note"})
                   | {"total", "target_percent", "target_year", "source", "measures", "adaptation"})
    items: list[Measure] = []
    seen: set[str] = set()
    for i, m in enumerate(p.seq(f"{F}: measures", raw.get("measures"))):
        m = p.mapping(f"{F}: measures[{i}]", m)
        mid = str(m.get("id", f"#{i}"))
        where = f"{F}: measures.{mid}"
        p.unknown_keys(where, m, with_en({"title", "description"}) | {"id", "sector", "source"})
        if mid in seen:
            p.problem(where, "duplicate id")
        seen.add(mid)
        sector = p.string(f"{where}.sector", m.get("sector"))
        if sector and sector not in sectors:
            p.problem(f"{where}.sector", f"{sector!r} is not one of sectors in actions.yaml: {', '.join(sectors)}")
        items.append(Measure(
            id=mid, sector=sector, title=p.local(where, m, "title", max_len=120),
            description=p.local(where, m, "description", required=False, max_len=300),
            source=p.source_ref(f"{where}.source", m.get("source")),
        ))
    total = p.integer(f"{F}: total", raw.get("total"))
    if total and len(items) > total:
        p.problem(f"{F}: measures", f"{len(items)} measures listed, more than total {total}")
    ad = p.mapping(f"{F}: adaptation", raw.get("adaptation"))
    p.unknown_keys(f"{F}: adaptation", ad, with_en({"card_title", "missing_note"})
                   | {"total", "source", "sectors", "national"})
    adaptation_sectors = []
    for i, s in enumerate(p.seq(f"{F}: adaptation.sectors", ad.get("sectors"))):
        where = f"{F}: adaptation.sectors[{i}]"
        s = p.mapping(where, s)
        p.unknown_keys(where, s, with_en({"title", "description"}) | {"id", "source"})
        adaptation_sectors.append(AdaptationSector(
            id=str(s.get("id", i)), title=p.local(where, s, "title", max_len=120),
            description=p.local(where, s, "description", required=False, max_len=300),
            source=p.source_ref(f"{where}.source", s.get("source")),
        ))
    where = f"{F}: adaptation.national"
    nat = p.mapping(where, ad.get("national"))
    p.unknown_keys(where, nat, with_en({"title", "sectors"}) | {"source"})
    adaptation = Adaptation(
        total=p.integer(f"{F}: adaptation.total", ad.get("total"), 6),
        card_title=p.local(f"{F}: adaptation", ad, "card_title"),
        source=p.source_ref(f"{F}: adaptation.source", ad.get("source")),
        missing_note=p.local(f"{F}: adaptation", ad, "missing_note"),
        sectors=tuple(adaptation_sectors),
        national_title=p.local(where, nat, "title"),
        national_source=p.source_ref(f"{where}.source", nat.get("source")),
        national_sectors=tuple(p.string(f"{where}.sectors[{i}]", s)
                               for i, s in enumerate(p.local_list(where, nat, "sectors"))),
    )
    return Measures(
        total=total, target_percent=p.number(f"{F}: target_percent", raw.get("target_percent")),
        target_year=p.integer(f"{F}: target_year", raw.get("target_year")),
        source=p.source_ref(f"{F}: source", raw.get("source")),
        card_title=p.local(F, raw, "card_title"),
        known=tuple(p.string(f"{F}: known[{i}]", k) for i, k in enumerate(p.local_list(F, raw, "known"))),
        missing_note=p.local(F, raw, "missing_note"),
        items=tuple(items), adaptation=adaptation,
    )
