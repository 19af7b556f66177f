"""The Chiang Mai Low Carbon City LINE bot."""
from __future__ import annotations

import os

# PyThaiNLP must never download at run time; these must be set before it is imported.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, content, language matcher, LINE client, flows, routes, CLI."""
    from bot import cli, console, webhook
    from bot.botinfo import BasicId
    from bot.config import Config, database_url_for
    from bot.content import load_contents
    from bot.deps import Deps
    from bot.flows import build_registry
    from bot.line import LineClient
    from bot.nlu import Matcher
    from bot.store.db import Database

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config())
    if config:
        app.config.update(config)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    url = database_url_for(app.instance_path, app.config["DATABASE_URL"])
    database = Database(url)
    if app.config["AUTO_MIGRATE"] and url.startswith("sqlite"):
        database.upgrade()

    content_dir = Path(app.config.get("CONTENT_DIR") or CONTENT_DIR)
    # Tests hand in an already built content and matcher (building them takes a second or two).
    contents = app.config.get("CONTENTS") or load_contents(content_dir)
    matcher = app.config.get("MATCHER")
    if matcher is None:
        matcher = Matcher.from_content(content_dir, cache_dir=Path(app.instance_path) / "nlu-cache")
        matcher.warm()  # in the main thread, before gunicorn forks or threads start
    line = LineClient(app.config["LINE_API_BASE_URL"], app.config["LINE_CHANNEL_ACCESS_TOKEN"],
                      connect_timeout=app.config["LINE_CONNECT_TIMEOUT"], read_timeout=app.config["LINE_READ_TIMEOUT"])
    app.extensions["deps"] = Deps(db=database, contents=contents, matcher=matcher, line=line,
                                  registry=build_registry(), config=app.config,
                                  basic_id=BasicId(app.config.get("LINE_BOT_BASIC_ID") or "", line))
    if not app.config["LINE_CHANNEL_SECRET"] or not app.config["LINE_CHANNEL_ACCESS_TOKEN"]:
        log.warning("LINE credentials are not set: the webhook refuses requests. "
                    "Chat in the terminal with: flask --app wsgi chat")

    webhook.init_app(app)
    cli.init_app(app)
    console.init_app(app)
    database.engine.dispose()  # nothing opened at start-up is handed to gunicorn's workers
    return app
