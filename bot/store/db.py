"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""
from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine tuned for the web server's workers and threads."""
    if url.startswith("sqlite"):
        # A long busy timeout and WAL: readers never block the writer, writers queue instead
        # of failing with "database is locked".
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Python's sqlite3 opens transactions lazily; take the write lock at BEGIN instead,
            # so two writers never deadlock upgrading a read lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=5,
                         hide_parameters=True, connect_args={"connect_timeout": 5})


class WriteGate:
    """Queues SQLite transactions of all threads and processes on one file lock.

    SQLite's own busy handler polls with growing sleeps, so under load a waiting writer can
    starve for seconds; a blocking flock hands the database over as soon as it is free.
    """

    def __init__(self, db_path: str) -> None:
        self.path = db_path + ".lock"
        self._local = threading.local()

    @contextmanager
    def hold(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            if getattr(self._local, "pid", None) != os.getpid():
                self._local.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
                self._local.pid = os.getpid()
            fcntl.flock(self._local.fd, fcntl.LOCK_EX)
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth -= 1
            if self._local.depth == 0:
                fcntl.flock(self._local.fd, fcntl.LOCK_UN)


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        db_path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        self.gate = WriteGate(db_path) if db_path and db_path != ":memory:" else None
        # A connection must never cross a fork (gunicorn --preload): children start with an
        # empty pool of their own.
        ref = weakref.ref(self)
        def forget_parent_connections() -> None:
            d = ref()
            if d is not None:
                d.engine.dispose(close=False)

        os.register_at_fork(after_in_child=forget_parent_connections)

    def _gated(self) -> AbstractContextManager[None]:
        return self.gate.hold() if self.gate else nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._gated():
            s = self.sessions()
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise
            finally:
                s.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to revision."""
        with self.engine.begin() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(cast(CursorResult[Any], result).rowcount)


def table_of(model: type[Any]) -> Table:
    """A model's Core table (for bulk INSERT … RETURNING and dialect upserts)."""
    return cast(Table, model.__table__)
