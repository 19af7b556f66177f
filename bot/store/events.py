"""Processed webhook events: recording an event id once, inside the turn's own transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.db import table_of
from bot.store.models import ProcessedEvent

# Built once: compiling a statement costs more than running it.
# RETURNING says whether the row went in (rowcount is not reliable for every driver).
_TABLE = table_of(ProcessedEvent)
_CLAIM: dict[str, Insert] = {
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.webhook_event_id),
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing().returning(_TABLE.c.webhook_event_id),
}


def claim_event(session: Session, event_id: str, now: datetime) -> bool:
    """Record the event id in the session's transaction; False when it was recorded before.

    ON CONFLICT DO NOTHING instead of catching an IntegrityError: on PostgreSQL a concurrent
    delivery of the same id waits for the first transaction and then finds it, without an error
    that would roll back the whole transaction.
    """
    conn = session.connection()
    result = conn.execute(_CLAIM[conn.dialect.name], {"webhook_event_id": event_id, "processed_at": now})
    return result.first() is not None
