"""`flask users …`: console accounts from the terminal (the first admin is made here).

Passwords are read from standard input, never from an argument (which would end up in the shell's
history and the process list): typed twice without echo, or one line with --password-stdin.
"""
from __future__ import annotations

import getpass
import sys

import click
from flask.cli import AppGroup

from bot.clock import bangkok_text
from bot.console import auth
from bot.deps import deps_of
from bot.store import accounts as store
from bot.store import audit

users_cli = AppGroup("users", help="Console accounts: create, list, disable, set a password.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Again")
    try:
        return auth.check_new_password(password)
    except auth.PasswordRejected as e:
        raise click.ClickException(str(e)) from None


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([str(r) for r in auth.ROLES]), required=True,
              help="viewer: reads; sender: also sends campaigns; admin: also manages accounts.")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line on standard input (scripts).")
def create_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a console account."""
    email = store.normal_email(email)
    if "@" not in email or len(email) > 254:
        raise click.ClickException(f"{email!r} is not an email address")
    password_hash = auth.hash_password(_read_password(password_stdin))
    deps = deps_of()
    now = deps.clock()
    with deps.db.session() as s:
        try:
            account = store.add_account(s, email, password_hash, role, now)
        except store.AccountExists:
            raise click.ClickException(f"{email} already has an account; use `users set-password`") from None
        audit.record(s, at=now, actor=_actor(), action="account_created", target=email, detail=f"role {role}")
        click.echo(f"account {account.email} ({role}) created")


@users_cli.command("list")
def list_command() -> None:
    """Console accounts: email, role, state, second factor, last sign-in."""
    with deps_of().db.session() as s:
        rows = store.list_accounts(s)
        if not rows:
            click.echo("no accounts yet: flask --app wsgi users create EMAIL --role admin")
            return
        click.echo(f"{'email':<40} {'role':<7} {'state':<9} {'2fa':<4} last sign-in")
        for a in rows:
            click.echo(f"{a.email:<40} {a.role:<7} {'disabled' if a.disabled else 'active':<9} "
                       f"{'on' if a.totp_secret else 'off':<4} {bangkok_text(a.last_sign_in_at)}")


@users_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions end."""
    deps = deps_of()
    with deps.db.session() as s:
        account = store.find_account(s, email)
        if account is None:
            raise click.ClickException(f"no account {store.normal_email(email)}")
        store.set_disabled(account, True)
        audit.record(s, at=deps.clock(), actor=_actor(), action="account_disabled", target=account.email)
        click.echo(f"account {account.email} disabled")


@users_cli.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Enable a disabled account again."""
    deps = deps_of()
    with deps.db.session() as s:
        account = store.find_account(s, email)
        if account is None:
            raise click.ClickException(f"no account {store.normal_email(email)}")
        store.set_disabled(account, False)
        audit.record(s, at=deps.clock(), actor=_actor(), action="account_enabled", target=account.email)
        click.echo(f"account {account.email} enabled")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line on standard input (scripts).")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Give an account a new password (its sessions end; a sign-in lock is lifted)."""
    deps = deps_of()
    with deps.db.session() as s:
        account = store.find_account(s, email)
        if account is None:
            raise click.ClickException(f"no account {store.normal_email(email)}")
        store.set_password_hash(account, auth.hash_password(_read_password(password_stdin)), deps.clock())
        store.clear_throttle(s, account.email)
        audit.record(s, at=deps.clock(), actor=_actor(), action="password_set", target=account.email, detail="by cli")
        click.echo(f"new password set for {account.email}")
