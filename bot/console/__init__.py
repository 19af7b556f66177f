"""The campaign office's web console under /admin/: sign-in and roles, the dashboard, campaigns,
what residents asked, the audit log and accounts.

Server-rendered Jinja pages, Chart.js vendored in static/vendor (never a CDN), no inline script
or style (a strict Content-Security-Policy). Off, with a log line saying why, until SECRET_KEY is
set; the `flask users` commands work either way.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

log = logging.getLogger(__name__)

MIN_SECRET_KEY = 16


def init_app(app: Flask) -> None:
    """Register the `users` commands, and the console when SECRET_KEY is set."""
    from bot.console.cli import users_cli

    app.cli.add_command(users_cli)
    key = app.config.get("SECRET_KEY") or ""
    if not key:
        log.info("console is off: SECRET_KEY is not set (set it to a long random value to serve /admin/)")
        return
    if len(str(key)) < MIN_SECRET_KEY:
        log.warning("console is off: SECRET_KEY is shorter than %d characters", MIN_SECRET_KEY)
        return

    from bot.console import admin, asked, campaigns, dashboard, views_auth  # noqa: F401  (routes)
    from bot.console.web import bp, csrf, login_manager

    hours = float(app.config.get("CONSOLE_SESSION_HOURS", 8))
    app.config.update(
        SESSION_COOKIE_NAME="cm_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/admin",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
        # CSRF is checked by the console's own guard, so the webhook is never asked for a token.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=int(hours * 3600),
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.sign_in"
    login_manager.login_message = "Sign in to open the console."
    app.register_blueprint(bp)
    log.info("console at /admin/ (secure cookies: %s)", bool(app.config["SESSION_COOKIE_SECURE"]))
