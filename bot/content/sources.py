"""content/sources.yaml: what the bot cites, with a link a resident can open."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from bot.content.model import Lang, Source
from bot.content.problems import Problems, with_en
from bot.fmt import shorten
from bot.limits import MAX_LABEL

URL_RE = re.compile(r"^https?://[^\s]+$")
THAI = re.compile(r"[\u0e00-\u0e7f]")


def read_source(p: Problems, where: str, sid: str, s: Any) -> Source:
    s = p.mapping(where, s)
    p.unknown_keys(where, s, with_en({"label", "title"}) | {"url"})
    url = p.string(f"{where}.url", s.get("url"), max_len=1000)
    if url and not URL_RE.match(url):
        p.problem(f"{where}.url", f"not an http(s) link: {url!r}")
    # A label that is a name in Latin letters ("Nation Thailand") reads the same in English; a Thai
    # one without an English label shows the site's address, which a foreign reader can place.
    label = p.string(f"{where}.label", s.get("label"), max_len=MAX_LABEL)
    if p.lang == Lang.EN and THAI.search(label):
        label = p.string(f"{where}.label_en", s.get("label_en"), max_len=MAX_LABEL) if s.get("label_en") else \
            shorten((urlparse(url).hostname or label).removeprefix("www."), MAX_LABEL)
    return Source(id=sid, label=label, title=p.local(where, s, "title"), url=url)


def load_sources(p: Problems) -> dict[str, Source]:
    raw = p.mapping("content/sources.yaml", p.read_yaml("sources.yaml"))
    out: dict[str, Source] = {}
    for sid, s in p.mapping("content/sources.yaml: sources", raw.get("sources")).items():
        out[str(sid)] = read_source(p, f"content/sources.yaml: sources.{sid}", str(sid), s)
    return out
