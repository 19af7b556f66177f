"""Reading YAML while collecting every problem, one line each, instead of stopping at the first."""
from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from bot.content.model import Lang, Source

# Scripts a resident may read here: Thai, Latin, digits and ordinary punctuation/symbols.
# Anything else (a stray Hebrew or Cyrillic letter from a bad paste) is a typo.
ALLOWED_SCRIPTS = ("THAI", "LATIN", "DIGIT")
# Letters of other scripts that belong in units ("µg/m³").
ALLOWED_LETTERS = frozenset("\u00b5")
NO_SOURCE = Source("", "", "", "")


class Problems:
    """Collects problems found while loading content/ (and the checks only `content check` makes)."""

    def __init__(self, path: Path, lang: Lang = Lang.TH) -> None:
        self.path = path
        self.lang = lang
        self.problems: list[str] = []
        # Problems the running bot can live with (the rich menu image is only needed to deploy; a
        # missing English string falls back to Thai): reported by `content check`, not raised at start.
        self.check_only: list[str] = []
        self.sources: dict[str, Source] = {}

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
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: much faster
            with p.open(encoding="utf-8") as f:
                return yaml.load(f, Loader=loader)  # noqa: S506 (a safe loader)
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
        text: str = value.strip()
        if max_len is not None and len(text) > max_len:
            self.problem(where, f"{len(text)} characters, over LINE's limit of {max_len}")
        self.script_check(where, text)
        return text

    def local(self, where: str, d: dict[str, Any], key: str, *, required: bool = True,
              max_len: int | None = None) -> str:
        """d[key] in Thai, d[key + "_en"] in English; a missing English text falls back to the Thai
        one at run time and is reported by `content check`."""
        if self.lang == Lang.TH:
            return self.string(f"{where}.{key}", d.get(key), required=required, max_len=max_len)
        en = d.get(f"{key}_en")
        if en is None or (isinstance(en, str) and not en.strip()):
            th = d.get(key)
            if th is not None and str(th).strip():
                self.check_only_problem(f"{where}.{key}_en", "missing English text")
            return self.string(f"{where}.{key}", th, required=required, max_len=max_len)
        return self.string(f"{where}.{key}_en", en, required=required, max_len=max_len)

    def local_list(self, where: str, d: dict[str, Any], key: str) -> list[Any]:
        """d[key] in Thai, d[key + "_en"] in English (same length), falling back like local()."""
        th = self.seq(f"{where}.{key}", d.get(key))
        if self.lang == Lang.TH:
            return th
        en = self.seq(f"{where}.{key}_en", d.get(f"{key}_en"))
        if not en and th:
            self.check_only_problem(f"{where}.{key}_en", "missing English list")
            return th
        if len(en) != len(th):
            self.problem(f"{where}.{key}_en", f"{len(en)} items where the Thai list has {len(th)}")
        return en

    def script_check(self, where: str, value: str) -> None:
        for ch in value:
            if (ch.isalpha() or unicodedata.category(ch) == "Mn") and ch not in ALLOWED_LETTERS:
                name = unicodedata.name(ch, "")
                if not name.startswith(ALLOWED_SCRIPTS) and name != "MICRO SIGN":  # µg/m³
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

    def mapping(self, where: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(where, "must be a mapping (key: value)")
            return {}
        return value

    def seq(self, where: str, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(where, "must be a list")
            return []
        return value

    def unknown_keys(self, where: str, d: dict[str, Any], allowed: set[str]) -> None:
        for k in d:
            if k not in allowed:
                self.problem(where, f"unknown field {k!r} (allowed: {', '.join(sorted(allowed))})")

    def source_ref(self, where: str, sid: Any) -> Source:
        src = self.sources.get(sid) if isinstance(sid, str) else None
        if src is None:
            self.problem(where, f"unknown source {sid!r} (add it to content/sources.yaml)")
            return Source(str(sid), "", "", "")
        return src


def with_en(keys: set[str]) -> set[str]:
    """The allowed fields of a mapping whose texts may also come in English (key_en)."""
    return keys | {f"{k}_en" for k in keys}
