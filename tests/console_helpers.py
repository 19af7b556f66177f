"""What the console's tests share: accounts, signing in, a clock (fixtures clock and console_app: conftest)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

SECRET_KEY = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery"
NOW = datetime(2025, 3, 5, 3, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Chiang Mai


class Clock:
    """The app's clock, moved by the test (deps.clock)."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


def console_config(app_config: dict, **extra) -> dict:
    return {**app_config, "SECRET_KEY": SECRET_KEY, "SESSION_COOKIE_SECURE": False, **extra}


def make_account(app, email: str, role: str, password: str = PASSWORD) -> None:
    result = app.test_cli_runner().invoke(args=["users", "create", email, "--role", role, "--password-stdin"],
                                          input=password + "\n")
    assert result.exit_code == 0, result.output


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has no CSRF token"
    return m.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/admin/sign-in")
    return client.post("/admin/sign-in", data={"email": email, "password": password,
                                               "csrf_token": csrf_of(page.get_data(as_text=True))})


def signed_in(app, role: str, email: str | None = None):
    """A test client signed in with a new account of this role."""
    email = email or f"{role}@office.example"
    make_account(app, email, role)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def post_form(client, path: str, data: dict, page: str = "/admin/"):
    """POST a console form the way the browser does: with the CSRF token of a page it opened."""
    token = csrf_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})
