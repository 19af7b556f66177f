"""Answers and cards as LINE message dicts (text, Flex bubbles and carousels, quick replies).

Every dict here is exactly what LINE's JSON API wants; bot/line.py turns them into SDK
models. The words come from content/ (answers, actions, texts/cards.yaml); this module only
lays them out, within LINE's limits; bot/validate.py proves that every message the bot can
send is valid (used by `flask content check` and the tests).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bot.content.model import Action, Adaptation, Answer, Content, Measures, Source
from bot.fmt import fmt_number, shorten
from bot.limits import MAX_ACTION_TEXT, MAX_ALT_TEXT, MAX_CAROUSEL, MAX_MESSAGES, MAX_POSTBACK_DATA, MAX_QUICK_REPLIES

Message = dict[str, Any]  # one LINE message object, exactly as LINE's JSON API wants it
QuickReply = dict[str, Any]

# Postbacks the action cards send. "action.estimate" opens an action's arithmetic
# (estimate_messages); "pledge.pick" is the pledge flow's (bot/pledges.py), with param id=<action id>.
ESTIMATE_POSTBACK = "action.estimate"
PLEDGE_PICK = "pledge.pick"

GREEN = "#2E7D32"
DARK_GREEN = "#1B5E20"
GREY = "#666666"
LINK = "#1565C0"


# -- basic builders -------------------------------------
def text(body: str, quick: list[QuickReply] | None = None) -> Message:
    """A text message, with quick replies when given."""
    m: dict[str, Any] = {"type": "text", "text": body}
    if quick:
        m["quickReply"] = {"items": list(quick)[:MAX_QUICK_REPLIES]}
    return m


def qr_text(label: str, text: str) -> Message:
    """A quick-reply item that sends `text` as if the resident typed it."""
    return {"type": "action", "action": {"type": "message", "label": shorten(label), "text": text[:MAX_ACTION_TEXT]}}


def qr_postback(label: str, data: str, display_text: str | None = None) -> Message:
    """A quick-reply item that sends postback `data` (and shows `display_text` in the chat)."""
    action: dict[str, Any] = {"type": "postback", "label": shorten(label), "data": data}
    if display_text:
        action["displayText"] = display_text[:MAX_ACTION_TEXT]
    return {"type": "action", "action": action}


def postback_data(action: str, **params: Any) -> str:
    """"a=<action>&k=v" (urlencoded); raises ValueError over LINE's 300 characters."""
    data = urlencode([("a", action), *((k, str(v)) for k, v in params.items())])
    if len(data) > MAX_POSTBACK_DATA:
        raise ValueError(f"postback data is {len(data)} characters, over LINE's {MAX_POSTBACK_DATA}")
    return data


def parse_postback(data: str) -> tuple[str, dict[str, str]]:
    """(action, params) from postback_data's format; ("", {}) for anything else."""
    try:
        pairs = parse_qsl(data or "", keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return "", {}
    params = dict(pairs)
    action = params.pop("a", "")
    return action, params


def flex(alt_text: str, contents: dict[str, Any], quick: list[QuickReply] | None = None) -> Message:
    """A Flex message: `contents` is a bubble or carousel; alt_text is what notifications show."""
    alt = (alt_text or "").strip() or "-"
    if len(alt) > MAX_ALT_TEXT:
        alt = alt[: MAX_ALT_TEXT - 1] + "…"
    m: dict[str, Any] = {"type": "flex", "altText": alt, "contents": contents}
    if quick:
        m["quickReply"] = {"items": list(quick)[:MAX_QUICK_REPLIES]}
    return m


# -- quick replies to topics ------------------------------------------------------------------
def intent_quick_reply(content: Content, intent: str) -> QuickReply | None:
    """A quick reply whose message the language matcher maps to `intent`, or None if it has none."""
    label, ask = content.label_of(intent), content.ask_of(intent)
    if not label or not ask:
        return None
    return qr_text(label, ask)


def topic_quick_replies(content: Content) -> list[Message]:
    """The main topics (answers.yaml `topics`), as quick replies."""
    items = [intent_quick_reply(content, t) for t in content.topics]
    return [q for q in items if q][:MAX_QUICK_REPLIES]


def next_quick_replies(content: Content, answer: Answer) -> list[Message]:
    items = [intent_quick_reply(content, n) for n in answer.next]
    return [q for q in items if q][:MAX_QUICK_REPLIES]


# -- Flex pieces -------------------------------------------------------------------------------
def _text(body: str, **style: Any) -> Message:
    return {"type": "text", "text": body, "wrap": True, **style}


def _point(body: str) -> Message:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": "•", "flex": 0, "size": "sm", "color": GREEN},
        _text(body, size="sm", flex=1),
    ]}


def _unique(sources: Iterable[Source]) -> list[Source]:
    seen: set[tuple[str, str]] = set()
    out = []
    for s in sources:
        if s.url and (s.id, s.url) not in seen:
            seen.add((s.id, s.url))
            out.append(s)
    return out


def source_footer(sources: Iterable[Source], content: Content) -> Message:
    """A "ที่มา" block: each source's title, tappable, opening its link."""
    rows: list[Message] = [_text(content.text("cards.sources_heading"), size="xs", color=GREY, weight="bold")]
    for s in _unique(sources):
        rows.append(_text(s.title, size="xxs", color=LINK,
                          action={"type": "uri", "label": shorten(s.label), "uri": s.url}))
    return {"type": "box", "layout": "vertical", "spacing": "xs", "margin": "lg", "contents": rows}


def _bubble(title: str, rows: list[Message], sources: Iterable[Source], content: Content, links: Iterable[Source] = (),
            footer_buttons: list[QuickReply] | None = None) -> Message:
    body: list[Message] = [_text(title, weight="bold", size="lg", color=DARK_GREEN)]
    if rows:
        body.append({"type": "box", "layout": "vertical", "spacing": "sm", "margin": "md", "contents": rows})
    srcs = _unique(sources)
    if srcs:
        body.append({"type": "separator", "margin": "lg"})
        body.append(source_footer(srcs, content))
    bubble: dict[str, Any] = {"type": "bubble",
                              "body": {"type": "box", "layout": "vertical", "contents": body}}
    buttons = list(footer_buttons or [])
    for s in links:
        buttons.append({"type": "button", "style": "primary", "height": "sm", "color": GREEN,
                        "action": {"type": "uri", "label": shorten(s.label), "uri": s.url}})
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return bubble


def answer_card(answer: Answer, content: Content) -> Message:
    """The bubble with an answer's details, its service links and its sources."""
    card = answer.card
    assert card is not None, f"{answer.intent} has no card"
    return _bubble(card.title, [_point(p) for p in card.points], answer.sources, content, links=card.links)


# -- actions -----------------------------------------------------------------------------------
def estimate_line(action: Action, content: Content) -> str:
    if action.kg_co2e_year is None:
        return content.text("cards.no_estimate_line")
    return content.text("cards.estimate_line", kg=fmt_number(round(action.kg_co2e_year)))


def estimate_button(action: Action, content: Content) -> Message:
    label = content.text("cards.estimate_button")
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": shorten(label),
                       "data": postback_data(ESTIMATE_POSTBACK, id=action.id),
                       "displayText": f"{label}: {action.title}"[:MAX_ACTION_TEXT]}}


def pledge_button(action: Action, content: Content, postback_action: str = PLEDGE_PICK) -> Message:
    label = content.text("cards.pledge_button")
    return {"type": "button", "style": "primary", "height": "sm", "color": GREEN,
            "action": {"type": "postback", "label": shorten(label),
                       "data": postback_data(postback_action, id=action.id),
                       "displayText": f"{label}: {action.title}"[:MAX_ACTION_TEXT]}}


def action_bubble(action: Action, content: Content, buttons: list[Message]) -> Message:
    """An action as a bubble: title, how to, sector, yearly estimate; `buttons` go in the footer."""
    has_number = action.kg_co2e_year is not None
    body = [
        _text(action.title, weight="bold", size="md", color=DARK_GREEN),
        _text(action.howto, size="sm", color="#333333", margin="sm"),
        _text(content.text("cards.sector_line", sector=content.sectors.get(action.sector, action.sector)),
              size="xxs", color=GREY, margin="md"),
        _text(estimate_line(action, content), size="sm", weight="bold" if has_number else "regular",
              color=GREEN if has_number else GREY, margin="sm"),
    ]
    if has_number:  # a figure is never shown without where it comes from
        body.append(_text(content.text("cards.estimate_source", title=action.source_title),
                          size="xxs", color=GREY, margin="xs"))
    bubble: dict[str, Any] = {"type": "bubble", "size": "kilo",
                              "body": {"type": "box", "layout": "vertical", "contents": body}}
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": list(buttons)}
    return bubble


def action_card(action: Action, content: Content) -> Message:
    """An action bubble whose button opens its arithmetic."""
    return action_bubble(action, content, [estimate_button(action, content)])


def action_carousel(actions: Iterable[Action], content: Content, postback_action: str = PLEDGE_PICK) -> Message:
    """Up to 12 actions as a carousel; each offers `postback_action` (id=<action id>) and its arithmetic."""
    bubbles = [action_bubble(a, content, [pledge_button(a, content, postback_action), estimate_button(a, content)])
               for a in list(actions)[:MAX_CAROUSEL]]
    return {"type": "carousel", "contents": bubbles}


def actions_alt(actions: Iterable[Action], content: Content) -> str:
    return content.text("cards.actions_alt", titles=", ".join(a.title for a in actions))


def estimate_messages(content: Content, action_id: str) -> list[Message]:
    """How an action's number was worked out (formula, assumptions, source), or why there is none."""
    action = content.actions.get(action_id)
    if action is None:
        return []
    bullet = "\n".join(content.text("cards.assumption_bullet", text=a) for a in action.assumptions)
    if action.kg_co2e_year is None:
        body = content.text("cards.no_estimate_text", title=action.title, reason=action.no_estimate,
                            source_title=action.source_title, source_url=action.source_url)
    else:
        body = content.text("cards.estimate_text", title=action.title, formula=action.formula_text,
                            assumptions=bullet, source_title=action.source_title, source_url=action.source_url)
    quick = [q for q in (intent_quick_reply(content, action.topic), intent_quick_reply(content, "pledge_start"))
             if q]
    return [text(body, quick=quick)]


# -- data cards (measures, adaptation, factors) --------------------------------------------------
def measures_card(content: Content, m: Measures, answer_sources: Iterable[Source] = ()) -> Message:
    """The 30 measures: what is known, and the listed measures by sector once the office adds them."""
    intro = [_point(k) for k in m.known]
    n = len(m.items)
    if n == 0:
        intro.append(_text(m.missing_note, size="sm", color="#BF360C", margin="md"))
        return _bubble(m.card_title, intro, [m.source, *answer_sources], content)
    intro.append(_text(content.text("cards.measures_shown", n=n, total=m.total), size="sm", weight="bold",
                       margin="md"))
    if n < m.total:
        intro.append(_text(content.text("cards.measures_more_note"), size="xs", color=GREY))
    bubbles = [_bubble(m.card_title, intro, [m.source, *answer_sources], content)]
    for sector, items in m.by_sector().items():
        rows = []
        for it in items:
            rows.append(_text(it.title, size="sm", weight="bold", margin="md"))
            if it.description:
                rows.append(_text(it.description, size="xs", color=GREY))
        bubbles.append(_bubble(content.sectors.get(sector, sector), rows, [it.source for it in items], content))
    return {"type": "carousel", "contents": bubbles[:MAX_CAROUSEL]}


def adaptation_card(content: Content, ad: Adaptation, answer_sources: Iterable[Source] = ()) -> Message:
    """The 6 adaptation sectors: the province's once listed, else the national plan's, marked as such."""
    if ad.sectors:
        rows = []
        for s in ad.sectors:
            rows.append(_text(s.title, size="sm", weight="bold", margin="md"))
            if s.description:
                rows.append(_text(s.description, size="xs", color=GREY))
        return _bubble(ad.card_title, rows, [ad.source, *(s.source for s in ad.sectors), *answer_sources], content)
    rows = [_text(ad.missing_note, size="sm", color="#BF360C"),
            _text(ad.national_title, size="sm", weight="bold", margin="lg")]
    rows += [_point(s) for s in ad.national_sectors]
    return _bubble(ad.card_title, rows, [ad.source, ad.national_source, *answer_sources], content)


def factors_card(content: Content, answer_sources: Iterable[Source] = ()) -> Message:
    """The emission factors the bot's numbers use, each with its source."""
    rows = [_point(content.text("cards.factor_line", title=f.title, value=fmt_number(f.value), unit=f.unit))
            for f in content.factors.values()]
    return _bubble(content.text("cards.factors_title"), rows,
                   [*answer_sources, *(f.source for f in content.factors.values())], content)


# -- answers -----------------------------------------------------------------------------------
def _with_source_lines(body: str, sources: Iterable[Source], content: Content) -> str:
    lines = [content.text("cards.source_line", title=s.title, url=s.url) for s in _unique(sources)]
    return "\n\n".join([body, *lines]) if lines else body


def answer_messages(content: Content, intent: str) -> list[Message]:
    """The intent's answer: a short text, then its card(s), sources visible, follow-ups as quick replies."""
    answer = content.answers[intent]
    quick = next_quick_replies(content, answer)
    cards: list[Message] = []
    sources_shown = False
    if answer.card is not None:
        cards.append(flex(answer.card.title, answer_card(answer, content)))
        sources_shown = True
    if answer.show == "measures" and content.measures is not None:
        c = measures_card(content, content.measures, () if sources_shown else answer.sources)
        cards.append(flex(content.measures.card_title, c))
        sources_shown = True
    elif answer.show == "adaptation" and content.measures is not None:
        c = adaptation_card(content, content.measures.adaptation, () if sources_shown else answer.sources)
        cards.append(flex(content.measures.adaptation.card_title, c))
        sources_shown = True
    elif answer.show == "factors":
        c = factors_card(content, () if sources_shown else answer.sources)
        cards.append(flex(content.text("cards.factors_title"), c))
        sources_shown = True
    elif answer.show == "actions":
        acts = content.actions_for(intent)
        if acts:
            cards.append(flex(actions_alt(acts, content), action_carousel(acts, content, PLEDGE_PICK)))
    body = answer.text if sources_shown else _with_source_lines(answer.text, answer.sources, content)
    out = [text(body), *cards][:MAX_MESSAGES]
    if quick:
        out[-1] = {**out[-1], "quickReply": {"items": quick}}
    return out


