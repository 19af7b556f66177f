"""Answers and cards as LINE message dicts (text, Flex bubbles and carousels, quick replies).

Every dict here is exactly what LINE's JSON API wants; bot/line.py turns them into SDK
models. The words come from content/ (answers, actions, texts/cards.yaml); this module only
lays them out, within LINE's limits, and `check_rendering` proves that every message the bot
can send is valid (used by `flask content check` and the tests).
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from linebot.v3.messaging import FlexContainer, Message

# LINE's limits (Messaging API reference).
MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_ACTION_TEXT = 300
MAX_POSTBACK_DATA = 300
MAX_URI = 1000
MAX_CAROUSEL = 12
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000

# Postbacks the action cards send. "action.estimate" opens an action's arithmetic
# (estimate_messages); "pledge.pick" is the pledge flow's (bot/pledges.py), with param id=<action id>.
ESTIMATE_POSTBACK = "action.estimate"
PLEDGE_PICK = "pledge.pick"

GREEN = "#2E7D32"
DARK_GREEN = "#1B5E20"
GREY = "#666666"
LINK = "#1565C0"


# -- basic builders (signatures fixed by INTERFACES.md) -------------------------------------
def text(body: str, quick: list[dict] | None = None) -> dict:
    """A text message, with quick replies when given."""
    m: dict[str, Any] = {"type": "text", "text": body}
    if quick:
        m["quickReply"] = {"items": list(quick)[:MAX_QUICK_REPLIES]}
    return m


def _label(s: str) -> str:
    return s if len(s) <= MAX_LABEL else s[: MAX_LABEL - 1] + "…"


def qr_text(label: str, text: str) -> dict:
    """A quick-reply item that sends `text` as if the resident typed it."""
    return {"type": "action", "action": {"type": "message", "label": _label(label), "text": text[:MAX_ACTION_TEXT]}}


def qr_postback(label: str, data: str, display_text: str | None = None) -> dict:
    """A quick-reply item that sends postback `data` (and shows `display_text` in the chat)."""
    action: dict[str, Any] = {"type": "postback", "label": _label(label), "data": data}
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


def flex(alt_text: str, contents: dict, quick: list[dict] | None = None) -> dict:
    """A Flex message: `contents` is a bubble or carousel; alt_text is what notifications show."""
    alt = (alt_text or "").strip() or "-"
    if len(alt) > MAX_ALT_TEXT:
        alt = alt[: MAX_ALT_TEXT - 1] + "…"
    m: dict[str, Any] = {"type": "flex", "altText": alt, "contents": contents}
    if quick:
        m["quickReply"] = {"items": list(quick)[:MAX_QUICK_REPLIES]}
    return m


# -- quick replies to topics ------------------------------------------------------------------
def intent_quick_reply(content: Any, intent: str) -> dict | None:
    """A quick reply whose message the language matcher maps to `intent`, or None if it has none."""
    label, ask = content.label_of(intent), content.ask_of(intent)
    if not label or not ask:
        return None
    return qr_text(label, ask)


def topic_quick_replies(content: Any) -> list[dict]:
    """The main topics (answers.yaml `topics`), as quick replies."""
    items = [intent_quick_reply(content, t) for t in content.topics]
    return [q for q in items if q][:MAX_QUICK_REPLIES]


def next_quick_replies(content: Any, answer: Any) -> list[dict]:
    items = [intent_quick_reply(content, n) for n in answer.next]
    return [q for q in items if q][:MAX_QUICK_REPLIES]


# -- Flex pieces -------------------------------------------------------------------------------
def _text(body: str, **style: Any) -> dict:
    return {"type": "text", "text": body, "wrap": True, **style}


def _point(body: str) -> dict:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": "•", "flex": 0, "size": "sm", "color": GREEN},
        _text(body, size="sm", flex=1),
    ]}


def _unique(sources: Any) -> list[Any]:
    seen: set[str] = set()
    out = []
    for s in sources:
        if s.url and (s.id, s.url) not in seen:
            seen.add((s.id, s.url))
            out.append(s)
    return out


def source_footer(sources: Any, content: Any) -> dict:
    """A "ที่มา" block: each source's title, tappable, opening its link."""
    rows: list[dict] = [_text(content.text("cards.sources_heading"), size="xs", color=GREY, weight="bold")]
    for s in _unique(sources):
        rows.append(_text(s.title, size="xxs", color=LINK,
                          action={"type": "uri", "label": _label(s.label), "uri": s.url}))
    return {"type": "box", "layout": "vertical", "spacing": "xs", "margin": "lg", "contents": rows}


def _bubble(title: str, rows: list[dict], sources: Any, content: Any, links: Any = (),
            footer_buttons: list[dict] | None = None) -> dict:
    body: list[dict] = [_text(title, weight="bold", size="lg", color=DARK_GREEN)]
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
                        "action": {"type": "uri", "label": _label(s.label), "uri": s.url}})
    if buttons:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons}
    return bubble


def answer_card(answer: Any, content: Any) -> dict:
    """The bubble with an answer's details, its service links and its sources."""
    card = answer.card
    return _bubble(card.title, [_point(p) for p in card.points], answer.sources, content, links=card.links)


# -- actions -----------------------------------------------------------------------------------
def estimate_line(action: Any, content: Any) -> str:
    if action.kg_co2e_year is None:
        return content.text("cards.no_estimate_line")
    from bot.content import fmt_number

    return content.text("cards.estimate_line", kg=fmt_number(round(action.kg_co2e_year)))


def estimate_button(action: Any, content: Any) -> dict:
    label = content.text("cards.estimate_button")
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "postback", "label": _label(label),
                       "data": postback_data(ESTIMATE_POSTBACK, id=action.id),
                       "displayText": f"{label}: {action.title}"[:MAX_ACTION_TEXT]}}


def pledge_button(action: Any, content: Any, postback_action: str = PLEDGE_PICK) -> dict:
    label = content.text("cards.pledge_button")
    return {"type": "button", "style": "primary", "height": "sm", "color": GREEN,
            "action": {"type": "postback", "label": _label(label),
                       "data": postback_data(postback_action, id=action.id),
                       "displayText": f"{label}: {action.title}"[:MAX_ACTION_TEXT]}}


def action_bubble(action: Any, content: Any, buttons: list[dict]) -> dict:
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


def action_card(action: Any, content: Any) -> dict:
    """An action bubble whose button opens its arithmetic."""
    return action_bubble(action, content, [estimate_button(action, content)])


def action_carousel(actions: Any, content: Any, postback_action: str = PLEDGE_PICK) -> dict:
    """Up to 12 actions as a carousel; each offers `postback_action` (id=<action id>) and its arithmetic."""
    bubbles = [action_bubble(a, content, [pledge_button(a, content, postback_action), estimate_button(a, content)])
               for a in list(actions)[:MAX_CAROUSEL]]
    return {"type": "carousel", "contents": bubbles}


def actions_alt(actions: Any, content: Any) -> str:
    return content.text("cards.actions_alt", titles=", ".join(a.title for a in actions))


def estimate_messages(content: Any, action_id: str) -> list[dict]:
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
def measures_card(content: Any, answer_sources: Any = ()) -> dict:
    """The 30 measures: what is known, and the listed measures by sector once the office adds them."""
    m = content.measures
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


def adaptation_card(content: Any, answer_sources: Any = ()) -> dict:
    """The 6 adaptation sectors: the province's once listed, else the national plan's, marked as such."""
    ad = content.measures.adaptation
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


def factors_card(content: Any, answer_sources: Any = ()) -> dict:
    """The emission factors the bot's numbers use, each with its source."""
    from bot.content import fmt_number

    rows = [_point(content.text("cards.factor_line", title=f.title, value=fmt_number(f.value), unit=f.unit))
            for f in content.factors.values()]
    return _bubble(content.text("cards.factors_title"), rows,
                   [*answer_sources, *(f.source for f in content.factors.values())], content)


# -- answers -----------------------------------------------------------------------------------
def _with_source_lines(body: str, sources: Any, content: Any) -> str:
    lines = [content.text("cards.source_line", title=s.title, url=s.url) for s in _unique(sources)]
    return "\n\n".join([body, *lines]) if lines else body


def answer_messages(content: Any, intent: str) -> list[dict]:
    """The intent's answer: a short text, then its card(s), sources visible, follow-ups as quick replies."""
    answer = content.answers[intent]
    quick = next_quick_replies(content, answer)
    cards: list[dict] = []
    sources_shown = False
    if answer.card is not None:
        cards.append(flex(answer.card.title, answer_card(answer, content)))
        sources_shown = True
    if answer.show == "measures" and content.measures is not None:
        c = measures_card(content, () if sources_shown else answer.sources)
        cards.append(flex(content.measures.card_title, c))
        sources_shown = True
    elif answer.show == "adaptation" and content.measures is not None:
        c = adaptation_card(content, () if sources_shown else answer.sources)
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


# -- validation --------------------------------------------------------------------------------
def _check_action(where: str, a: Any, *, label_required: bool) -> list[str]:
    p: list[str] = []
    if not isinstance(a, dict):
        return [f"{where}: action must be an object"]
    t = a.get("type")
    label = a.get("label")
    if label_required and not label:
        p.append(f"{where}: action needs a label")
    if label and len(label) > MAX_LABEL:
        p.append(f"{where}: label {label!r} is {len(label)} characters, over {MAX_LABEL}")
    if t == "uri":
        uri = a.get("uri") or ""
        if not uri.startswith(("https://", "http://", "line://", "tel:")):
            p.append(f"{where}: uri action needs an http(s) uri, got {uri!r}")
        if len(uri) > MAX_URI:
            p.append(f"{where}: uri over {MAX_URI} characters")
    elif t == "message":
        body = a.get("text") or ""
        if not body.strip():
            p.append(f"{where}: message action needs text")
        if len(body) > MAX_ACTION_TEXT:
            p.append(f"{where}: message text over {MAX_ACTION_TEXT} characters")
    elif t == "postback":
        data = a.get("data") or ""
        if not data:
            p.append(f"{where}: postback action needs data")
        if len(data) > MAX_POSTBACK_DATA:
            p.append(f"{where}: postback data over {MAX_POSTBACK_DATA} characters")
        if len(a.get("displayText") or "") > MAX_ACTION_TEXT:
            p.append(f"{where}: displayText over {MAX_ACTION_TEXT} characters")
    else:
        p.append(f"{where}: unsupported action type {t!r}")
    return p


def _check_component(where: str, c: Any) -> list[str]:
    """Required fields the SDK's models leave optional."""
    if not isinstance(c, dict):
        return [f"{where}: component must be an object"]
    t = c.get("type")
    p: list[str] = []
    if t == "box":
        if c.get("layout") not in ("vertical", "horizontal", "baseline"):
            p.append(f"{where}: box needs layout vertical|horizontal|baseline")
        kids = c.get("contents")
        if not isinstance(kids, list):
            p.append(f"{where}: box needs contents (a list)")
            kids = []
        for i, k in enumerate(kids):
            p += _check_component(f"{where}.contents[{i}]", k)
    elif t == "text":
        if not (isinstance(c.get("text"), str) and c["text"].strip()) and not c.get("contents"):
            p.append(f"{where}: text component needs non-empty text")
    elif t == "button":
        if "action" not in c:
            p.append(f"{where}: button needs an action")
    elif t == "image":
        if not str(c.get("url", "")).startswith("https://"):
            p.append(f"{where}: image needs an https url")
    if "action" in c:
        p += _check_action(f"{where}.action", c["action"], label_required=(t == "button"))
    return p


def _check_bubble(where: str, b: Any) -> list[str]:
    if not isinstance(b, dict) or b.get("type") != "bubble":
        return [f"{where}: must be a bubble"]
    p: list[str] = []
    if not any(k in b for k in ("header", "hero", "body", "footer")):
        p.append(f"{where}: empty bubble")
    for part in ("header", "hero", "body", "footer"):
        if part in b:
            p += _check_component(f"{where}.{part}", b[part])
    return p


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x


def validate_flex_container(contents: Any, where: str = "flex") -> list[str]:
    """Problems with a Flex container: SDK model, fields it would drop, required fields, size."""
    try:
        model = FlexContainer.from_dict(contents)
    except Exception as e:  # pydantic or discriminator errors: any means LINE would refuse it
        return [f"{where}: not a valid Flex container: {' '.join(str(e).split())}"]
    p: list[str] = []
    if model is None:
        return [f"{where}: not a valid Flex container"]
    if _drop_none(model.to_dict()) != contents:
        p.append(f"{where}: has fields the SDK does not know (they would be dropped)")
    size = len(json.dumps(contents, ensure_ascii=False).encode("utf-8"))
    if contents.get("type") == "carousel":
        bubbles = contents.get("contents") or []
        if not 1 <= len(bubbles) <= MAX_CAROUSEL:
            p.append(f"{where}: carousel has {len(bubbles)} bubbles (1 to {MAX_CAROUSEL})")
        for i, b in enumerate(bubbles):
            p += _check_bubble(f"{where}.contents[{i}]", b)
        if size > MAX_CAROUSEL_BYTES:
            p.append(f"{where}: carousel is {size} bytes, over {MAX_CAROUSEL_BYTES}")
    else:
        p += _check_bubble(where, contents)
        if size > MAX_BUBBLE_BYTES:
            p.append(f"{where}: bubble is {size} bytes, over {MAX_BUBBLE_BYTES}")
    return p


def validate_messages(messages: list[dict], where: str = "messages") -> list[str]:
    """Problems that would make LINE refuse (or the SDK mangle) a list of message dicts."""
    p: list[str] = []
    if not messages:
        p.append(f"{where}: no messages")
    if len(messages) > MAX_MESSAGES:
        p.append(f"{where}: {len(messages)} messages, over LINE's {MAX_MESSAGES} per request")
    for i, m in enumerate(messages):
        w = f"{where}[{i}]"
        try:
            Message.from_dict(m)
        except Exception as e:
            p.append(f"{w}: not a valid LINE message: {' '.join(str(e).split())}")
            continue
        if m.get("type") == "text":
            body = m.get("text") or ""
            if not body.strip():
                p.append(f"{w}: empty text")
            if len(body) > MAX_TEXT:
                p.append(f"{w}: text is {len(body)} characters, over LINE's {MAX_TEXT}")
        elif m.get("type") == "flex":
            alt = m.get("altText") or ""
            if not alt.strip() or len(alt) > MAX_ALT_TEXT:
                p.append(f"{w}: altText must be 1 to {MAX_ALT_TEXT} characters")
            p += validate_flex_container(m.get("contents"), f"{w}.contents")
        items = (m.get("quickReply") or {}).get("items")
        if items is not None:
            if not 1 <= len(items) <= MAX_QUICK_REPLIES:
                p.append(f"{w}: {len(items)} quick replies (1 to {MAX_QUICK_REPLIES})")
            for j, it in enumerate(items):
                p += _check_action(f"{w}.quickReply[{j}]", (it or {}).get("action"), label_required=True)
    return p


def check_rendering(content: Any) -> list[str]:
    """Render everything the bot can say from content/ and report what LINE would refuse."""
    p: list[str] = []
    for intent in content.answers:
        try:
            msgs = answer_messages(content, intent)
        except Exception as e:
            p.append(f"answer {intent}: cannot be rendered: {type(e).__name__}: {e}")
            continue
        p += validate_messages(msgs, f"answer {intent}")
    for aid, action in content.actions.items():
        try:
            p += validate_messages([flex(action.title, action_card(action, content))], f"action {aid} card")
            p += validate_messages(estimate_messages(content, aid), f"action {aid} estimate")
        except Exception as e:
            p.append(f"action {aid}: cannot be rendered: {type(e).__name__}: {e}")
    topics = topic_quick_replies(content)
    if topics:
        p += validate_messages([text("-", quick=topics)], "topic quick replies")
    return p


# -- the one postback these cards own ---------------------------------------------------------
# Registered here so every "ดูวิธีคิดตัวเลข" button works wherever a card is shown (tips answers,
# the pledge flow); the registry imports nothing, so there is no cycle.
from bot.registry import on_postback  # noqa: E402


@on_postback(ESTIMATE_POSTBACK)
def show_estimate(turn: Any, ctx: Any, params: dict[str, str]) -> list[dict]:
    """Show how an action's yearly estimate was worked out, with its assumptions and source."""
    out = estimate_messages(ctx.content, params.get("id", ""))
    return out or [text(ctx.content.text("core.postback_unknown"), quick=topic_quick_replies(ctx.content))]
