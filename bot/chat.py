"""`flask chat`: talk to the bot in a terminal, on the same core and database as LINE."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import click
from flask.cli import with_appcontext

from bot.deps import deps_of, run_turn
from bot.turn import Message, Turn


def flex_outline(node: Any) -> Iterator[tuple[str, Any]]:
    """Walk a Flex container: ("text", str) for what it shows, ("action", dict) for its buttons."""
    if isinstance(node, list):
        for child in node:
            yield from flex_outline(child)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "text":
        text = node.get("text") or "".join(s.get("text", "") for s in node.get("contents", []))
        if text:
            yield "text", text
        return
    if kind == "button" and node.get("action"):
        yield "action", node["action"]
        return
    if kind == "box" and node.get("layout") in ("horizontal", "baseline"):
        parts = list(flex_outline(node.get("contents", [])))
        texts = [v for k, v in parts if k == "text"]
        if texts:
            yield "text", " ".join(texts)  # a row reads as one line
        yield from ((k, v) for k, v in parts if k == "action")
        return
    for key in ("header", "hero", "body", "footer", "contents"):
        if key in node:
            yield from flex_outline(node[key])


def render(messages: list[Message], echo: Callable[[str], None], words: Callable[[str], str]) -> list[Message]:
    """Print messages; return the actions the user can pick by number."""
    choices: list[Message] = []
    bot = words("core.chat.bot") + " "

    def offer(action: Message) -> None:
        choices.append(action)
        label = action.get("label") or action.get("text") or action.get("uri", "")
        extra = f" ({action['uri']})" if action.get("type") == "uri" else ""
        echo(f"   [{len(choices)}] {label}{extra}")

    for m in messages:
        if m.get("type") == "text":
            echo(bot + m["text"])
        elif m.get("type") == "flex":
            echo(bot + words("core.chat.card") + " " + m.get("altText", ""))
            for kind, value in flex_outline(m.get("contents")):
                if kind == "text":
                    echo("   │ " + value)
                else:
                    offer(value)
        else:
            echo(f"{bot}[{m.get('type')}]")
        for item in (m.get("quickReply") or {}).get("items", []):
            offer(item["action"])
    return choices


def turn_for_choice(user_id: str, action: Message) -> Turn | None:
    if action.get("type") == "message":
        return Turn(user_id, "text", text=action.get("text", ""))
    if action.get("type") == "postback":
        return Turn(user_id, "postback", data=action.get("data", ""))
    return None  # a link: nothing to send


@click.command("chat")
@click.option("--user", "user_id", default="Uterminal0000000000000000000000001", show_default=True,
              help="The LINE user id the terminal speaks as.")
@with_appcontext
def chat_command(user_id: str) -> None:
    """Talk to the bot in this terminal, no LINE account needed."""
    deps = deps_of()
    words = deps.content.text

    def turn_messages(turn: Turn) -> list[Message]:
        return run_turn(deps, turn) or []

    click.echo(words("core.chat.intro"))
    choices = render(turn_messages(Turn(user_id, "follow")), click.echo, words)
    while True:
        try:
            line = input(words("core.chat.you") + " ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo("")
            return
        if line in ("/quit", "/exit"):
            return
        if not line:
            continue
        turn: Turn | None
        if line.isdigit() and 1 <= int(line) <= len(choices):
            turn = turn_for_choice(user_id, choices[int(line) - 1])
            if turn is None:
                click.echo("   (" + words("core.chat.link") + " " + choices[int(line) - 1].get("uri", "") + ")")
                continue
        else:
            turn = Turn(user_id, "text", text=line)
        choices = render(turn_messages(turn), click.echo, words)
