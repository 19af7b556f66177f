"""Residents' rows: finding, creating, locking and deleting them."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.store.db import table_of
from bot.store.models import AirSubscription, CheckIn, InstallSecret, Pledge, SuppressedUser, User

SUPPRESSION_SALT = "suppression_salt"

# Built once: building an ORM select and its cache key on every turn cost more than running it.
_BY_LINE_ID = select(User).where(User.line_user_id == bindparam("line_user_id"))


def find_user(session: Session, line_user_id: str) -> User | None:
    return session.execute(_BY_LINE_ID, {"line_user_id": line_user_id}).scalar()


def load_user(session: Session, line_user_id: str, now: datetime) -> User:
    """The stored user, created on first contact; still opted out of news when they had opted out
    before deleting their data (the suppression list)."""
    user = find_user(session, line_user_id)
    if user is None:
        user = User(line_user_id=line_user_id, followed=True, blocked=False,
                    opted_out=is_suppressed(session, line_user_id), created_at=now, updated_at=now)
        session.add(user)
        session.flush()
    return user


# --- the suppression list ---------------------------------------------------------------------------

def install_secret(session: Session, name: str, now: datetime) -> bytes:
    """A random secret made once per installation and kept in the database (racing makers agree)."""
    value = session.scalar(select(InstallSecret.value).where(InstallSecret.name == name))
    if value is None:
        table = table_of(InstallSecret)
        values = {"name": name, "value": secrets.token_hex(32), "created_at": now}
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(pg_insert(table).values(values).on_conflict_do_nothing(index_elements=["name"]))
        else:
            from sqlalchemy.dialects.sqlite import insert as lite_insert

            session.execute(lite_insert(table).values(values).on_conflict_do_nothing(index_elements=["name"]))
        value = session.scalar(select(InstallSecret.value).where(InstallSecret.name == name))
    assert value is not None
    return bytes.fromhex(value)


def suppression_hash(session: Session, line_user_id: str, now: datetime | None = None) -> str:
    """HMAC-SHA256 of the LINE user id with this installation's salt: the list cannot be read back
    into user ids, nor matched against another installation's."""
    from bot.clock import utcnow

    salt = install_secret(session, SUPPRESSION_SALT, now or utcnow())
    return hmac.new(salt, line_user_id.encode(), hashlib.sha256).hexdigest()


def is_suppressed(session: Session, line_user_id: str) -> bool:
    if session.scalar(select(SuppressedUser.user_hash).limit(1)) is None:
        return False  # nobody on the list: no salt needed (and none made) for a first contact
    return session.get(SuppressedUser, suppression_hash(session, line_user_id)) is not None


def set_suppressed(session: Session, line_user_id: str, suppressed: bool, now: datetime) -> None:
    """Put the resident's hash on the suppression list, or take it off."""
    if not suppressed and session.scalar(select(SuppressedUser.user_hash).limit(1)) is None:
        return
    h = suppression_hash(session, line_user_id, now)
    row = session.get(SuppressedUser, h)
    if suppressed and row is None:
        session.add(SuppressedUser(user_hash=h, created_at=now))
    elif not suppressed and row is not None:
        session.delete(row)
    session.flush()


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
    session.execute(delete(AirSubscription).where(AirSubscription.user_id == user.id),
                    execution_options={"synchronize_session": False})
    for obj in [o for o in session.identity_map.values() if isinstance(o, (Pledge, CheckIn))]:
        session.expunge(obj)
    session.delete(user)
    session.flush()
