"""content/bank/*.yaml: the question bank, specific questions with short sourced answers.

Each file may declare the sources it cites (merged with content/sources.yaml; an id is defined
once) and lists entries: id, topic (an intent of the contract), labels, the questions residents
ask (Thai and English; the matcher learns from them), the answer in Thai and English, sources,
related entries, follow-ups, and for symptoms and emergencies the trigger words that make the
bot answer them before anything else.
"""
from __future__ import annotations

import re
from typing import Any

from bot.content.model import Entry, FollowUp, Lang, Source
from bot.content.problems import Problems
from bot.content.sources import read_source
from bot.fmt import visible_length
from bot.limits import MAX_ACTION_TEXT, MAX_LABEL

ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_ANSWER = 350
FIELDS = {"id", "topic", "label_th", "label_en", "q_th", "q_en", "th", "en", "sources", "related", "follow",
          "safety", "triggers", "action"}


def _files(p: Problems) -> list[tuple[str, dict[str, Any]]]:
    folder = p.path / "bank"
    if not folder.is_dir():
        return []
    out = []
    for f in sorted(folder.glob("*.yaml")):
        raw = p.mapping(f"content/bank/{f.name}", p.read_yaml(f"bank/{f.name}"))
        p.unknown_keys(f"content/bank/{f.name}", raw, {"sources", "entries"})
        out.append((f.name, raw))
    return out


def load_bank_sources(p: Problems) -> dict[str, Source]:
    """The sources the bank files declare (added to p.sources by the caller)."""
    out: dict[str, Source] = {}
    for name, raw in _files(p):
        for sid, s in p.mapping(f"content/bank/{name}: sources", raw.get("sources")).items():
            where = f"content/bank/{name}: sources.{sid}"
            if sid in p.sources or sid in out:
                p.problem(where, "this source id is already defined elsewhere")
                continue
            out[str(sid)] = read_source(p, where, str(sid), s)
    return out


def _questions(p: Problems, where: str, e: dict[str, Any], key: str, least: int, most: int) -> tuple[str, ...]:
    qs = tuple(p.string(f"{where}.{key}[{i}]", q, max_len=MAX_ACTION_TEXT)
               for i, q in enumerate(p.seq(f"{where}.{key}", e.get(key))))
    if not least <= len(qs) <= most:
        p.problem(f"{where}.{key}", f"{len(qs)} questions; give {least} to {most}")
    return qs


def load_entries(p: Problems, topics: set[str], actions: set[str]) -> dict[str, Entry]:
    """Every entry, in p.lang; references between entries are checked once all are read."""
    entries: dict[str, Entry] = {}
    seen_questions: dict[str, str] = {}
    refs: list[tuple[str, str, str]] = []
    for name, raw in _files(p):
        for i, e in enumerate(p.seq(f"content/bank/{name}: entries", raw.get("entries"))):
            e = p.mapping(f"content/bank/{name}: entries[{i}]", e)
            eid = str(e.get("id", f"#{i}"))
            where = f"content/bank/{name}: {eid}"
            p.unknown_keys(where, e, FIELDS)
            if not ID_RE.match(eid):
                p.problem(where, "id must be lower-case letters, digits and _")
            if eid in entries:
                p.problem(where, "duplicate id")
            topic = p.string(f"{where}.topic", e.get("topic"))
            if topic and topic not in topics:
                p.problem(f"{where}.topic", f"{topic!r} is not an informational topic of the contract (or out_of_scope)")
            q_th = _questions(p, where, e, "q_th", 4, 10)
            q_en = _questions(p, where, e, "q_en", 2, 10)
            for q in q_th + q_en:
                key = re.sub(r"\s+", "", q.lower())
                if key in seen_questions and seen_questions[key] != eid:
                    p.problem(f"{where}", f"question {q!r} is also one of {seen_questions[key]}'s")
                seen_questions.setdefault(key, eid)
            text = p.string(f"{where}.{p.lang}", e.get(str(p.lang)))
            if p.lang == Lang.EN and not text:
                text = p.string(f"{where}.th", e.get("th"))
            if text and visible_length(text) > MAX_ANSWER:
                p.problem(f"{where}.{p.lang}", f"{visible_length(text)} characters; an answer stays within {MAX_ANSWER}")
            label = p.string(f"{where}.label_{p.lang}", e.get(f"label_{p.lang}"), max_len=MAX_LABEL)
            sources = tuple(p.source_ref(f"{where}.sources[{j}]", s)
                            for j, s in enumerate(p.seq(f"{where}.sources", e.get("sources"))))
            if not sources:
                p.problem(f"{where}.sources", "an answer names at least one source")
            related = tuple(str(r) for r in p.seq(f"{where}.related", e.get("related")))
            follow: dict[FollowUp, str] = {}
            for kind, target in p.mapping(f"{where}.follow", e.get("follow")).items():
                try:
                    follow[FollowUp(kind)] = str(target)
                except ValueError:
                    p.problem(f"{where}.follow", f"{kind!r} is not one of {', '.join(FollowUp)}")
            refs += [(where, "related", r) for r in related] + [(where, "follow", t) for t in follow.values()]
            action = e.get("action")
            if action is not None and action not in actions:
                p.problem(f"{where}.action", f"{action!r} is not an action in actions.yaml")
            safety = bool(e.get("safety"))
            triggers = tuple(tuple(str(w).lower().replace(" ", "") for w in p.seq(f"{where}.triggers", g))
                             for g in p.seq(f"{where}.triggers", e.get("triggers")))
            if safety != bool(triggers) or any(not g for g in triggers):
                p.problem(f"{where}.triggers", "a safety entry has trigger groups of words, and only a safety entry")
            asks = q_en if p.lang == Lang.EN else q_th
            entries[eid] = Entry(
                id=eid, topic=topic, label=label, text=text, sources=sources, related=related, follow=follow,
                questions=q_th + q_en, ask=asks[0] if asks else (q_th[0] if q_th else ""),
                action=str(action) if action else None, safety=safety, triggers=triggers)
    for where, what, target in refs:
        if target not in entries:
            p.problem(where, f"{what} {target!r} is not an entry of the bank")
    return entries
