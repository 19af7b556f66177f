"""Shared fixtures: an app on a fresh database per test, the fake LINE API, signed posts."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import CONTENT_DIR, create_app
from bot.store.models import Base
from tests import events
from tests.fakeair import FakeAir4Thai
from tests.fakeline import FakeLine

# Tests never reach the internet: unless a test points it at the fake Air4Thai, the worker's air
# refresh (and any subprocess it starts) reads a closed loopback port and keeps what it has.
os.environ.setdefault("AIR_QUALITY_URL", "http://127.0.0.1:9/services/getNewAQI_JSON.php")


@pytest.fixture(scope="session")
def fake_line_server():
    fake = FakeLine(token=events.TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_line(fake_line_server):
    fake_line_server.reset()
    yield fake_line_server
    fake_line_server.reset()


@pytest.fixture(scope="session")
def fake_air_server():
    fake = FakeAir4Thai().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_air(fake_air_server):
    fake_air_server.reset()
    yield fake_air_server
    fake_air_server.reset()


@pytest.fixture(scope="session")
def shared_content():
    from bot.content import load_contents

    return load_contents(CONTENT_DIR)


@pytest.fixture(scope="session")
def shared_matcher():
    from bot.nlu import Matcher

    # The learnt models are cached beside the app's database (instance/), as the app does.
    m = Matcher.from_content(CONTENT_DIR, cache_dir=CONTENT_DIR.parent / "instance" / "nlu-cache")
    m.warm()
    return m


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own for this test run, when TEST_DATABASE_URL names a PostgreSQL server."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    if base.startswith("postgresql://"):
        base = "postgresql+psycopg://" + base[len("postgresql://"):]
    name = f"cmbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    from bot.store.db import Database

    db = Database(url)
    db.upgrade()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (migrating each time is slow)."""
    from bot.store.db import Database

    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture
def database_url(postgres_url, sqlite_template, tmp_path):
    if postgres_url:
        engine = create_engine(postgres_url)
        with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return postgres_url
    path = tmp_path / "bot.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, fake_line, shared_content, shared_matcher):
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "LINE_CHANNEL_SECRET": events.SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": events.TOKEN,
        "LINE_API_BASE_URL": fake_line.url,
        "LINE_CONNECT_TIMEOUT": 1.0,
        "LINE_READ_TIMEOUT": 1.0,
        "CONTENTS": shared_content,
        "MATCHER": shared_matcher,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["deps"].line.flush(timeout=10)
    app.extensions["deps"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    with app.extensions["deps"].db.session() as s:
        yield s


def post_signed(client, payload: dict, secret: str = events.SECRET):
    """POST a payload to /callback signed as LINE would, and wait for the bot's replies."""
    body = events.body_of(payload)
    resp = client.post("/callback", data=body, headers={
        "X-Line-Signature": events.sign(body, secret), "Content-Type": "application/json"})
    client.application.extensions["deps"].line.flush(timeout=10)
    return resp


@pytest.fixture
def signed_post(client):
    def post(payload: dict, secret: str = events.SECRET):
        return post_signed(client, payload, secret)

    return post


@pytest.fixture
def clock():
    """The app's clock for console tests, moved by the test."""
    from tests.console_helpers import Clock

    return Clock()


@pytest.fixture
def console_app(app_config, clock, tmp_path):
    """An app with the office's console on (SECRET_KEY set, cookies over plain http for the test client)."""
    from tests.console_helpers import console_config

    app = create_app(console_config(app_config, PHRASE_REVIEW_FILE=str(tmp_path / "review" / "phrases.tsv")))
    app.extensions["deps"].clock = clock
    yield app
    app.extensions["deps"].line.flush(timeout=10)
    app.extensions["deps"].db.dispose()
