"""What content/ becomes once loaded: typed, checked, in one language.

Every language view (Thai, English) is a Content of its own with the same ids, numbers and
sources; only the words differ. The dialogue picks the resident's view, so no code below the
dialogue needs to know which language it speaks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.fmt import fmt_date


class Lang(StrEnum):
    TH = "th"
    EN = "en"


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
    """A topic's overview answer (answers.yaml)."""

    intent: str
    kind: str
    label: str
    ask: str
    text: str
    sources: tuple[Source, ...]
    next: tuple[str, ...]
    card: Card | None = None
    show: str | None = None
    follow: dict[str, str] = field(default_factory=dict)  # follow-up kind -> entry id

    @property
    def informational(self) -> bool:
        return self.kind == "informational"


class FollowUp(StrEnum):
    """What a short follow-up question asks about the answer just given."""

    HOW = "how"          # "แล้วต้องทำยังไง", "what should I do"
    WHY = "why"          # "ทำไม", "why"
    KIDS = "kids"        # "แล้วเด็กล่ะ", "what about kids"
    ELDERS = "elders"    # "แล้วผู้สูงอายุล่ะ"
    CONTACT = "contact"  # "ติดต่อใคร", "who do I call"


@dataclass(frozen=True)
class Entry:
    """One specific question of the question bank (content/bank/*.yaml) and its answer."""

    id: str
    topic: str                       # the contract's intent it belongs to
    label: str                       # quick-reply label that leads here
    text: str                        # the answer (at most 350 visible characters)
    sources: tuple[Source, ...]
    related: tuple[str, ...]         # entry ids offered next
    follow: dict[FollowUp, str]      # which entry answers a follow-up
    questions: tuple[str, ...]       # how residents ask it, in every language (for the matcher)
    ask: str                         # what its quick reply sends: its first question in this language
    action: str | None = None        # the household action it is about (for "how much does it save")
    safety: bool = False             # a symptom or an emergency: recognised before anything else
    triggers: tuple[tuple[str, ...], ...] = ()


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
class Quantity:
    """How much of an action a household pledges (trees, bulbs, litres a week…): the estimate's
    input number `input` scales with it; `default` is that input's value in the catalogue."""

    input: int
    unit: str
    default: float
    min: float
    max: float
    whole: bool
    choices: tuple[float, ...]

    def clamp_ok(self, value: float) -> bool:
        return self.min <= value <= self.max and (not self.whole or float(value).is_integer())


@dataclass(frozen=True)
class Action:
    """A household action residents can pledge (actions.yaml), with the arithmetic of its estimate."""

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
    quantity: Quantity | None = None
    # The top of the estimate's range when its factor is a range (trees take up 9-15 kg a year):
    # kg_co2e_year is the low end, used in totals; this is shown beside it.
    kg_co2e_year_high: float | None = None

    def kg_year(self, quantity: float | None = None) -> float | None:
        """The yearly estimate for this quantity (None: the catalogue's default)."""
        return self._scaled(self.kg_co2e_year, quantity)

    def kg_year_high(self, quantity: float | None = None) -> float | None:
        return self._scaled(self.kg_co2e_year_high, quantity)

    def _scaled(self, kg: float | None, quantity: float | None) -> float | None:
        if kg is None or quantity is None or self.quantity is None or not self.quantity.default:
            return kg
        return kg * quantity / self.quantity.default

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
    # The point "the nearest air-quality station" is measured from (districts.yaml `centre`).
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class AirBand:
    """One band of Thailand's air quality index for the 24-hour PM2.5 average (content/air.yaml)."""

    id: str
    level: int  # 1 (very good) … 5 (affecting health)
    max: float | None  # µg/m³, inclusive; None for the top band
    colour: str
    text_colour: str
    alert: bool  # subscribers are alerted when their district enters this band
    name: str
    colour_name: str
    advice: str
    advice_sensitive: str | None


@dataclass(frozen=True)
class AirIndex:
    """The bands, the standard, and whom the readings and the advice come from."""

    standard: float
    bands: tuple[AirBand, ...]
    index_sources: tuple[Source, ...]
    advice_source: Source
    readings_source: Source
    other_services: tuple[Source, ...]

    def band_of(self, pm25: float) -> AirBand:
        """The band of a reading: rounded to 1 decimal, the first band whose max it does not exceed."""
        value = round(pm25, 1)
        for b in self.bands:
            if b.max is None or value <= b.max:
                return b
        return self.bands[-1]

    def band(self, band_id: str | None) -> AirBand | None:
        return next((b for b in self.bands if b.id == band_id), None)


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


def district_key(name: str) -> str:
    """A district name as looked up: lower case, no spaces, without อ./อำเภอ."""
    import re

    s = re.sub(r"\s+", "", (name or "").strip().lower())
    for prefix in ("อำเภอ", "อ."):
        if s.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix):]
    return s


@dataclass
class Content:
    """Everything a resident reads, in one language."""

    path: Path
    lang: Lang
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
    entries: dict[str, Entry] = field(default_factory=dict)
    _district_index: dict[str, District] = field(default_factory=dict, repr=False)
    air: AirIndex | None = None

    def __post_init__(self) -> None:
        for d in self.districts:
            for n in (d.name, d.name_en, *d.aliases):
                self._district_index.setdefault(district_key(n), d)

    def text(self, key: str, **fmt: Any) -> str:
        """A UI string from content/texts/<file>.yaml, key "<file>.<key>"; {name}s filled from fmt."""
        value = self.texts[key]  # KeyError names the missing key
        return value.format(**fmt) if fmt else value

    def date(self, d: date | datetime) -> str:
        """A date as this language writes it ("3 มี.ค. 2568", "3 Mar 2025")."""
        return fmt_date(self.text("pledges.months"), d, int(self.text("core.era_offset")))

    def district_by_name(self, name: str | None) -> District | None:
        """The district whose official name or alias is `name` (ignoring case, spaces and อ./อำเภอ)."""
        if not name:
            return None
        return self._district_index.get(district_key(name))

    def district_by_code(self, code: str | None) -> District | None:
        if not code:
            return None
        return next((d for d in self.districts if d.code == code), None)

    def district_name(self, d: District) -> str:
        return d.name_en if self.lang == Lang.EN and d.name_en else d.name

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


@dataclass
class Contents:
    """The content in every language the bot speaks; Thai is the default."""

    th: Content
    en: Content

    def of(self, lang: str | None) -> Content:
        return self.en if lang == Lang.EN else self.th
