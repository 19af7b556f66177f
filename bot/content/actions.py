"""content/actions.yaml: sectors, emission factors and the household actions with their arithmetic."""
from __future__ import annotations

import math
import re
from typing import Any

from bot.content.model import Action, Factor, Input, Measures, Quantity, Source
from bot.content.problems import NO_SOURCE, Problems, with_en
from bot.fmt import fmt_number

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
# Largest gap allowed between an action's stated number and its recomputed formula
# (lets authors round to the nearest kilogram).
ESTIMATE_TOLERANCE = 0.5
F = "content/actions.yaml"


def _unit(p: Problems, where: str, d: dict[str, Any]) -> str:
    """A unit, in English when the Thai one has Thai words in it ("kgCO2e/ลิตร")."""
    th = p.string(f"{where}.unit", d.get("unit"), required=False)
    if p.lang == "th" or not _THAI.search(th):
        return th
    return p.local(where, d, "unit", required=False)


def load_sectors_factors(p: Problems, raw: Any) -> tuple[dict[str, str], dict[str, Factor]]:
    raw = p.mapping(F, raw)
    sectors: dict[str, str] = {}
    names_en = p.mapping(f"{F}: sectors_en", raw.get("sectors_en"))
    for sid, title in p.mapping(f"{F}: sectors", raw.get("sectors")).items():
        name = p.string(f"{F}: sectors.{sid}", title)
        if p.lang != "th":
            if names_en.get(sid):
                name = p.string(f"{F}: sectors_en.{sid}", names_en.get(sid))
            else:
                p.check_only_problem(f"{F}: sectors_en.{sid}", "missing English text")
        sectors[str(sid)] = name
    if not sectors:
        p.problem(f"{F}: sectors", "missing")
    factors: dict[str, Factor] = {}
    for fid, f in p.mapping(f"{F}: factors", raw.get("factors")).items():
        where = f"{F}: factors.{fid}"
        f = p.mapping(where, f)
        p.unknown_keys(where, f, with_en({"title", "unit"}) | {"value", "source"})
        factors[str(fid)] = Factor(
            id=str(fid), title=p.local(where, f, "title"), value=p.number(f"{where}.value", f.get("value")),
            unit=_unit(p, where, f), source=p.source_ref(f"{where}.source", f.get("source")),
        )
    return sectors, factors


def load_actions(p: Problems, raw: Any, sectors: dict[str, str], factors: dict[str, Factor],
                 topics: set[str], measures: Measures | None, per_year_unit: str) -> dict[str, Action]:
    raw = p.mapping(F, raw)
    p.unknown_keys(F, raw, {"sectors", "sectors_en", "factors", "actions"})
    measure_ids = {m.id for m in measures.items} if measures else set()
    out: dict[str, Action] = {}
    allowed = (with_en({"title", "howto", "no_estimate"})
               | {"id", "topic", "sector", "measures", "estimate", "source", "quantity"})
    for i, a in enumerate(p.seq(f"{F}: actions", raw.get("actions"))):
        a = p.mapping(f"{F}: actions[{i}]", a)
        aid = str(a.get("id", f"#{i}"))
        where = f"{F}: actions.{aid}"
        p.unknown_keys(where, a, allowed)
        if not ID_RE.match(aid):
            p.problem(f"{where}.id", "must be lower-case letters, digits and _")
        if aid in out:
            p.problem(where, "duplicate id")
        topic = p.string(f"{where}.topic", a.get("topic"))
        if topic and topic not in topics:
            p.problem(f"{where}.topic", f"{topic!r} is not an answer in answers.yaml")
        sector = p.string(f"{where}.sector", a.get("sector"))
        if sector and sector not in sectors:
            p.problem(f"{where}.sector", f"{sector!r} is not one of sectors: {', '.join(sectors)}")
        mids = tuple(str(m) for m in p.seq(f"{where}.measures", a.get("measures")))
        for m in mids:
            if m not in measure_ids:
                p.problem(f"{where}.measures", f"{m!r} is not a measure in measures.yaml")
        est, no_est = a.get("estimate"), a.get("no_estimate")
        inputs: tuple[Input, ...] = ()
        factor = None
        kg = None
        kg_high: float | None = None
        assumptions: list[str] = []
        formula = ""
        source: Source | None = None
        no_estimate: str | None = None
        if (est is None) == (no_est is None):
            p.problem(where, "give either estimate (with its formula) or no_estimate (why there is no number)")
        if est is not None:
            e = p.mapping(f"{where}.estimate", est)
            p.unknown_keys(f"{where}.estimate", e, with_en({"notes"}) | {"inputs", "factor", "factor_high", "kg_co2e_year"})
            ins = []
            for j, x in enumerate(p.seq(f"{where}.estimate.inputs", e.get("inputs"))):
                w = f"{where}.estimate.inputs[{j}]"
                x = p.mapping(w, x)
                p.unknown_keys(w, x, with_en({"unit", "note"}) | {"value"})
                ins.append(Input(value=p.number(f"{w}.value", x.get("value")), unit=_unit(p, w, x),
                                 note=p.local(w, x, "note")))
            inputs = tuple(ins)
            if not inputs:
                p.problem(f"{where}.estimate.inputs", "list the quantities the estimate multiplies")
            fid = e.get("factor")
            factor = factors.get(fid) if isinstance(fid, str) else None
            if factor is None:
                p.problem(f"{where}.estimate.factor", f"unknown factor {fid!r} (see factors:)")
            kg = p.number(f"{where}.estimate.kg_co2e_year", e.get("kg_co2e_year"))
            assumptions = [x.note for x in inputs]
            if e.get("notes") is not None:
                assumptions.append(p.local(f"{where}.estimate", e, "notes"))
            if factor is not None and inputs and not math.isnan(kg):
                computed = math.prod(x.value for x in inputs) * factor.value
                terms = [f"{fmt_number(x.value)} {x.unit}".strip() for x in inputs]
                terms.append(f"{fmt_number(factor.value)} {factor.unit}")
                formula = " × ".join(terms) + f" ≈ {fmt_number(round(computed, 1))} {per_year_unit}"
                if not abs(computed - kg) <= ESTIMATE_TOLERANCE:
                    p.problem(f"{where}.estimate.kg_co2e_year",
                              f"{fmt_number(kg)} does not follow from its formula: "
                              f"{' × '.join(fmt_number(x.value) for x in inputs)} × {fmt_number(factor.value)}"
                              f" = {computed:.2f}")
            if e.get("factor_high") is not None:
                high = factors.get(e["factor_high"]) if isinstance(e["factor_high"], str) else None
                if high is None:
                    p.problem(f"{where}.estimate.factor_high", f"unknown factor {e['factor_high']!r} (see factors:)")
                elif factor is not None and inputs:
                    kg_high = math.prod(x.value for x in inputs) * high.value
                    if high.value < factor.value:
                        p.problem(f"{where}.estimate.factor_high", "the top of the range is below its bottom (factor)")
            source = factor.source if factor else None
            if a.get("source") is not None:
                source = p.source_ref(f"{where}.source", a.get("source"))
        else:
            no_estimate = p.local(where, a, "no_estimate")
            assumptions = [no_estimate]
            if a.get("source") is None:
                p.problem(f"{where}.source", "an action without a number still names the source of its reason")
            source = p.source_ref(f"{where}.source", a.get("source"))
        out[aid] = Action(
            id=aid, title=p.local(where, a, "title", max_len=60), howto=p.local(where, a, "howto", max_len=200),
            topic=topic, sector=sector, measure_ids=mids,
            kg_co2e_year=None if kg is None or math.isnan(kg) else kg, inputs=inputs, factor=factor,
            formula_text=formula, assumptions=tuple(assumptions), no_estimate=no_estimate,
            source=source or NO_SOURCE,
            quantity=load_quantity(p, where, a.get("quantity"), inputs) if a.get("quantity") is not None else None,
            kg_co2e_year_high=kg_high,
        )
    if not out:
        p.problem(f"{F}: actions", "no actions")
    return out


def load_quantity(p: Problems, where: str, raw: Any, inputs: tuple[Input, ...]) -> Quantity | None:
    """An action's quantity: which estimate input it scales, its unit, default, bounds and quick picks."""
    w = f"{where}.quantity"
    q = p.mapping(w, raw)
    p.unknown_keys(w, q, with_en({"unit"}) | {"input", "default", "min", "max", "whole", "choices"})
    if not inputs:
        p.problem(w, "only an action with an estimate can have a quantity (it scales one of the estimate's inputs)")
        return None
    index = q.get("input", 0)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(inputs):
        p.problem(f"{w}.input", f"must be the number of one of the estimate's inputs, 0 to {len(inputs) - 1}")
        return None
    default = p.number(f"{w}.default", q.get("default"))
    low, high = p.number(f"{w}.min", q.get("min")), p.number(f"{w}.max", q.get("max"))
    whole = bool(q.get("whole", False))
    choices = tuple(p.number(f"{w}.choices", c) for c in p.seq(f"{w}.choices", q.get("choices")))
    if any(math.isnan(x) for x in (default, low, high)):
        return None
    if default != inputs[index].value:
        p.problem(f"{w}.default", f"{fmt_number(default)} must be the estimate's input {index} "
                                  f"({fmt_number(inputs[index].value)}), which it scales")
    if not 0 < low <= default <= high:
        p.problem(w, f"need 0 < min <= default <= max (got {fmt_number(low)}, {fmt_number(default)}, {fmt_number(high)})")
    for c in choices:
        if not low <= c <= high or (whole and not float(c).is_integer()):
            p.problem(f"{w}.choices", f"{fmt_number(c)} is outside {fmt_number(low)}-{fmt_number(high)} or not whole")
    if whole and not all(float(x).is_integer() for x in (default, low, high)):
        p.problem(w, "a whole-number quantity needs whole default, min and max")
    return Quantity(input=index, unit=p.local(w, q, "unit", max_len=20), default=default, min=low, max=high,
                    whole=whole, choices=choices[:8])
