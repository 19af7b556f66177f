"""content/answers.yaml: each topic's overview answer, the flows' quick replies, the main topics."""
from __future__ import annotations

from bot.content.model import Action, Answer, Card, Flow, Measures
from bot.content.problems import Problems, with_en
from bot.fmt import visible_length
from bot.limits import MAX_ACTION_TEXT, MAX_LABEL, MAX_QUICK_REPLIES

# Informational answers need a source and 2-4 follow-ups; social ones (greet, thanks, help) don't.
KINDS = ("informational", "social")
SHOWS = ("measures", "adaptation", "actions", "factors")
# A short first message: about 350 Thai characters as a reader counts them (tone marks and
# vowels above/below the line do not take a place of their own).
MAX_FIRST_TEXT = 350
NEXT_MIN, NEXT_MAX = 2, 4
F = "content/answers.yaml"


def load_answers(p: Problems) -> tuple[dict[str, Answer], dict[str, Flow], tuple[str, ...]]:
    raw = p.mapping(F, p.read_yaml("answers.yaml"))
    p.unknown_keys(F, raw, {"topics", "flows", "answers"})
    flows: dict[str, Flow] = {}
    for fid, f in p.mapping(f"{F}: flows", raw.get("flows")).items():
        where = f"{F}: flows.{fid}"
        f = p.mapping(where, f)
        p.unknown_keys(where, f, with_en({"label", "ask"}))
        label = p.local(where, f, "label", required=False, max_len=MAX_LABEL) or None
        ask = p.local(where, f, "ask", required=False, max_len=MAX_ACTION_TEXT) or None
        if (label is None) != (ask is None):
            p.problem(where, "give both label and ask, or neither")
        flows[str(fid)] = Flow(str(fid), label, ask)
    answers: dict[str, Answer] = {}
    allowed = with_en({"label", "ask", "text", "card"}) | {"kind", "show", "sources", "next", "follow"}
    for intent, a in p.mapping(f"{F}: answers", raw.get("answers")).items():
        where = f"{F}: answers.{intent}"
        a = p.mapping(where, a)
        p.unknown_keys(where, a, allowed)
        if intent in flows:
            p.problem(where, "is also declared under flows: keep one")
        kind = a.get("kind", "informational")
        if kind not in KINDS:
            p.problem(f"{where}.kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
        text = p.local(where, a, "text", max_len=5000)
        if text and visible_length(text) > MAX_FIRST_TEXT:
            p.problem(f"{where}.text", f"{visible_length(text)} characters; the first message must stay "
                      f"short (at most {MAX_FIRST_TEXT}): move details into the card")
        card = None
        if a.get("card") is not None:
            card = _card(p, where, a)
        show = a.get("show")
        if show is not None and show not in SHOWS:
            p.problem(f"{where}.show", f"must be one of {', '.join(SHOWS)}, not {show!r}")
        sources = tuple(p.source_ref(f"{where}.sources[{i}]", s)
                        for i, s in enumerate(p.seq(f"{where}.sources", a.get("sources"))))
        if kind == "informational" and not sources:
            p.problem(f"{where}.sources", "an answer needs at least one source the resident can see")
        nxt = tuple(str(n) for n in p.seq(f"{where}.next", a.get("next")))
        answers[str(intent)] = Answer(
            intent=str(intent), kind=kind,
            label=p.local(where, a, "label", max_len=MAX_LABEL),
            ask=p.local(where, a, "ask", max_len=MAX_ACTION_TEXT),
            text=text, sources=sources, next=nxt, card=card, show=show,
            follow={str(k): str(v) for k, v in p.mapping(f"{where}.follow", a.get("follow")).items()},
        )
    topics = tuple(str(t) for t in p.seq(f"{F}: topics", raw.get("topics")))
    if not topics:
        p.problem(f"{F}: topics", "list the main topics (at most 13)")
    if len(topics) > MAX_QUICK_REPLIES:
        p.problem(f"{F}: topics", f"{len(topics)} topics, over LINE's {MAX_QUICK_REPLIES} quick replies")
    return answers, flows, topics


def _card(p: Problems, where: str, a: dict) -> Card:  # type: ignore[type-arg]
    th = p.mapping(f"{where}.card", a.get("card"))
    p.unknown_keys(f"{where}.card", th, {"title", "points", "links"})
    links = tuple(p.source_ref(f"{where}.card.links[{i}]", s)
                  for i, s in enumerate(p.seq(f"{where}.card.links", th.get("links"))))
    c = th
    if p.lang != "th":
        en = p.mapping(f"{where}.card_en", a.get("card_en"))
        p.unknown_keys(f"{where}.card_en", en, {"title", "points"})
        if not en:
            p.check_only_problem(f"{where}.card_en", "missing English card")
        elif len(p.seq(f"{where}.card_en.points", en.get("points"))) != len(p.seq(f"{where}.card.points", th.get("points"))):
            p.problem(f"{where}.card_en.points", "not as many points as the Thai card")
        else:
            c = en
    points = tuple(p.string(f"{where}.card.points[{i}]", x) for i, x in enumerate(p.seq(f"{where}.card.points", c.get("points"))))
    if not points:
        p.problem(f"{where}.card.points", "a card needs at least one point")
    return Card(p.string(f"{where}.card.title", c.get("title")), points, links)


def reachable(answers: dict[str, Answer], flows: dict[str, Flow], intent: str) -> bool:
    """A quick reply can lead to intent: it has an answer, or a flow with label and ask."""
    if intent in answers:
        return True
    f = flows.get(intent)
    return f is not None and f.label is not None


def check_answer_references(p: Problems, answers: dict[str, Answer], flows: dict[str, Flow],
                            topics: tuple[str, ...], actions: dict[str, Action], measures: Measures | None) -> None:
    for intent, a in answers.items():
        where = f"{F}: answers.{intent}.next"
        for n in a.next:
            if not reachable(answers, flows, n):
                p.problem(where, f"quick reply to {n!r}, which has no answer and no flow with label/ask")
            if n == intent:
                p.problem(where, "an answer should not offer itself")
        if len(set(a.next)) != len(a.next):
            p.problem(where, "the same topic is offered twice")
        if a.informational and not NEXT_MIN <= len(a.next) <= NEXT_MAX:
            p.problem(where, f"{len(a.next)} follow-ups; give {NEXT_MIN} to {NEXT_MAX} related topics")
        if len(a.next) > MAX_QUICK_REPLIES:
            p.problem(where, f"{len(a.next)} quick replies, over LINE's {MAX_QUICK_REPLIES}")
        if a.show == "actions" and not any(x.topic == intent for x in actions.values()):
            p.problem(f"{F}: answers.{intent}.show", f"shows actions, but no action in actions.yaml has topic {intent}")
        if a.show in ("measures", "adaptation") and measures is None:
            p.problem(f"{F}: answers.{intent}.show", f"shows {a.show}, but content/measures.yaml is missing")
    for t in topics:
        if not reachable(answers, flows, t):
            p.problem(f"{F}: topics", f"{t!r} has no answer and no flow with label/ask")
