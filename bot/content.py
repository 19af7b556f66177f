"""Load and validate content/ (YAML, Thai) into typed objects.

Everything a resident reads lives in content/ so the campaign office can correct a fact or
add a measure without touching code. This module turns those files into dataclasses and
refuses, with one line per problem, a file that would make the bot say something wrong.
`check_content` adds the checks that need the renderer (LINE limits, Flex validity) and
the intent contract.
"""
from __future__ import annotations

import math
import re
import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

# Informational answers need a source and 2-4 follow-ups; social ones (greet, thanks, help) don't.
KINDS = ("informational", "social")
SHOWS = ("measures", "adaptation", "actions", "factors")
MAX_LABEL = 20  # LINE: quick-reply and action labels
MAX_ACTION_TEXT = 300  # LINE: message action text
MAX_CHAT_BAR = 14  # LINE: rich menu chatBarText
MAX_RICHMENU_AREAS = 20
MAX_RICHMENU_BYTES = 1024 * 1024
MAX_QUICK_REPLIES = 13
# A short first message: about 350 Thai characters as a reader counts them (tone marks and
# vowels above/below the line do not take a place of their own).
MAX_FIRST_TEXT = 350
NEXT_MIN, NEXT_MAX = 2, 4
# Largest gap allowed between an action's stated number and its recomputed formula
# (lets authors round to the nearest kilogram).
ESTIMATE_TOLERANCE = 0.5
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
URL_RE = re.compile(r"^https?://[^\s]+$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
# Scripts a resident may read here: Thai, Latin, digits and ordinary punctuation/symbols.
# Anything else (a stray Hebrew or Cyrillic letter from a bad paste) is a typo.
ALLOWED_SCRIPTS = ("THAI", "LATIN", "DIGIT")


class ContentError(Exception):
    """content/ has problems; .problems lists them one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("content/ has %d problem(s):\n%s" % (len(problems), "\n".join(problems)))


@dataclass(frozen=True)
class Source:
    id: str
    label: str
    title: str
    url: str


@dataclass(frozen=True)
class Card:
    title: str
    points: tuple[str, ...]
    links: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Answer:
    intent: str
    kind: str
    label: str
    ask: str
    text: str
    sources: tuple[Source, ...]
    next: tuple[str, ...]
    card: Card | None = None
    show: str | None = None

    @property
    def informational(self) -> bool:
        return self.kind == "informational"


@dataclass(frozen=True)
class Flow:
    """An intent the dialogue core answers with a flow (pledges, districts, privacy...)."""

    intent: str
    label: str | None = None
    ask: str | None = None


@dataclass(frozen=True)
class Factor:
    id: str
    title: str
    value: float
    unit: str
    source: Source


@dataclass(frozen=True)
class Input:
    value: float
    unit: str
    note: str


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    howto: str
    topic: str
    sector: str
    measure_ids: tuple[str, ...]
    kg_co2e_year: float | None
    inputs: tuple[Input, ...]
    factor: Factor | None
    formula_text: str
    assumptions: tuple[str, ...]
    no_estimate: str | None
    source: Source

    @property
    def source_title(self) -> str:
        return self.source.title

    @property
    def source_url(self) -> str:
        return self.source.url

    @property
    def computed_kg_co2e_year(self) -> float | None:
        """The estimate recomputed from its inputs and factor."""
        if self.factor is None:
            return None
        return math.prod(i.value for i in self.inputs) * self.factor.value


@dataclass(frozen=True)
class Measure:
    id: str
    sector: str
    title: str
    description: str
    source: Source


@dataclass(frozen=True)
class AdaptationSector:
    id: str
    title: str
    description: str
    source: Source


@dataclass(frozen=True)
class Adaptation:
    total: int
    card_title: str
    source: Source
    missing_note: str
    sectors: tuple[AdaptationSector, ...]
    national_title: str
    national_source: Source
    national_sectors: tuple[str, ...]


@dataclass(frozen=True)
class Measures:
    total: int
    target_percent: float
    target_year: int
    source: Source
    card_title: str
    known: tuple[str, ...]
    missing_note: str
    items: tuple[Measure, ...]
    adaptation: Adaptation

    def by_sector(self) -> dict[str, list[Measure]]:
        out: dict[str, list[Measure]] = {}
        for m in self.items:
            out.setdefault(m.sector, []).append(m)
        return out


@dataclass(frozen=True)
class District:
    code: str
    name: str
    name_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class RichMenuArea:
    label: str
    sublabel: str
    color: str
    intent: str
    text: str  # what tapping it sends: the intent's `ask`
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class RichMenu:
    name: str
    chat_bar_text: str
    width: int
    height: int
    image: Path
    areas: tuple[RichMenuArea, ...]


@dataclass
class Content:
    path: Path
    texts: dict[str, str]
    sources: dict[str, Source]
    answers: dict[str, Answer]
    flows: dict[str, Flow]
    topics: tuple[str, ...]
    sectors: dict[str, str]
    factors: dict[str, Factor]
    actions: dict[str, Action]
    measures: Measures | None
    districts: list[District]
    richmenu: RichMenu | None
    _district_index: dict[str, District] = field(default_factory=dict, repr=False)

    def text(self, key: str, **fmt: Any) -> str:
        """A Thai UI string from content/texts/<file>.yaml, key "<file>.<key>"; {name}s filled from fmt."""
        value = self.texts[key]  # KeyError names the missing key
        return value.format(**fmt) if fmt else value

    def district_by_name(self, name: str) -> District | None:
        """The district whose official name or alias is `name` (ignoring case, spaces and อ./อำเภอ)."""
        return self._district_index.get(_district_key(name))

    def label_of(self, intent: str) -> str | None:
        a = self.answers.get(intent)
        if a is not None:
            return a.label
        f = self.flows.get(intent)
        return f.label if f else None

    def ask_of(self, intent: str) -> str | None:
        a = self.answers.get(intent)
        if a is not None:
            return a.ask
        f = self.flows.get(intent)
        return f.ask if f else None

    def actions_for(self, topic: str) -> list[Action]:
        return [a for a in self.actions.values() if a.topic == topic]


def _district_key(name: str) -> str:
    s = re.sub(r"\s+", "", (name or "").strip().lower())
    for prefix in ("อำเภอ", "อ."):
        if s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix):]
    return s


def visible_length(s: str) -> int:
    """Characters as a Thai reader counts them: combining vowels and tone marks take no place."""
    return sum(1 for ch in s if unicodedata.category(ch) != "Mn")


def fmt_number(x: float) -> str:
    """1,500 / 0.475 / 208.1: thousands separators, no trailing zeros."""
    if float(x).is_integer():
        return f"{int(x):,}"
    s = f"{x:,.4f}".rstrip("0").rstrip(".")
    return s


class _Loader:
    """Builds a Content from a directory, collecting every problem instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []
        # Problems the running bot can live with (the rich menu image is only needed to deploy):
        # reported by `content check`, not raised by load_content.
        self.check_only: list[str] = []

    # -- helpers ---------------------------------------------------------------------------
    def problem(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def check_only_problem(self, where: str, what: str) -> None:
        self.check_only.append(f"{where}: {what}")

    def read_yaml(self, name: str, required: bool = True) -> Any:
        p = self.path / name
        if not p.exists():
            if required:
                self.problem(f"content/{name}", "file is missing")
            return None
        try:
            return yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            self.problem(f"content/{name}", f"not valid YAML: {str(e).splitlines()[0]}")
            return None

    def string(self, where: str, value: Any, *, required: bool = True, max_len: int | None = None) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, "missing (must be non-empty text)")
            return ""
        if not isinstance(value, str):
            self.problem(where, f"must be text, not {type(value).__name__}")
            return str(value)
        value = value.strip()
        if max_len is not None and len(value) > max_len:
            self.problem(where, f"{len(value)} characters, over LINE's limit of {max_len}")
        self.script_check(where, value)
        return value

    def script_check(self, where: str, value: str) -> None:
        for ch in value:
            if ch.isalpha() or unicodedata.category(ch) == "Mn":
                name = unicodedata.name(ch, "")
                if not name.startswith(ALLOWED_SCRIPTS):
                    self.problem(where, f"unexpected character {ch!r} ({name or 'unnamed'}), a typo?")
                    return

    def number(self, where: str, value: Any, *, positive: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(where, f"must be a number, not {value!r}")
            return math.nan
        if positive and not value > 0:
            self.problem(where, f"must be greater than 0, not {value!r}")
        return float(value)

    def integer(self, where: str, value: Any, default: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"must be a whole number, not {value!r}")
            return default
        return value

    def mapping(self, where: str, value: Any) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(where, "must be a mapping (key: value)")
            return {}
        return value

    def seq(self, where: str, value: Any) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(where, "must be a list")
            return []
        return value

    def unknown_keys(self, where: str, d: dict, allowed: set[str]) -> None:
        for k in d:
            if k not in allowed:
                self.problem(where, f"unknown field {k!r} (allowed: {', '.join(sorted(allowed))})")

    def source_ref(self, where: str, sid: Any) -> Source:
        src = self.sources.get(sid) if isinstance(sid, str) else None
        if src is None:
            self.problem(where, f"unknown source {sid!r} (add it to content/sources.yaml)")
            return Source(str(sid), "", "", "")
        return src

    # -- files -----------------------------------------------------------------------------
    def load(self) -> Content:
        self.texts = self.load_texts()
        self.sources = self.load_sources()
        self.sectors, self.factors = {}, {}
        raw_actions = self.read_yaml("actions.yaml")
        self.load_sectors_factors(raw_actions)
        self.measures = self.load_measures()
        self.answers, self.flows, self.topics = self.load_answers()
        self.actions = self.load_actions(raw_actions)
        self.check_answer_references()
        self.districts = self.load_districts()
        self.richmenu = self.load_richmenu()
        content = Content(
            path=self.path, texts=self.texts, sources=self.sources, answers=self.answers, flows=self.flows,
            topics=self.topics, sectors=self.sectors, factors=self.factors, actions=self.actions,
            measures=self.measures, districts=self.districts, richmenu=self.richmenu,
        )
        for d in self.districts:
            for n in (d.name, d.name_en, *d.aliases):
                content._district_index.setdefault(_district_key(n), d)
        return content

    def load_texts(self) -> dict[str, str]:
        texts: dict[str, str] = {}
        tdir = self.path / "texts"
        if not tdir.is_dir():
            self.problem("content/texts", "folder is missing")
            return texts
        for p in sorted(tdir.glob("*.yaml")):
            where = f"content/texts/{p.name}"
            raw = self.read_yaml(f"texts/{p.name}")
            for k, v in self.mapping(where, raw).items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    v = str(v)
                if not isinstance(v, str):
                    self.problem(f"{where}: {k}", "must be text (the file is a flat mapping key: text)")
                    continue
                self.script_check(f"{where}: {k}", v)
                texts[f"{p.stem}.{k}"] = v.strip()
        return texts

    def load_sources(self) -> dict[str, Source]:
        raw = self.mapping("content/sources.yaml", self.read_yaml("sources.yaml"))
        out: dict[str, Source] = {}
        for sid, s in self.mapping("content/sources.yaml: sources", raw.get("sources")).items():
            where = f"content/sources.yaml: sources.{sid}"
            s = self.mapping(where, s)
            self.unknown_keys(where, s, {"label", "title", "url"})
            url = self.string(f"{where}.url", s.get("url"), max_len=1000)
            if url and not URL_RE.match(url):
                self.problem(f"{where}.url", f"not an http(s) link: {url!r}")
            out[str(sid)] = Source(
                id=str(sid), label=self.string(f"{where}.label", s.get("label"), max_len=MAX_LABEL),
                title=self.string(f"{where}.title", s.get("title")), url=url,
            )
        return out

    def load_sectors_factors(self, raw: Any) -> None:
        raw = self.mapping("content/actions.yaml", raw)
        for sid, title in self.mapping("content/actions.yaml: sectors", raw.get("sectors")).items():
            self.sectors[str(sid)] = self.string(f"content/actions.yaml: sectors.{sid}", title)
        if not self.sectors:
            self.problem("content/actions.yaml: sectors", "missing")
        for fid, f in self.mapping("content/actions.yaml: factors", raw.get("factors")).items():
            where = f"content/actions.yaml: factors.{fid}"
            f = self.mapping(where, f)
            self.unknown_keys(where, f, {"title", "value", "unit", "source"})
            self.factors[str(fid)] = Factor(
                id=str(fid), title=self.string(f"{where}.title", f.get("title")),
                value=self.number(f"{where}.value", f.get("value")),
                unit=self.string(f"{where}.unit", f.get("unit")),
                source=self.source_ref(f"{where}.source", f.get("source")),
            )

    def load_answers(self) -> tuple[dict[str, Answer], dict[str, Flow], tuple[str, ...]]:
        F = "content/answers.yaml"
        raw = self.mapping(F, self.read_yaml("answers.yaml"))
        self.unknown_keys(F, raw, {"topics", "flows", "answers"})
        flows: dict[str, Flow] = {}
        for fid, f in self.mapping(f"{F}: flows", raw.get("flows")).items():
            where = f"{F}: flows.{fid}"
            f = self.mapping(where, f)
            self.unknown_keys(where, f, {"label", "ask"})
            label = self.string(f"{where}.label", f.get("label"), required=False, max_len=MAX_LABEL) or None
            ask = self.string(f"{where}.ask", f.get("ask"), required=False, max_len=MAX_ACTION_TEXT) or None
            if (label is None) != (ask is None):
                self.problem(where, "give both label and ask, or neither")
            flows[str(fid)] = Flow(str(fid), label, ask)
        answers: dict[str, Answer] = {}
        allowed = {"kind", "label", "ask", "text", "card", "show", "sources", "next"}
        for intent, a in self.mapping(f"{F}: answers", raw.get("answers")).items():
            where = f"{F}: answers.{intent}"
            a = self.mapping(where, a)
            self.unknown_keys(where, a, allowed)
            if intent in flows:
                self.problem(where, "is also declared under flows: keep one")
            kind = a.get("kind", "informational")
            if kind not in KINDS:
                self.problem(f"{where}.kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
            text = self.string(f"{where}.text", a.get("text"), max_len=5000)
            if text and visible_length(text) > MAX_FIRST_TEXT:
                self.problem(f"{where}.text", f"{visible_length(text)} characters; the first message must stay "
                             f"short (at most {MAX_FIRST_TEXT}): move details into the card")
            card = None
            if a.get("card") is not None:
                c = self.mapping(f"{where}.card", a.get("card"))
                self.unknown_keys(f"{where}.card", c, {"title", "points", "links"})
                points = tuple(self.string(f"{where}.card.points[{i}]", p)
                               for i, p in enumerate(self.seq(f"{where}.card.points", c.get("points"))))
                if not points:
                    self.problem(f"{where}.card.points", "a card needs at least one point")
                links = tuple(self.source_ref(f"{where}.card.links[{i}]", s)
                              for i, s in enumerate(self.seq(f"{where}.card.links", c.get("links"))))
                card = Card(self.string(f"{where}.card.title", c.get("title")), points, links)
            show = a.get("show")
            if show is not None and show not in SHOWS:
                self.problem(f"{where}.show", f"must be one of {', '.join(SHOWS)}, not {show!r}")
            sources = tuple(self.source_ref(f"{where}.sources[{i}]", s)
                            for i, s in enumerate(self.seq(f"{where}.sources", a.get("sources"))))
            if kind == "informational" and not sources:
                self.problem(f"{where}.sources", "an answer needs at least one source the resident can see")
            nxt = tuple(str(n) for n in self.seq(f"{where}.next", a.get("next")))
            answers[str(intent)] = Answer(
                intent=str(intent), kind=kind,
                label=self.string(f"{where}.label", a.get("label"), max_len=MAX_LABEL),
                ask=self.string(f"{where}.ask", a.get("ask"), max_len=MAX_ACTION_TEXT),
                text=text, sources=sources, next=nxt, card=card, show=show,
            )
        topics = tuple(str(t) for t in self.seq(f"{F}: topics", raw.get("topics")))
        if not topics:
            self.problem(f"{F}: topics", "list the main topics (at most 13)")
        if len(topics) > MAX_QUICK_REPLIES:
            self.problem(f"{F}: topics", f"{len(topics)} topics, over LINE's {MAX_QUICK_REPLIES} quick replies")
        return answers, flows, topics

    def reachable(self, intent: str) -> bool:
        """A quick reply can lead to intent: it has an answer, or a flow with label and ask."""
        if intent in self.answers:
            return True
        f = self.flows.get(intent)
        return f is not None and f.label is not None

    def check_answer_references(self) -> None:
        F = "content/answers.yaml"
        for intent, a in self.answers.items():
            where = f"{F}: answers.{intent}.next"
            for n in a.next:
                if not self.reachable(n):
                    self.problem(where, f"quick reply to {n!r}, which has no answer and no flow with label/ask")
                if n == intent:
                    self.problem(where, "an answer should not offer itself")
            if len(set(a.next)) != len(a.next):
                self.problem(where, "the same topic is offered twice")
            if a.informational and not NEXT_MIN <= len(a.next) <= NEXT_MAX:
                self.problem(where, f"{len(a.next)} follow-ups; give {NEXT_MIN} to {NEXT_MAX} related topics")
            if len(a.next) > MAX_QUICK_REPLIES:
                self.problem(where, f"{len(a.next)} quick replies, over LINE's {MAX_QUICK_REPLIES}")
            if a.show == "actions" and not any(x.topic == intent for x in self.actions.values()):
                self.problem(f"{F}: answers.{intent}.show", "shows actions, but no action in actions.yaml has "
                             f"topic {intent}")
            if a.show in ("measures", "adaptation") and self.measures is None:
                self.problem(f"{F}: answers.{intent}.show", f"shows {a.show}, but content/measures.yaml is missing")
        for t in self.topics:
            if not self.reachable(t):
                self.problem(f"{F}: topics", f"{t!r} has no answer and no flow with label/ask")

    def load_actions(self, raw: Any) -> dict[str, Action]:
        F = "content/actions.yaml"
        raw = self.mapping(F, raw)
        self.unknown_keys(F, raw, {"sectors", "factors", "actions"})
        measure_ids = {m.id for m in self.measures.items} if self.measures else set()
        unit = self.texts.get("cards.per_year_unit", "kgCO2e/yr")
        out: dict[str, Action] = {}
        allowed = {"id", "title", "howto", "topic", "sector", "measures", "estimate", "no_estimate", "source"}
        for i, a in enumerate(self.seq(f"{F}: actions", raw.get("actions"))):
            a = self.mapping(f"{F}: actions[{i}]", a)
            aid = str(a.get("id", f"#{i}"))
            where = f"{F}: actions.{aid}"
            self.unknown_keys(where, a, allowed)
            if not ID_RE.match(aid):
                self.problem(f"{where}.id", "must be lower-case letters, digits and _")
            if aid in out:
                self.problem(where, "duplicate id")
            topic = self.string(f"{where}.topic", a.get("topic"))
            if topic and topic not in self.answers:
                self.problem(f"{where}.topic", f"{topic!r} is not an answer in answers.yaml")
            sector = self.string(f"{where}.sector", a.get("sector"))
            if sector and sector not in self.sectors:
                self.problem(f"{where}.sector", f"{sector!r} is not one of sectors: {', '.join(self.sectors)}")
            mids = tuple(str(m) for m in self.seq(f"{where}.measures", a.get("measures")))
            for m in mids:
                if m not in measure_ids:
                    self.problem(f"{where}.measures", f"{m!r} is not a measure in measures.yaml")
            est, no_est = a.get("estimate"), a.get("no_estimate")
            inputs: tuple[Input, ...] = ()
            factor = None
            kg = None
            assumptions: list[str] = []
            formula = ""
            source = None
            if (est is None) == (no_est is None):
                self.problem(where, "give either estimate (with its formula) or no_estimate (why there is no number)")
            if est is not None:
                e = self.mapping(f"{where}.estimate", est)
                self.unknown_keys(f"{where}.estimate", e, {"inputs", "factor", "kg_co2e_year", "notes"})
                ins = []
                for j, x in enumerate(self.seq(f"{where}.estimate.inputs", e.get("inputs"))):
                    x = self.mapping(f"{where}.estimate.inputs[{j}]", x)
                    self.unknown_keys(f"{where}.estimate.inputs[{j}]", x, {"value", "unit", "note"})
                    ins.append(Input(
                        value=self.number(f"{where}.estimate.inputs[{j}].value", x.get("value")),
                        unit=self.string(f"{where}.estimate.inputs[{j}].unit", x.get("unit"), required=False),
                        note=self.string(f"{where}.estimate.inputs[{j}].note", x.get("note")),
                    ))
                inputs = tuple(ins)
                if not inputs:
                    self.problem(f"{where}.estimate.inputs", "list the quantities the estimate multiplies")
                fid = e.get("factor")
                factor = self.factors.get(fid) if isinstance(fid, str) else None
                if factor is None:
                    self.problem(f"{where}.estimate.factor", f"unknown factor {fid!r} (see factors:)")
                kg = self.number(f"{where}.estimate.kg_co2e_year", e.get("kg_co2e_year"))
                assumptions = [x.note for x in inputs]
                if e.get("notes") is not None:
                    assumptions.append(self.string(f"{where}.estimate.notes", e.get("notes")))
                if factor is not None and inputs and not math.isnan(kg):
                    computed = math.prod(x.value for x in inputs) * factor.value
                    terms = [f"{fmt_number(x.value)} {x.unit}".strip() for x in inputs]
                    terms.append(f"{fmt_number(factor.value)} {factor.unit}")
                    formula = " × ".join(terms) + f" ≈ {fmt_number(round(computed, 1))} {unit}"
                    if not abs(computed - kg) <= ESTIMATE_TOLERANCE:
                        self.problem(f"{where}.estimate.kg_co2e_year",
                                     f"{fmt_number(kg)} does not follow from its formula: "
                                     f"{' × '.join(fmt_number(x.value) for x in inputs)} × {fmt_number(factor.value)}"
                                     f" = {computed:.2f}")
                source = factor.source if factor else None
                if a.get("source") is not None:
                    source = self.source_ref(f"{where}.source", a.get("source"))
            else:
                no_est = self.string(f"{where}.no_estimate", no_est)
                assumptions = [no_est]
                if a.get("source") is None:
                    self.problem(f"{where}.source", "an action without a number still names the source of its reason")
                source = self.source_ref(f"{where}.source", a.get("source"))
            out[aid] = Action(
                id=aid, title=self.string(f"{where}.title", a.get("title"), max_len=60),
                howto=self.string(f"{where}.howto", a.get("howto"), max_len=200),
                topic=topic, sector=sector, measure_ids=mids,
                kg_co2e_year=None if kg is None or math.isnan(kg) else kg, inputs=inputs, factor=factor,
                formula_text=formula, assumptions=tuple(assumptions),
                no_estimate=no_est if est is None else None,
                source=source or Source("", "", "", ""),
            )
        if not out:
            self.problem(f"{F}: actions", "no actions")
        return out

    def load_measures(self) -> Measures | None:
        F = "content/measures.yaml"
        raw = self.read_yaml("measures.yaml")
        if raw is None:
            return None
        raw = self.mapping(F, raw)
        self.unknown_keys(F, raw, {"total", "target_percent", "target_year", "source", "card_title", "known",
                                   "missing_note", "measures", "adaptation"})
        items: list[Measure] = []
        seen: set[str] = set()
        for i, m in enumerate(self.seq(f"{F}: measures", raw.get("measures"))):
            m = self.mapping(f"{F}: measures[{i}]", m)
            mid = str(m.get("id", f"#{i}"))
            where = f"{F}: measures.{mid}"
            self.unknown_keys(where, m, {"id", "sector", "title", "description", "source"})
            if mid in seen:
                self.problem(where, "duplicate id")
            seen.add(mid)
            sector = self.string(f"{where}.sector", m.get("sector"))
            if sector and sector not in self.sectors:
                self.problem(f"{where}.sector", f"{sector!r} is not one of sectors in actions.yaml: "
                             f"{', '.join(self.sectors)}")
            items.append(Measure(
                id=mid, sector=sector, title=self.string(f"{where}.title", m.get("title"), max_len=120),
                description=self.string(f"{where}.description", m.get("description"), required=False, max_len=300),
                source=self.source_ref(f"{where}.source", m.get("source")),
            ))
        total = self.integer(f"{F}: total", raw.get("total"))
        if total and len(items) > total:
            self.problem(f"{F}: measures", f"{len(items)} measures listed, more than total {total}")
        ad = self.mapping(f"{F}: adaptation", raw.get("adaptation"))
        self.unknown_keys(f"{F}: adaptation", ad, {"total", "card_title", "source", "missing_note", "sectors",
                                                   "national"})
        sectors = []
        for i, s in enumerate(self.seq(f"{F}: adaptation.sectors", ad.get("sectors"))):
            s = self.mapping(f"{F}: adaptation.sectors[{i}]", s)
            where = f"{F}: adaptation.sectors[{i}]"
            self.unknown_keys(where, s, {"id", "title", "description", "source"})
            sectors.append(AdaptationSector(
                id=str(s.get("id", i)), title=self.string(f"{where}.title", s.get("title"), max_len=120),
                description=self.string(f"{where}.description", s.get("description"), required=False, max_len=300),
                source=self.source_ref(f"{where}.source", s.get("source")),
            ))
        nat = self.mapping(f"{F}: adaptation.national", ad.get("national"))
        adaptation = Adaptation(
            total=self.integer(f"{F}: adaptation.total", ad.get("total"), 6),
            card_title=self.string(f"{F}: adaptation.card_title", ad.get("card_title")),
            source=self.source_ref(f"{F}: adaptation.source", ad.get("source")),
            missing_note=self.string(f"{F}: adaptation.missing_note", ad.get("missing_note")),
            sectors=tuple(sectors),
            national_title=self.string(f"{F}: adaptation.national.title", nat.get("title")),
            national_source=self.source_ref(f"{F}: adaptation.national.source", nat.get("source")),
            national_sectors=tuple(self.string(f"{F}: adaptation.national.sectors[{i}]", s)
                                   for i, s in enumerate(self.seq(f"{F}: adaptation.national.sectors",
                                                                  nat.get("sectors")))),
        )
        return Measures(
            total=total, target_percent=self.number(f"{F}: target_percent", raw.get("target_percent")),
            target_year=self.integer(f"{F}: target_year", raw.get("target_year")),
            source=self.source_ref(f"{F}: source", raw.get("source")),
            card_title=self.string(f"{F}: card_title", raw.get("card_title")),
            known=tuple(self.string(f"{F}: known[{i}]", k)
                        for i, k in enumerate(self.seq(f"{F}: known", raw.get("known")))),
            missing_note=self.string(f"{F}: missing_note", raw.get("missing_note")),
            items=tuple(items), adaptation=adaptation,
        )

    def load_districts(self) -> list[District]:
        F = "content/districts.yaml"
        raw = self.read_yaml("districts.yaml")
        out: list[District] = []
        codes: set[str] = set()
        names: set[str] = set()
        for i, d in enumerate(self.seq(F, raw)):
            d = self.mapping(f"{F}[{i}]", d)
            where = f"{F}[{i}]"
            self.unknown_keys(where, d, {"code", "name", "name_en", "aliases"})
            code = str(d.get("code", ""))
            if not re.fullmatch(r"50\d\d", code):
                self.problem(f"{where}.code", f"must be a Chiang Mai DOPA code 50xx, not {code!r}")
            if code in codes:
                self.problem(f"{where}.code", f"duplicate code {code}")
            codes.add(code)
            name = self.string(f"{where}.name", d.get("name"))
            if name in names:
                self.problem(f"{where}.name", f"duplicate name {name}")
            names.add(name)
            aliases = tuple(self.string(f"{where}.aliases[{j}]", a)
                            for j, a in enumerate(self.seq(f"{where}.aliases", d.get("aliases"))))
            out.append(District(code, name, self.string(f"{where}.name_en", d.get("name_en")), aliases))
        if raw is not None and not out:
            self.problem(F, "no districts")
        return out

    def load_richmenu(self) -> RichMenu | None:
        F = "content/richmenu.yaml"
        raw = self.read_yaml("richmenu.yaml", required=False)
        if raw is None:
            return None
        raw = self.mapping(F, raw)
        self.unknown_keys(F, raw, {"name", "chat_bar_text", "width", "height", "columns", "rows", "image", "areas"})
        width = self.integer(f"{F}: width", raw.get("width"))
        height = self.integer(f"{F}: height", raw.get("height"))
        if (width, height) not in ((2500, 1686), (2500, 843)):
            self.problem(f"{F}: width/height", f"{width}x{height}; LINE's full menu is 2500x1686 (or 2500x843)")
        cols = max(1, self.integer(f"{F}: columns", raw.get("columns"), 1))
        rows = max(1, self.integer(f"{F}: rows", raw.get("rows"), 1))
        areas_raw = self.seq(f"{F}: areas", raw.get("areas"))
        if len(areas_raw) != cols * rows:
            self.problem(f"{F}: areas", f"{len(areas_raw)} areas for a {cols}x{rows} grid")
        if len(areas_raw) > MAX_RICHMENU_AREAS:
            self.problem(f"{F}: areas", f"over LINE's {MAX_RICHMENU_AREAS} areas")
        areas = []
        for i, a in enumerate(areas_raw):
            a = self.mapping(f"{F}: areas[{i}]", a)
            where = f"{F}: areas[{i}]"
            self.unknown_keys(where, a, {"label", "sublabel", "color", "intent"})
            intent = str(a.get("intent"))
            text = ""
            if not self.reachable(intent):
                self.problem(f"{where}.intent", f"{intent!r} has no answer and no flow with label/ask")
            else:
                text = self.answers[intent].ask if intent in self.answers else (self.flows[intent].ask or "")
            color = str(a.get("color", ""))
            if not COLOR_RE.match(color):
                self.problem(f"{where}.color", f"must look like #2E7D32, not {color!r}")
            r, c = divmod(i, max(cols, 1))
            x0, x1 = width * c // cols, width * (c + 1) // cols
            y0, y1 = height * r // rows, height * (r + 1) // rows
            areas.append(RichMenuArea(
                label=self.string(f"{where}.label", a.get("label"), max_len=MAX_LABEL),
                sublabel=self.string(f"{where}.sublabel", a.get("sublabel"), required=False, max_len=40),
                color=color, intent=intent, text=text, x=x0, y=y0, width=x1 - x0, height=y1 - y0,
            ))
        image = self.path / str(raw.get("image", "richmenu.png"))
        if not image.exists():
            self.check_only_problem(f"{F}: image", f"{image.name} is missing: run python scripts/draw_richmenu.py")
        else:
            size = png_size(image)
            if size is None:
                self.check_only_problem(f"{F}: image", f"{image.name} is not a PNG")
            elif size != (width, height):
                self.check_only_problem(f"{F}: image", f"{image.name} is {size[0]}x{size[1]}, the menu is {width}x{height}: "
                             "redraw it")
            if image.stat().st_size > MAX_RICHMENU_BYTES:
                self.check_only_problem(f"{F}: image", f"{image.name} is over LINE's 1 MB")
        return RichMenu(
            name=self.string(f"{F}: name", raw.get("name"), max_len=300),
            chat_bar_text=self.string(f"{F}: chat_bar_text", raw.get("chat_bar_text"), max_len=MAX_CHAT_BAR),
            width=width, height=height, image=image, areas=tuple(areas),
        )


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, without an imaging library."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


def _load(path: Path | None, strict: bool = False) -> tuple[Content | None, list[str]]:
    path = Path(path) if path is not None else CONTENT_DIR
    if not path.is_dir():
        return None, [f"{path}: content folder not found"]
    loader = _Loader(path)
    try:
        content = loader.load()
    except Exception as e:  # a shape the loader did not expect: still one line, not a traceback
        loader.problems.append(f"{path}: could not be read: {type(e).__name__}: {e}")
        return None, loader.problems
    return content, loader.problems + (loader.check_only if strict else [])


def load_content(path: Path | None = None) -> Content:
    """Content from `path` (default: the repo's content/); raises ContentError listing every problem."""
    content, problems = _load(path)
    if problems or content is None:
        raise ContentError(problems)
    return content


def contract_intents(path: Path) -> tuple[list[str], str]:
    """The contract's intent ids: shared/contracts/intents.yaml beside the repo, else content/intents.yaml."""
    shared = path.resolve().parent.parent / "shared" / "contracts" / "intents.yaml"
    if shared.exists():
        raw = yaml.safe_load(shared.read_text(encoding="utf-8")) or {}
        return [str(k) for k in raw], str(shared)
    copy = path / "intents.yaml"
    if copy.exists():
        raw = yaml.safe_load(copy.read_text(encoding="utf-8")) or {}
        return [str(k) for k in (raw.get("intents") or [])], "content/intents.yaml"
    return [], ""


def check_content(path: Path | None = None) -> list[str]:
    """Every problem in content/, one line each: schema, sources, contract coverage, LINE limits, Flex."""
    path = Path(path) if path is not None else CONTENT_DIR
    content, problems = _load(path, strict=True)
    intents, where = contract_intents(path)
    if not intents:
        problems.append("content/intents.yaml: missing; keep a copy of the contract's intent ids there")
    if content is None:
        return problems
    copy = path / "intents.yaml"
    if where != "content/intents.yaml" and copy.exists():
        kept = set((yaml.safe_load(copy.read_text(encoding="utf-8")) or {}).get("intents") or [])
        if kept != set(intents):
            problems.append(f"content/intents.yaml: differs from {where}; update the copy")
    for intent in intents:
        if intent not in content.answers and intent not in content.flows:
            problems.append(f"content/answers.yaml: intent {intent!r} of the contract has no answer and is not "
                            "declared under flows")
    for intent in list(content.answers) + list(content.flows):
        if intents and intent not in intents:
            problems.append(f"content/answers.yaml: {intent!r} is not an intent of the contract ({where})")
    from bot import messages  # the renderer knows LINE's limits; imported here to avoid a cycle

    problems.extend(messages.check_rendering(content))
    return problems
