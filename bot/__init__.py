"""The Chiang Mai Low Carbon City LINE bot."""
from __future__ import annotations

import os

# PyThaiNLP must never download at run time; these must be set before it is imported.
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")

import logging  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Mapping  # noqa: E402

from flask import Flask  # noqa: E402

log = logging.getLogger(__name__)

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, content, language matcher, LINE client, routes, CLI."""
    from linebot.v3 import WebhookParser

    from bot import cli, webhook
    from bot.config import Config, database_url_for
    from bot.content import load_content
    from bot.line import LineClient
    from bot.nlu import Matcher
    from bot.store import db as store

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config())
    if config:
        app.config.update(config)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    url = database_url_for(app.instance_path, app.config["DATABASE_URL"])
    database = store.init_app(app, url)
    if app.config["AUTO_MIGRATE"] and url.startswith("sqlite"):
        database.upgrade()

    content_dir = Path(app.config.get("CONTENT_DIR") or CONTENT_DIR)
    # Tests hand in an already built content and matcher (an injectable environment).
    app.extensions["content"] = app.config.get("CONTENT") or load_content(content_dir)
    matcher = app.config.get("MATCHER")
    if matcher is None:
        matcher = Matcher.from_content(content_dir)
        matcher.warm()  # in the main thread, before gunicorn forks or threads start
    app.extensions["matcher"] = matcher
    app.extensions["clock"] = lambda: datetime.now(timezone.utc)
    app.extensions["line"] = LineClient(
        app.config["LINE_API_BASE_URL"], app.config["LINE_CHANNEL_ACCESS_TOKEN"],
        connect_timeout=app.config["LINE_CONNECT_TIMEOUT"], read_timeout=app.config["LINE_READ_TIMEOUT"],
    )
    secret = app.config["LINE_CHANNEL_SECRET"]
    app.extensions["webhook_parser"] = WebhookParser(secret) if secret else None
    if not secret or not app.config["LINE_CHANNEL_ACCESS_TOKEN"]:
        log.warning("LINE credentials are not set: the webhook refuses requests. "
                    "Chat in the terminal with: flask --app wsgi chat")

    import bot.handlers  # noqa: F401  (registers the flows' intents, postbacks and states)

    app.register_blueprint(webhook.bp)
    cli.init_app(app)
    database.engine.dispose()  # nothing opened at start-up is handed to gunicorn's workers
    return app
