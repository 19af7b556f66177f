"""Residents' rows: finding, creating, locking and deleting them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.store.models import CheckIn, Pledge, User

# Built once: building an ORM select and its cache key on every turn cost more than running it.
_BY_LINE_ID = select(User).where(User.line_user_id == bindparam("line_user_id"))


def find_user(session: Session, line_user_id: str) -> User | None:
    return session.execute(_BY_LINE_ID, {"line_user_id": line_user_id}).scalar()


def load_user(session: Session, line_user_id: str, now: datetime) -> User:
    """The stored user, created on first contact."""
    user = find_user(session, line_user_id)
    if user is None:
        user = User(line_user_id=line_user_id, followed=True, blocked=False, opted_out=False,
                    created_at=now, updated_at=now)
        session.add(user)
        session.flush()
    return user


def lock_user(session: Session, user: User) -> None:
    """Serialise this resident's writes: two workers with two taps of one user queue up here
    (SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(User).where(User.id == user.id).with_for_update()
                        .execution_options(populate_existing=True))


def delete_rows_of(session: Session, user: User) -> None:
    """Delete the users row and everything linked to it (check-ins, pledges); counters are the caller's."""
    # Explicit deletes, not only ON DELETE CASCADE: correct whatever the database's settings.
    pledge_ids = select(Pledge.id).where(Pledge.user_id == user.id).scalar_subquery()
    session.execute(delete(CheckIn).where(CheckIn.pledge_id.in_(pledge_ids)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(Pledge).where(Pledge.user_id == user.id), execution_options={"synchronize_session": False})
    for obj in [o for o in session.identity_map.values() if isinstance(o, (Pledge, CheckIn))]:
        session.expunge(obj)
    session.delete(user)
    session.flush()
