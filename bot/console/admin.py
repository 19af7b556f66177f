"""Admins only: the audit log, and the accounts (create, disable, enable, new password, role,
second factor reset). Every change is audited."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot.clock import bangkok_text
from bot.console import auth
from bot.console.auth import requires, staff
from bot.console.web import audit, bp, deps, now
from bot.store import accounts as store
from bot.store import audit as audit_store
from bot.store.models import Account, AccountRole

PAGE = 100
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@bp.route("/audit")
@requires(AccountRole.ADMIN)
def audit_log() -> ResponseReturnValue:
    """Every sign-in, send, cancel, export and account change, newest first."""
    action = request.args.get("action") or None
    before = request.args.get("before", type=int)
    with deps().db.session() as s:
        rows = audit_store.entries(s, limit=PAGE, before_id=before, action=action)
        actions = audit_store.actions(s)
    return render_template("console/audit.html", rows=[(e, bangkok_text(e.at)) for e in rows], actions=actions,
                           action=action, older=rows[-1].id if len(rows) == PAGE else None)


def active_admins(s: Session) -> int:
    return sum(1 for a in store.list_accounts(s) if a.role == AccountRole.ADMIN and not a.disabled)


@bp.route("/accounts")
@requires(AccountRole.ADMIN)
def accounts() -> ResponseReturnValue:
    with deps().db.session() as s:
        rows = [(a, bangkok_text(a.last_sign_in_at) if a.last_sign_in_at else "never") for a in store.list_accounts(s)]
    return render_template("console/accounts.html", rows=rows, roles=auth.ROLES, me=staff().id)


@bp.route("/accounts/new", methods=["POST"])
@requires(AccountRole.ADMIN)
def account_new() -> ResponseReturnValue:
    email = store.normal_email(request.form.get("email", ""))
    role = request.form.get("role", "")
    password = request.form.get("password", "")
    if not EMAIL.match(email) or len(email) > 254:
        flash("Give a valid email address.")
    elif role not in auth.ROLES:
        flash("Choose a role.")
    else:
        try:
            password_hash = auth.hash_password(password)
            with deps().db.session() as s:
                store.add_account(s, email, password_hash, role, now())
                audit(s, "account_created", target=email, detail=f"role {role}")
            flash(f"Account {email} created ({role}). Give them the password by a separate channel.")
        except auth.PasswordRejected as e:
            flash(f"Not created: {e}.")
        except store.AccountExists:
            flash(f"{email} already has an account.")
    return redirect(url_for("console.accounts"))


@bp.route("/accounts/<int:account_id>", methods=["POST"])
@requires(AccountRole.ADMIN)
def account_change(account_id: int) -> ResponseReturnValue:
    """One change to an account: disable, enable, password, role or second-factor reset."""
    what = request.form.get("what", "")
    me = staff()
    with deps().db.session() as s:
        account = store.get_account(s, account_id)
        if account is None:
            flash("No such account.")
            return redirect(url_for("console.accounts"))
        message = _apply(s, account, what, me)
    flash(message)
    return redirect(url_for("console.accounts"))


def _apply(s: Session, account: Account, what: str, me: auth.Staff) -> str:
    last_admin = account.role == AccountRole.ADMIN and not account.disabled and active_admins(s) <= 1
    if what == "disable":
        if account.id == me.id or last_admin:
            return "You cannot disable your own account, nor the last admin."
        store.set_disabled(account, True)
        audit(s, "account_disabled", target=account.email)
        return f"{account.email} disabled; their sessions ended."
    if what == "enable":
        store.set_disabled(account, False)
        audit(s, "account_enabled", target=account.email)
        return f"{account.email} enabled."
    if what == "password":
        try:
            store.set_password_hash(account, auth.hash_password(request.form.get("password", "")), now())
        except auth.PasswordRejected as e:
            return f"Not changed: {e}."
        store.clear_throttle(s, account.email)  # a new password also lifts a lock
        audit(s, "password_set", target=account.email, detail="by an admin")
        return f"New password set for {account.email}; their sessions ended."
    if what == "role":
        role = request.form.get("role", "")
        if role not in auth.ROLES:
            return "Choose a role."
        if last_admin and role != AccountRole.ADMIN:
            return "The last admin keeps the admin role."
        audit(s, "role_changed", target=account.email, detail=f"{account.role} -> {role}")
        account.role = role
        return f"{account.email} is now {role}."
    if what == "totp_reset":
        account.totp_secret = account.totp_pending = None
        account.totp_last_step = None
        audit(s, "totp_reset", target=account.email)
        return f"Second factor of {account.email} removed; they can set it up again."
    return "Nothing changed."
