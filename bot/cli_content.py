"""Flask CLI: `flask content check` and `flask richmenu deploy` (registered by bot/cli.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from bot.content import CONTENT_DIR, check_content, load_content
from bot.richmenu import RichMenuError, deploy_richmenu

content_cli = AppGroup("content", help="Check the bot's content (content/*.yaml).")
richmenu_cli = AppGroup("richmenu", help="The rich menu under the chat.")


def _content_dir() -> Path:
    try:
        return Path(current_app.config.get("CONTENT_DIR") or CONTENT_DIR)
    except RuntimeError:  # outside an app context
        return CONTENT_DIR


@content_cli.command("check")
@click.option("--path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="content folder (default: the app's content/)")
def check(path: Path | None) -> None:
    """Validate all content: exit 1 and print one line per problem, if any."""
    path = path or _content_dir()
    problems = check_content(path)
    for p in problems:
        click.echo(p)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {path}", err=True)
        sys.exit(1)
    click.echo(f"content OK ({path})")


def _line_clients():  # type: ignore[no-untyped-def]
    """(MessagingApi, MessagingApiBlob): the app's LineClient, else one from the environment."""
    line = current_app.extensions.get("line")
    if line is not None:
        return line.api, line.blob_api
    from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob

    base = os.environ.get("LINE_API_BASE_URL", "https://api.line.me").rstrip("/")
    host = None if base == "https://api.line.me" else base
    client = ApiClient(Configuration(host=host, access_token=os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", "")))
    return MessagingApi(client), MessagingApiBlob(client)


@richmenu_cli.command("deploy")
@click.option("--keep-previous", is_flag=True, help="do not delete the menu that was the default before")
def deploy(keep_previous: bool) -> None:
    """Create the rich menu from content/richmenu.yaml, upload its PNG, set it as default."""
    content = current_app.extensions.get("content") or load_content(_content_dir())
    api, blob_api = _line_clients()
    try:
        result = deploy_richmenu(api, blob_api, content, delete_previous=not keep_previous)
    except RichMenuError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    if result.previous_id:
        click.echo(f"previous default {result.previous_id} {'deleted' if result.deleted_previous else 'kept'}")
    click.echo(f"rich menu {result.rich_menu_id} is the default")
