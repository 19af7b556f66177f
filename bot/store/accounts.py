"""Console accounts and the sign-in throttle in the database; no hashing or policy here
(bot/console/auth.py decides), no words."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.store.db import table_of
from bot.store.models import Account, SignInThrottle


class AccountExists(ValueError):
    pass


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def new_session_token() -> str:
    return secrets.token_hex(16)


def find_account(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == normal_email(email)))


def get_account(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.email)))


def add_account(session: Session, email: str, password_hash: str, role: str, now: datetime) -> Account:
    """A new account; AccountExists when the email has one."""
    email = normal_email(email)
    if find_account(session, email) is not None:
        raise AccountExists(email)
    account = Account(email=email, password_hash=password_hash, role=role, disabled=False,
                      session_token=new_session_token(), created_at=now, password_changed_at=now)
    session.add(account)
    session.flush()
    return account


def set_password_hash(account: Account, password_hash: str, now: datetime) -> None:
    """A new password; every session of the account ends."""
    account.password_hash = password_hash
    account.password_changed_at = now
    account.session_token = new_session_token()


def set_disabled(account: Account, disabled: bool) -> None:
    account.disabled = disabled
    account.session_token = new_session_token()


# --- the throttle ---------------------------------------------------------------------------------

def throttle_key(email: str) -> str:
    """Who the throttle counts for: a hash of the email, so typed addresses are not kept."""
    return hashlib.sha256(normal_email(email).encode("utf-8")).hexdigest()


def lock_throttle(session: Session, email: str) -> SignInThrottle:
    """The email's throttle row, created if missing and locked until the transaction ends, so two
    workers trying one email queue up instead of both passing the checks."""
    key = throttle_key(email)
    table = table_of(SignInThrottle)
    values = {"key": key, "failures": 0}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(values).on_conflict_do_nothing(index_elements=["key"]))
    else:
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        session.execute(lite_insert(table).values(values).on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
                         .execution_options(populate_existing=True))
    assert row is not None
    return row


def clear_throttle(session: Session, email: str) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == throttle_key(email)))


def prune_throttle(session: Session, now: datetime, keep: timedelta) -> None:
    """Forget throttles with no failure for `keep` and no lock running."""
    session.execute(delete(SignInThrottle).where(
        or_(SignInThrottle.last_failure_at.is_(None), SignInThrottle.last_failure_at < now - keep),
        or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < now)))
