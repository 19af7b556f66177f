"""Flask CLI commands: db, chat, and the groups of the other modules."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from bot.deps import deps_of

db_cli = AppGroup("db", help="Database migrations.")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations."""
    deps_of().db.upgrade(revision)
    click.echo(f"database at {revision}")


def init_app(app: Flask) -> None:
    """Register every command group."""
    from bot.air.cli import air_cli
    from bot.campaigns.cli import campaign_cli
    from bot.chat import chat_command
    from bot.content.cli import content_cli, richmenu_cli
    from bot.nlu.cli import nlu_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(chat_command)
    app.cli.add_command(campaign_cli)
    app.cli.add_command(nlu_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(richmenu_cli)
    app.cli.add_command(air_cli)
