"""The console's audit log: one row per sign-in, send, cancel, export or account change.

Append-only: this module only adds and reads rows, and the database refuses UPDATE and DELETE
on audit_log (triggers of migration 0007). Entries name office staff, never residents.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import AuditEntry


def record(session: Session, *, at: datetime, actor: str, action: str, account_id: int | None = None,
           target: str | None = None, detail: str | None = None, ip: str | None = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor=actor[:254], action=action[:40], account_id=account_id,
                       target=target[:254] if target else None, detail=detail[:500] if detail else None,
                       ip=ip[:45] if ip else None)
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, limit: int = 100, before_id: int | None = None,
            action: str | None = None) -> list[AuditEntry]:
    """Newest first; before_id pages back."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        q = q.where(AuditEntry.id < before_id)
    if action:
        q = q.where(AuditEntry.action == action)
    return list(session.scalars(q))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).group_by(AuditEntry.action).order_by(AuditEntry.action)))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
