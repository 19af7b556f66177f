"""The console's blueprint under /admin/: the guard every request passes (sign-in, CSRF), the
security headers, and the helpers its views share (the clock, the audit log, k-anonymity)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from bot.console.auth import Staff
from bot.deps import Deps, deps_of
from bot.flows.community import MIN_HOUSEHOLDS_SHOWN
from bot.store import audit as audit_store

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()
login_manager = LoginManager()

# Reached signed out: the sign-in pages and the stylesheet they use.
PUBLIC = {"console.sign_in", "console.sign_in_code", "console.static"}

# No inline script or style anywhere: every script and stylesheet is a file of this package.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


@bp.before_request
def guard() -> ResponseReturnValue | None:
    """Every form and fetch carries the CSRF token; every page but sign-in needs a signed-in account."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    # Load the signed-in account now, before a view opens a database session (on SQLite a
    # second session inside the first would wait for it).
    authenticated = current_user.is_authenticated
    if request.endpoint in PUBLIC:
        return None
    if not authenticated:
        denied: ResponseReturnValue = login_manager.unauthorized()
        return denied
    return None


@bp.after_request
def security_headers(resp: Response) -> Response:
    h = resp.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "console.static":
        h["Cache-Control"] = "no-store"  # counts and accounts stay out of shared caches
    if request.is_secure:
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    return resp


@bp.errorhandler(CSRFError)
def csrf_failed(e: CSRFError) -> ResponseReturnValue:
    return render_template("console/error.html", title="Form refused",
                           message="This form was not sent by a page of this console, or it expired. "
                                   "Go back, reload the page and try again."), 400


@bp.errorhandler(403)
def forbidden(e: HTTPException) -> ResponseReturnValue:
    return render_template("console/error.html", title="Not for your role",
                           message="Your account's role cannot open this page. An admin can change roles."), 403


@bp.errorhandler(404)
def not_found(e: HTTPException) -> ResponseReturnValue:
    return render_template("console/error.html", title="Not found", message="There is nothing at this address."), 404


def deps() -> Deps:
    return deps_of()


def now() -> datetime:
    return deps_of().clock()


def client_ip() -> str | None:
    return request.remote_addr


def audit(session: Session, action: str, *, target: str | None = None, detail: str | None = None,
          who: Staff | None = None, actor: str | None = None) -> None:
    """One line in the audit log: who (the signed-in account, or actor) did action to target.

    The signed-in account was loaded by the guard, before any database session opened here."""
    if who is None and actor is None and current_user.is_authenticated:
        user: Any = current_user
        who = user._get_current_object()
    audit_store.record(session, at=now(), actor=actor or (who.email if who else "(signed out)"), action=action,
                       account_id=who.id if who else None, target=target, detail=detail, ip=client_ip())


def shown(n: int, by_district: bool) -> str:
    """A count as the console shows it: by district, 1 to k-1 are never told apart (k ≥ 5, as in the bot)."""
    if by_district and 0 < n < MIN_HOUSEHOLDS_SHOWN:
        return f"fewer than {MIN_HOUSEHOLDS_SHOWN}"
    return f"{n:,}"
