"""The store on SQLite and PostgreSQL: migrations match the models, constraints hold."""
from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import Base, ProcessedEvent, User


def test_migrations_create_exactly_what_the_models_describe(app):
    db = app.extensions["deps"].db
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_an_event_id_is_stored_once(app):
    db = app.extensions["deps"].db
    with db.session() as s:
        s.add(ProcessedEvent(webhook_event_id="01ABC"))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(ProcessedEvent(webhook_event_id="01ABC"))


def test_many_threads_writing_at_once_never_see_database_is_locked(app):
    db: Database = app.extensions["deps"].db
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            for i in range(20):
                with db.session() as s:
                    s.add(User(line_user_id=f"U{n:02d}{i:030d}"))
        except Exception as e:  # pragma: no cover - the assertion shows it
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 160


def test_db_upgrade_command_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
