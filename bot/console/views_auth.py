"""Signing in and out (password, then the TOTP code when the account has one), and each
account's own page: a new password, the second factor."""
from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.console import auth
from bot.console.web import audit, bp, deps, login_manager, now
from bot.store import accounts as store
from bot.store.models import Account

PENDING = "console.pending_code"  # an account that gave its password and still owes its code
CODE_WINDOW = timedelta(minutes=5)


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login has no type hints
def load_staff(user_id: str) -> auth.Staff | None:
    """The session's account, while it exists, is enabled and its password has not changed since."""
    id_s, _, token = user_id.partition(":")
    if not id_s.isdigit() or not token:
        return None
    with deps().db.session() as s:
        account = store.get_account(s, int(id_s))
        if account is None or account.disabled or not secrets.compare_digest(account.session_token, token):
            return None
        return auth.Staff.of(account)


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never another site."""
    if target and target.startswith("/admin/") and not urlsplit(target).netloc and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


def _policy() -> auth.LockPolicy:
    return auth.LockPolicy.from_config(deps().config)


def _complete_sign_in(s: Session, account: Account, next_url: str | None) -> ResponseReturnValue:
    session.clear()  # nothing from before the sign-in carries over
    login_user(auth.Staff.of(account))
    session.permanent = True
    account.last_sign_in_at = now()
    audit(s, "sign_in", who=auth.Staff.of(account), target=account.email)
    return redirect(_safe_next(next_url))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in form: email and password."""
    if request.method == "GET":
        return render_template("console/sign_in.html", email="", next=request.args.get("next", ""))
    email = store.normal_email(request.form.get("email", ""))[:254]
    password = request.form.get("password", "")[:auth.MAX_PASSWORD]
    next_url = request.form.get("next")
    policy = _policy()
    t = now()
    with deps().db.session() as s:
        throttle = store.lock_throttle(s, email)
        account = store.find_account(s, email)
        known = account.email if account else "(unknown email)"
        wait = policy.wait(throttle, t)
        if wait is not None:
            kind, left = wait
            audit(s, "sign_in_refused", actor=known, target=known,
                  detail=f"{kind}: {auth.wait_text(left)} left", who=None)
            message = (f"Too many wrong passwords for this email: sign-in is locked. Try again in {auth.wait_text(left)}, "
                       "or ask an admin for a new password." if kind == "locked" else
                       f"Too many wrong passwords: wait {auth.wait_text(left)} before the next try.")
            return render_template("console/sign_in.html", email=email, next=next_url, error=message), 429
        ok = auth.verify_password(account.password_hash if account else None, password)
        if not ok or account is None or account.disabled:
            locked = policy.fail(throttle, t)
            why = "no such account" if account is None else ("account disabled" if account.disabled else "wrong password")
            audit(s, "sign_in_failed", actor=known, target=known,
                  detail=why + (f"; locked for {auth.wait_text(policy.lock_for)}" if locked else ""))
            if secrets.randbelow(50) == 0:  # now and then, forget old throttles
                store.prune_throttle(s, t, timedelta(days=1))
            return render_template("console/sign_in.html", email=email, next=next_url,
                                   error="Wrong email or password."), 401
        store.clear_throttle(s, email)
        if auth.needs_rehash(account.password_hash):
            account.password_hash = auth.hash_password(password)
        if account.totp_secret:
            session.clear()
            session[PENDING] = {"id": account.id, "token": account.session_token, "at": t.timestamp(),
                                "next": _safe_next(next_url)}
            return redirect(url_for("console.sign_in_code"))
        return _complete_sign_in(s, account, next_url)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code() -> ResponseReturnValue:
    """The second step for accounts with a second factor: the 6-digit code of their app."""
    pending = session.get(PENDING)
    t = now()
    if not isinstance(pending, dict) or t.timestamp() - float(pending.get("at", 0)) > CODE_WINDOW.total_seconds():
        session.pop(PENDING, None)
        flash("Sign in again: the code was not entered in time.")
        return redirect(url_for("console.sign_in"))
    if request.method == "GET":
        return render_template("console/sign_in_code.html")
    policy = _policy()
    with deps().db.session() as s:
        account = store.get_account(s, int(pending["id"]))
        if account is None or account.disabled or account.session_token != pending.get("token") or not account.totp_secret:
            session.pop(PENDING, None)
            return redirect(url_for("console.sign_in"))
        throttle = store.lock_throttle(s, account.email)
        wait = policy.wait(throttle, t)
        if wait is not None:
            audit(s, "sign_in_refused", actor=account.email, target=account.email,
                  detail=f"{wait[0]} (code): {auth.wait_text(wait[1])} left")
            return render_template("console/sign_in_code.html",
                                   error=f"Too many wrong codes: try again in {auth.wait_text(wait[1])}."), 429
        step = auth.totp_step(account.totp_secret, request.form.get("code", ""), t, account.totp_last_step)
        if step is None:
            policy.fail(throttle, t)
            audit(s, "sign_in_failed", actor=account.email, target=account.email, detail="wrong second-factor code")
            return render_template("console/sign_in_code.html", error="Wrong or already used code."), 401
        account.totp_last_step = step
        store.clear_throttle(s, account.email)
        return _complete_sign_in(s, account, str(pending.get("next") or ""))


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    with deps().db.session() as s:
        audit(s, "sign_out")
    logout_user()
    session.clear()
    flash("Signed out.")
    return redirect(url_for("console.sign_in"))


# --- one's own account ------------------------------------------------------------------------------

@bp.route("/me", methods=["GET"])
def me() -> ResponseReturnValue:
    """My account: change my password; turn the second factor on or off."""
    with deps().db.session() as s:
        account = store.get_account(s, auth.staff().id)
        assert account is not None
        pending = account.totp_pending
        setup = None
        if pending and not account.totp_secret:
            uri = auth.totp_uri(pending, account.email)
            setup = {"secret": pending, "qr": auth.totp_qr_svg(uri)}
        return render_template("console/me.html", account=account, setup=setup)


@bp.route("/me/password", methods=["POST"])
def me_password() -> ResponseReturnValue:
    new, again = request.form.get("new_password", ""), request.form.get("new_password_again", "")
    with deps().db.session() as s:
        account = store.get_account(s, auth.staff().id)
        assert account is not None
        if not auth.verify_password(account.password_hash, request.form.get("password", "")[:auth.MAX_PASSWORD]):
            flash("Your current password was not right; nothing changed.")
            return redirect(url_for("console.me"))
        if new != again:
            flash("The two new passwords differ; nothing changed.")
            return redirect(url_for("console.me"))
        try:
            store.set_password_hash(account, auth.hash_password(new), now())
        except auth.PasswordRejected as e:
            flash(f"Not changed: {e}.")
            return redirect(url_for("console.me"))
        audit(s, "password_set", target=account.email, detail="own password")
        login_user(auth.Staff.of(account))  # this session goes on; every other one ends
    flash("Password changed. Other sessions of this account are signed out.")
    return redirect(url_for("console.me"))


@bp.route("/me/totp", methods=["POST"])
def me_totp() -> ResponseReturnValue:
    """Start, confirm or turn off the second factor."""
    step = request.form.get("step", "")
    t = now()
    with deps().db.session() as s:
        account = store.get_account(s, auth.staff().id)
        assert account is not None
        if step == "start" and not account.totp_secret:
            account.totp_pending = auth.new_totp_secret()
            flash("Scan the code with an authenticator app, then enter the 6 digits it shows.")
        elif step == "confirm" and account.totp_pending and not account.totp_secret:
            used = auth.totp_step(account.totp_pending, request.form.get("code", ""), t, None)
            if used is None:
                flash("That code was not right; try the code the app shows now.")
            else:
                account.totp_secret, account.totp_pending, account.totp_last_step = account.totp_pending, None, used
                audit(s, "totp_on", target=account.email)
                flash("Second factor on: from now on, sign-in asks for a code.")
        elif step == "off" and account.totp_secret:
            used = auth.totp_step(account.totp_secret, request.form.get("code", ""), t, account.totp_last_step)
            if used is None:
                flash("That code was not right; the second factor stays on.")
            else:
                account.totp_secret = account.totp_pending = None
                account.totp_last_step = None
                audit(s, "totp_off", target=account.email)
                flash("Second factor off.")
        login_user(auth.Staff.of(account))
    return redirect(url_for("console.me"))


def last_sign_in_text(account: Account) -> str:
    from bot.clock import bangkok_text

    return bangkok_text(as_utc(account.last_sign_in_at)) if account.last_sign_in_at else "never"
