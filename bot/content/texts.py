"""content/texts/*.yaml (Thai) and content/texts/en/*.yaml (English): the words of each flow."""
from __future__ import annotations

import string

from bot.content.model import Lang
from bot.content.problems import Problems


def _flat(p: Problems, folder: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    tdir = p.path / folder
    if not tdir.is_dir():
        p.problem(f"content/{folder}", "folder is missing")
        return texts
    for f in sorted(tdir.glob("*.yaml")):
        where = f"content/{folder}/{f.name}"
        for k, v in p.mapping(where, p.read_yaml(f"{folder}/{f.name}")).items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
            if not isinstance(v, str):
                p.problem(f"{where}: {k}", "must be text (the file is a flat mapping key: text)")
                continue
            p.script_check(f"{where}: {k}", v)
            texts[f"{f.stem}.{k}"] = v.strip()
    return texts


def placeholders(s: str) -> set[str]:
    """The {names} a text expects the bot to fill in."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(s) if name}
    except ValueError:
        return {"<unbalanced braces>"}


def load_texts(p: Problems) -> dict[str, str]:
    """The texts in p.lang; English keys missing from texts/en fall back to Thai (check_only)."""
    thai = _flat(p, "texts")
    if p.lang == Lang.TH:
        return thai
    english = _flat(p, "texts/en") if (p.path / "texts" / "en").is_dir() else {}
    out: dict[str, str] = {}
    for key, th in thai.items():
        file, _, k = key.partition(".")
        en = english.get(key)
        if en is None:
            p.check_only_problem(f"content/texts/en/{file}.yaml: {k}", "missing English text")
            out[key] = th
            continue
        if placeholders(en) != placeholders(th):
            p.problem(f"content/texts/en/{file}.yaml: {k}",
                      f"placeholders {sorted(placeholders(en))} differ from the Thai {sorted(placeholders(th))}")
        out[key] = en
    for key in english.keys() - thai.keys():
        file, _, k = key.partition(".")
        p.problem(f"content/texts/en/{file}.yaml: {k}", "has no Thai text in content/texts (a typo in the key?)")
    return out
