"""`flask content check` and `flask richmenu deploy` (registered by bot/cli.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from bot.content.check import check_content
from bot.content.loader import CONTENT_DIR
from bot.deps import deps_of
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


@richmenu_cli.command("deploy")
@click.option("--keep-previous", is_flag=True, help="do not delete the menu that was the default before")
def deploy(keep_previous: bool) -> None:
    """Create the rich menu from content/richmenu.yaml, upload its PNG, set it as default."""
    deps = deps_of()
    try:
        result = deploy_richmenu(deps.line.api, deps.line.blob_api, deps.content, delete_previous=not keep_previous)
    except RichMenuError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    if result.previous_id:
        click.echo(f"previous default {result.previous_id} {'deleted' if result.deleted_previous else 'kept'}")
    click.echo(f"rich menu {result.rich_menu_id} is the default")
