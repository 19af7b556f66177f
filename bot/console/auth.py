"""Who is signed in to the console: passwords (argon2), the sign-in throttle, TOTP codes, roles.

Security is done by libraries (argon2-cffi, Flask-Login, pyotp); this module only decides the
console's policy: how long a password must be, after how many wrong passwords sign-in slows
down and then locks, and what each role may do.
"""
from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort
from flask_login import current_user

from bot.clock import as_utc
from bot.store.models import Account, AccountRole, SignInThrottle

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
ROLES = (AccountRole.VIEWER, AccountRole.SENDER, AccountRole.ADMIN)
RANK = {role: n for n, role in enumerate(ROLES)}

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked when the email has no account, so a wrong email takes as long as a wrong password."""
    return _hasher.hash("not a password of anyone's")


class PasswordRejected(ValueError):
    """A new password the console does not accept; the message says why."""


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(f"a password has at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_new_password(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when password matches; always as slow as a real check."""
    try:
        return bool(_hasher.verify(stored_hash or _dummy_hash(), password)) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# --- the throttle ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LockPolicy:
    """Wrong passwords for one email: from slow_after on, each next try waits twice as long (at
    most max_wait); at lock_after, sign-in for that email is locked for lock_for."""

    slow_after: int = 3
    lock_after: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    max_wait: timedelta = timedelta(seconds=60)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LockPolicy:
        return cls(slow_after=int(config.get("CONSOLE_SLOW_AFTER", 3)),
                   lock_after=int(config.get("CONSOLE_LOCK_AFTER", 10)),
                   lock_for=timedelta(minutes=float(config.get("CONSOLE_LOCK_MINUTES", 15))))

    def wait(self, t: SignInThrottle, now: datetime) -> tuple[str, timedelta] | None:
        """("locked" | "slow", how long) when a try must not be checked now; None when it may."""
        if t.locked_until is not None and as_utc(t.locked_until) > now:
            return "locked", as_utc(t.locked_until) - now
        if t.failures >= self.slow_after and t.last_failure_at is not None:
            delay = min(self.max_wait, timedelta(seconds=2 ** (t.failures - self.slow_after + 1)))
            until = as_utc(t.last_failure_at) + delay
            if until > now:
                return "slow", until - now
        return None

    def fail(self, t: SignInThrottle, now: datetime) -> bool:
        """Count one wrong password; True when this one locked sign-in."""
        t.failures = (t.failures or 0) + 1
        t.last_failure_at = now
        if t.failures >= self.lock_after:
            t.locked_until = now + self.lock_for
            return True
        return False


def wait_text(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


# --- TOTP ---------------------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Chiang Mai Low Carbon console")


def totp_qr_svg(uri: str) -> str:
    """The otpauth URI as an SVG QR code, for an <img> (data: URI) on the setup page."""
    import qrcode
    import qrcode.image.svg

    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step a 6-digit code belongs to (now, or one step either side), or None when it is
    wrong or was already used (a step not after last_step)."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            used = step + offset
            return used if last_step is None or used > last_step else None
    return None


# --- who is signed in -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Staff:
    """The signed-in account, as Flask-Login's user (a copy, detached from any database session)."""

    id: int
    email: str
    role: str
    token: str
    totp: bool

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @classmethod
    def of(cls, account: Account) -> Staff:
        return cls(account.id, account.email, account.role, account.session_token, account.totp_secret is not None)

    def get_id(self) -> str:
        # The token changes with the password or when the account is disabled: old sessions end.
        return f"{self.id}:{self.token}"

    def can(self, role: str) -> bool:
        mine = RANK.get(AccountRole(self.role), -1) if self.role in RANK else -1
        return mine >= RANK[AccountRole(role)]


def staff() -> Staff:
    """The signed-in account (only inside views the blueprint has already guarded)."""
    user = cast(Any, current_user)._get_current_object()
    if not isinstance(user, Staff):
        abort(401)
    return user


F = TypeVar("F", bound=Callable[..., Any])


def requires(role: str) -> Callable[[F], F]:
    """Views only accounts of at least this role may open (403 for the others)."""
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not staff().can(role):
                abort(403)
            return view(*args, **kwargs)
        return cast(F, guarded)
    return decorate
