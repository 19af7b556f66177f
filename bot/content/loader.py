"""content/ → Contents: one loader per file, every problem collected, one Content per language."""
from __future__ import annotations

from pathlib import Path

from bot.content.actions import load_actions, load_sectors_factors
from bot.content.air import load_air
from bot.content.answers import check_answer_references, load_answers, reachable
from bot.content.bank import load_bank_sources, load_entries
from bot.content.districts import load_districts
from bot.content.measures import load_measures
from bot.content.model import Content, Contents, FollowUp, Lang
from bot.content.problems import Problems
from bot.content.richmenu import load_richmenu
from bot.content.sources import load_sources

CONTENT_DIR = Path(__file__).resolve().parent.parent.parent / "content"


class ContentError(Exception):
    """content/ has problems; .problems lists them one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("content/ has %d problem(s):\n%s" % (len(problems), "\n".join(problems)))


def load_one(path: Path, lang: Lang) -> tuple[Content, Problems]:
    """One language's view of content/, and the problems found reading it."""
    from bot.content.texts import load_texts

    p = Problems(path, lang)
    texts = load_texts(p)
    p.sources = load_sources(p)
    raw_actions = p.read_yaml("actions.yaml")
    sectors, factors = load_sectors_factors(p, raw_actions)
    measures = load_measures(p, sectors)
    answers, flows, topics = load_answers(p)
    actions = load_actions(p, raw_actions, sectors, factors, set(answers), measures,
                           texts.get("cards.per_year_unit", "kgCO2e/yr"))
    check_answer_references(p, answers, flows, topics, actions, measures)
    districts = load_districts(p)
    p.sources = {**p.sources, **load_bank_sources(p)}
    entry_topics = {i for i, a in answers.items() if a.informational} | {"out_of_scope"}
    entries = load_entries(p, entry_topics, set(actions))
    for intent, answer in answers.items():
        for kind, target in answer.follow.items():
            if kind not in {k.value for k in FollowUp} or target not in entries:
                p.problem(f"content/answers.yaml: answers.{intent}.follow.{kind}",
                          f"{target!r} is not an entry of the bank (or {kind!r} not a follow-up: {', '.join(FollowUp)})")
    air = load_air(p)

    def ask_of(intent: str) -> str | None:
        if not reachable(answers, flows, intent):
            return None
        return answers[intent].ask if intent in answers else (flows[intent].ask or "")

    # The rich menu is one image, in Thai: what its areas send is the Thai ask.
    richmenu = load_richmenu(p, ask_of) if lang == Lang.TH else None
    content = Content(path=path, lang=lang, texts=texts, sources=p.sources, answers=answers, flows=flows,
                      topics=topics, sectors=sectors, factors=factors, actions=actions, measures=measures,
                      districts=districts, richmenu=richmenu, entries=entries, air=air)
    return content, p


def read_contents(path: Path | None = None, strict: bool = False) -> tuple[Contents | None, list[str]]:
    """Both languages and every problem (with strict, also those only `content check` reports)."""
    path = Path(path) if path is not None else CONTENT_DIR
    if not path.is_dir():
        return None, [f"{path}: content folder not found"]
    problems: list[str] = []
    views = {}
    for lang in Lang:
        try:
            content, p = load_one(path, lang)
        except Exception as e:  # a shape the loaders did not expect: still one line, not a traceback
            return None, problems + [f"{path}: could not be read: {type(e).__name__}: {e}"]
        # The Thai reading reports the shared problems; English adds only its own.
        found = p.problems + (p.check_only if strict else [])
        problems += [x for x in found if x not in problems]
        views[lang] = content
    th, en = views[Lang.TH], views[Lang.EN]
    en.richmenu = th.richmenu
    return Contents(th=th, en=en), problems


def load_contents(path: Path | None = None) -> Contents:
    """Content from `path` (default: the repo's content/) in every language; raises ContentError
    listing every problem that would make the bot say something wrong."""
    contents, problems = read_contents(path)
    if problems or contents is None:
        raise ContentError(problems)
    return contents


def load_content(path: Path | None = None) -> Content:
    """The Thai view (what the office's tools and most tests read)."""
    return load_contents(path).th
