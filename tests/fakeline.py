"""A fake of LINE's Messaging API server, on loopback, for tests and benchmarks.

Faithful to /work/shared/line-openapi/messaging-api.yml (paths, request/response schemas,
ErrorResponse shape) and to LINE's documented behaviour (single-use reply tokens, retry keys,
monthly quota counted per recipient, rate limits answered with 429).

    with FakeLine() as fake:                      # 127.0.0.1, OS-chosen port, threaded
        api = MessagingApi(ApiClient(Configuration(access_token="t")))
        api.line_base_path = fake.url
        ...
        fake.delivered("U...")                    # messages that user received

The real line-bot-sdk v3 works against it. MessagingApiBlob ignores its own `line_base_path`
(its methods hard-code https://api-data.line.me); `Configuration(host=fake.url)` redirects
every SDK call (MessagingApi and MessagingApiBlob) to the fake.

Order in which a request is handled: route lookup (404) -> injected failure (fail_next) ->
injected hang (hang_next) -> Authorization (401) -> rate limit (429) -> retry-key checks
(400/409) -> body validation (400) -> quota (429) -> accepted (recorded, maybe fail_after_accept).
"""
from __future__ import annotations

import json
import re
import secrets
import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Call", "FakeLine", "make_user_id", "png_bytes"]

# ----------------------------------------------------------------------------------------------
# LINE's wording of errors
AUTH_REQUIRED = ("Authorization header required. "
                 "Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'")
AUTH_FAILED = ("Authentication failed. Confirm that the access token in the authorization "
               "header is valid.")
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
MONTHLY_LIMIT = "You have reached your monthly limit."
INVALID_REPLY_TOKEN = "Invalid reply token"
RETRY_KEY_ACCEPTED = "The retry key is already accepted"
NOT_FOUND = "Not found"
SERVER_ERROR = "An error occurred in the server."

MAX_MESSAGES = 5
MAX_MULTICAST = 500
MAX_TEXT = 5000
MAX_QUICK_REPLY = 13
MAX_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_FLEX_ALT = 1500
MAX_TEMPLATE_ALT = 400
MAX_RICHMENU_AREAS = 20
MAX_RICHMENU_IMAGE = 1024 * 1024
MAX_BODY = 8 * 1024 * 1024

MESSAGE_TYPES = ("text", "textV2", "sticker", "image", "video", "audio", "location",
                 "imagemap", "template", "flex", "coupon")
ACTION_TYPES = ("camera", "cameraRoll", "clipboard", "datetimepicker", "location", "message",
                "postback", "richmenuswitch", "uri")
SEND_KINDS = ("push", "multicast", "broadcast", "narrowcast")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
CHAT_ID_RE = re.compile(r"^[UCR][0-9a-f]{32}$")


def make_user_id(seed: Any = None) -> str:
    """A LINE-shaped user id ("U" + 32 hex digits); deterministic for a given seed."""
    if seed is None:
        return "U" + secrets.token_hex(16)
    return "U" + uuid.uuid5(uuid.NAMESPACE_URL, f"fakeline-user:{seed}").hex


@lru_cache(maxsize=8)
def png_bytes(width: int = 2500, height: int = 1686) -> bytes:
    """A small valid PNG of the given size (for rich menu image uploads)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = (b"\x00" + b"\x00" * width) * height            # grey, filter byte 0 per row
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _image_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, None when the bytes aren't that image type."""
    if content_type == "image/png":
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            return None
        return struct.unpack(">II", data[16:24])
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _strlen(s: str) -> int:
    """LINE counts characters as UTF-16 code units (Java String.length)."""
    return len(s.encode("utf-16-le")) // 2


# ----------------------------------------------------------------------------------------------
@dataclass
class Call:
    """One HTTP request the fake received. headers: lower-case names."""
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    body: bytes
    time: float
    kind: str | None = None          # route kind, e.g. "push"; None for unknown paths
    template: str = ""               # spec path template, e.g. "/v2/bot/richmenu/{richMenuId}"
    status: int | None = None        # None while still being answered
    response: Any = None             # JSON body sent back
    request_id: str = ""
    accepted: bool = False           # LINE accepted it (messages were delivered)
    generation: int = field(default=0, repr=False)   # reset() count when it arrived


@dataclass
class Delivery:
    """Messages LINE accepted: kind, recipients (user ids; reply: the token's user if known)."""
    kind: str
    recipients: list[str]
    messages: list[dict]
    body: dict
    request_id: str
    retry_key: str | None
    time: float


@dataclass
class _Fault:
    match: Callable[[str, str, str], bool]
    count: int
    status: int = 500
    body: Any = None
    seconds: float = 0.0
    mode: str = "fail"               # fail | hang | after_accept


class _ValidationErrors(Exception):
    def __init__(self, details: list[dict], message: str | None = None):
        self.details = details
        self.message = message or f"The request body has {len(details)} error(s)"


class _HttpError(Exception):
    def __init__(self, status: int, body: dict, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


class _Bucket:
    def __init__(self, per_second: float, burst: float):
        self.rate, self.capacity, self.tokens, self.t = per_second, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# ----------------------------------------------------------------------------------------------
# Routes: (method, template, kind). Template placeholders become one path segment.
_ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/v2/bot/message/reply", "reply"),
    ("POST", "/v2/bot/message/push", "push"),
    ("POST", "/v2/bot/message/multicast", "multicast"),
    ("POST", "/v2/bot/message/narrowcast", "narrowcast"),
    ("POST", "/v2/bot/message/broadcast", "broadcast"),
    ("GET", "/v2/bot/message/progress/narrowcast", "narrowcast_progress"),
    ("GET", "/v2/bot/message/quota", "quota"),
    ("GET", "/v2/bot/message/quota/consumption", "quota_consumption"),
    ("POST", "/v2/bot/message/validate/reply", "validate_reply"),
    ("POST", "/v2/bot/message/validate/push", "validate_push"),
    ("POST", "/v2/bot/message/validate/multicast", "validate_multicast"),
    ("POST", "/v2/bot/message/validate/narrowcast", "validate_narrowcast"),
    ("POST", "/v2/bot/message/validate/broadcast", "validate_broadcast"),
    ("GET", "/v2/bot/profile/{userId}", "profile"),
    ("GET", "/v2/bot/followers/ids", "followers"),
    ("GET", "/v2/bot/info", "bot_info"),
    ("POST", "/v2/bot/richmenu", "richmenu_create"),
    ("POST", "/v2/bot/richmenu/validate", "richmenu_validate"),
    ("GET", "/v2/bot/richmenu/list", "richmenu_list"),
    ("POST", "/v2/bot/richmenu/{richMenuId}/content", "richmenu_content"),
    ("GET", "/v2/bot/richmenu/{richMenuId}/content", "richmenu_content_get"),
    ("GET", "/v2/bot/richmenu/{richMenuId}", "richmenu_get"),
    ("DELETE", "/v2/bot/richmenu/{richMenuId}", "richmenu_delete"),
    ("POST", "/v2/bot/user/all/richmenu/{richMenuId}", "richmenu_default_set"),
    ("GET", "/v2/bot/user/all/richmenu", "richmenu_default_get"),
    ("DELETE", "/v2/bot/user/all/richmenu", "richmenu_default_delete"),
    ("POST", "/v2/bot/chat/loading/start", "loading"),
]


def _compile(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$")


_COMPILED = [(m, _compile(t), t, k) for m, t, k in _ROUTES]
_KINDS = {k for _, _, k in _ROUTES}
_TEMPLATES = {t for _, t, _ in _ROUTES}


def _route(method: str, path: str) -> tuple[str, str, list[str]] | None:
    """(kind, template, path params) or None. Method mismatch on a known path -> None too."""
    for m, rx, template, kind in _COMPILED:
        if m == method:
            mo = rx.match(path)
            if mo:
                return kind, template, list(mo.groups())
    return None


def _matcher(target: str) -> Callable[[str, str, str], bool]:
    """Match a route kind ("push"), a route template or a concrete path, or "*" (everything)."""
    if target == "*":
        return lambda kind, template, path: True
    if target in _KINDS:
        return lambda kind, template, path: kind == target
    if target in _TEMPLATES:
        return lambda kind, template, path: template == target
    return lambda kind, template, path: path == target


# ----------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, addr, handler, fake: FakeLine):
        self.fake = fake
        super().__init__(addr, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"        # keep-alive, as urllib3/aiohttp pools expect
    server_version = "FakeLINE/1.0"
    sys_version = ""
    # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every answer, which LINE's servers don't.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format, *args):
        pass

    def _handle(self):
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


# ----------------------------------------------------------------------------------------------
class FakeLine:
    """Fake LINE Messaging API server. See module docstring; all public methods are thread-safe."""

    def __init__(self, token: str | None = None, *, strict_reply_tokens: bool = False,
                 strict_users: bool = False, quota: int | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        """token: the only accepted channel access token (None: any non-empty Bearer token).
        strict_reply_tokens: only tokens from issue_reply_token() are valid (else any unused).
        strict_users: ids must be LINE-shaped (U + 32 hex) and profiles exist (add_user)."""
        self.token = token
        self.strict_reply_tokens = strict_reply_tokens
        self.strict_users = strict_users
        self.bot_info = {"userId": make_user_id("bot"), "basicId": "@000fake",
                         "displayName": "Fake LINE bot", "chatMode": "bot",
                         "markAsReadMode": "auto"}
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._initial_quota = quota
        self._gen = 0
        self._hang_cancel = threading.Event()
        self._reset_state()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeLine:
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fakeline", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; cuts short hanging requests and closes open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stop.set()
        self._release_hangs()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLine is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    # -- state ----------------------------------------------------------------------------------
    def _release_hangs(self) -> None:
        """Drop (close without answer) every request currently held by hang_next."""
        with self._lock:
            old, self._hang_cancel = self._hang_cancel, threading.Event()
        old.set()

    def _reset_state(self) -> None:
        self._release_hangs()
        with self._lock:
            self._gen += 1
            self._calls: list[Call] = []
            self._deliveries: list[Delivery] = []
            self._by_user: dict[str, list[dict]] = {}
            self._retry_keys: dict[str, tuple[str, list[dict]]] = {}
            self._faults: list[_Fault] = []
            self._buckets: dict[str, tuple[Callable, _Bucket]] = {}
            self._reply_tokens: dict[str, str | None] = {}     # issued, unused -> user id
            self._used_reply_tokens: set[str] = set()
            self._quota_limit: int | None = self._initial_quota
            self._quota_used = 0
            self._users: dict[str, dict] = {}
            self._richmenus: dict[str, dict] = {}
            self._richmenu_images: dict[str, tuple[str, bytes]] = {}
            self._default_richmenu: str | None = None
            self._narrowcasts: dict[str, float] = {}
            self._msg_id = 100000000000000000

    def reset(self) -> None:
        """Forget calls, deliveries, retry keys, tokens, faults, rate limits, quota usage (the
        limit goes back to the constructor's), users and rich menus. Requests still hanging
        are dropped, and requests that arrived before reset() can't record anything after."""
        self._reset_state()

    # -- configuration / fault injection ----------------------------------------------------------
    def issue_reply_token(self, user_id: str | None = None) -> str:
        """A fresh reply token (as a webhook would carry); replies with it count as delivered to
        user_id. Needed only with strict_reply_tokens; any unused token is accepted otherwise."""
        token = secrets.token_hex(16)
        self.register_reply_token(token, user_id)
        return token

    def register_reply_token(self, token: str, user_id: str | None = None) -> None:
        with self._lock:
            self._reply_tokens[token] = user_id
            self._used_reply_tokens.discard(token)

    def add_user(self, user_id: str, display_name: str | None = None, *,
                 language: str | None = "th", picture_url: str | None = None,
                 status_message: str | None = None) -> dict:
        """A friend of the bot: has a profile, is listed in followers, receives broadcasts."""
        profile = {"userId": user_id, "displayName": display_name or f"User {user_id[-6:]}"}
        if language:
            profile["language"] = language
        if picture_url:
            profile["pictureUrl"] = picture_url
        if status_message:
            profile["statusMessage"] = status_message
        with self._lock:
            self._users[user_id] = profile
        return profile

    def remove_user(self, user_id: str) -> None:
        """The user blocked the bot: no profile, no broadcasts."""
        with self._lock:
            self._users.pop(user_id, None)

    def set_quota(self, limit: int | None, used: int = 0) -> None:
        """Monthly target limit (None: no limit, quota type "none") and messages used so far."""
        with self._lock:
            self._quota_limit, self._quota_used = limit, used

    def fail_next(self, path_or_kind: str = "*", status: int = 500, count: int = 1,
                  body: Any = None) -> None:
        """The next `count` matching requests answer `status` with `body` (default LINE-style
        error), without being accepted. path_or_kind: a kind ("push", "multicast", "reply",
        "richmenu_create", ... see _ROUTES), a spec path template, a concrete path, or "*"."""
        if body is None:
            body = {"message": SERVER_ERROR if status >= 500 else f"Injected error {status}"}
        with self._lock:
            self._faults.append(_Fault(_matcher(path_or_kind), count, status=status, body=body))

    def hang_next(self, path_or_kind: str = "*", seconds: float = 30.0, count: int = 1,
                  *, then_accept: bool = True) -> None:
        """The next `count` matching requests wait `seconds` before being handled (the client
        may have timed out; if then_accept, the request is then processed normally, as LINE
        would). stop() cuts the wait short; the connection is then closed without an answer."""
        with self._lock:
            self._faults.append(_Fault(_matcher(path_or_kind), count, seconds=seconds,
                                       mode="hang" if then_accept else "hang_drop"))

    def fail_after_accept_next(self, path_or_kind: str = "*", count: int = 1,
                               status: int = 500) -> None:
        """The next `count` matching requests are accepted (delivered, retry key remembered,
        quota used) but answered with `status` — a retry with the same X-Line-Retry-Key then
        gets 409."""
        with self._lock:
            self._faults.append(_Fault(_matcher(path_or_kind), count, status=status,
                                       body={"message": SERVER_ERROR}, mode="after_accept"))

    def rate_limit(self, path_or_kind: str, per_second: float | None = 200,
                   burst: float | None = None) -> None:
        """Token bucket per path/kind: beyond `per_second` (burst: bucket size, default
        per_second) answers 429. per_second=None removes the limit."""
        with self._lock:
            if per_second is None:
                self._buckets.pop(path_or_kind, None)
            else:
                cap = max(1.0, float(burst if burst is not None else per_second))
                self._buckets[path_or_kind] = (_matcher(path_or_kind), _Bucket(per_second, cap))

    def clear_faults(self) -> None:
        """Remove pending fail/hang/after-accept faults and rate limits; requests currently
        hanging are dropped (connection closed, nothing delivered)."""
        self._release_hangs()
        with self._lock:
            self._faults.clear()
            self._buckets.clear()

    # -- records ----------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, path_or_kind: str) -> list[Call]:
        m = _matcher(path_or_kind)
        return [c for c in self.calls if m(c.kind or "", c.template, c.path)]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def _bodies(self, kind: str) -> list[dict]:
        return [d.body for d in self.deliveries if d.kind == kind]

    def replies(self) -> list[dict]:
        """Accepted reply request bodies ({"replyToken", "messages", ...}), in order."""
        return self._bodies("reply")

    def pushes(self) -> list[dict]:
        return self._bodies("push")

    def multicasts(self) -> list[dict]:
        return self._bodies("multicast")

    def broadcasts(self) -> list[dict]:
        return self._bodies("broadcast")

    def narrowcasts(self) -> list[dict]:
        return self._bodies("narrowcast")

    def delivered(self, user_id: str) -> list[dict]:
        """Every message `user_id` received (push, multicast, broadcast to friends, and replies
        with tokens issued for that user), in order; each accepted request counts once."""
        with self._lock:
            return list(self._by_user.get(user_id, ()))

    def delivered_texts(self, user_id: str) -> list[str]:
        return [m.get("text", "") for m in self.delivered(user_id) if m.get("type") == "text"]

    def wait_for(self, path_or_kind: str, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until at least `count` requests matching have been answered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([c for c in self.calls_to(path_or_kind) if c.status is not None]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    @property
    def quota_used(self) -> int:
        with self._lock:
            return self._quota_used

    @property
    def default_richmenu(self) -> str | None:
        with self._lock:
            return self._default_richmenu

    @property
    def richmenus(self) -> dict[str, dict]:
        with self._lock:
            return {k: dict(v) for k, v in self._richmenus.items()}

    def richmenu_image(self, rich_menu_id: str) -> tuple[str, bytes] | None:
        """(content type, bytes) of the uploaded image, or None."""
        with self._lock:
            return self._richmenu_images.get(rich_menu_id)

    # -- HTTP handling ----------------------------------------------------------------------------
    def _serve(self, h: _Handler) -> None:
        request_id = str(uuid.uuid4())
        split = urlsplit(h.path)
        path = split.path.rstrip("/") or "/"
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = h.rfile.read(length) if 0 < length <= MAX_BODY else b""
        parsed: Any = None
        if body and "json" in headers.get("content-type", "application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = ...                 # marks unparsable JSON
        route = _route(h.command, path)
        call = Call(h.command, path, parse_qs(split.query), headers,
                    None if parsed is ... else parsed, body, time.time(),
                    kind=route[0] if route else None, template=route[1] if route else "",
                    request_id=request_id)
        with self._lock:
            call.generation = self._gen
            self._calls.append(call)
        extra: dict[str, str] = {}
        status: int | None
        try:
            if length > MAX_BODY:
                h.close_connection = True
                raise _HttpError(413, {"message": "Request entity too large"})
            if route is None:
                raise _HttpError(404, {"message": NOT_FOUND})
            kind, template, params = route
            status, resp = self._dispatch(call, kind, template, params, parsed, headers)
        except _HttpError as e:
            status, resp, extra = e.status, e.body, e.headers
        except _ValidationErrors as e:
            status, resp = 400, {"message": e.message}
            if e.details:
                resp["details"] = e.details
        except _Dropped:
            status, resp = None, None
        if status is None:                    # stopped while hanging: no answer
            h.close_connection = True
            self._finish(call, 0, None)
            return
        if isinstance(resp, (bytes, bytearray)):
            payload, ctype = bytes(resp), extra.pop("content-type", "application/octet-stream")
        else:
            payload, ctype = json.dumps(resp, ensure_ascii=False).encode(), "application/json"
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(payload)))
            h.send_header("x-line-request-id", request_id)
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(payload)
            h.wfile.flush()
        except OSError:                        # client gave up (timeout) or stop()
            h.close_connection = True
        self._finish(call, status, resp)

    def _finish(self, call: Call, status: int, resp: Any) -> None:
        with self._cond:
            call.status, call.response = status, resp
            self._cond.notify_all()

    def _take_fault(self, kind: str, template: str, path: str, modes: tuple) -> _Fault | None:
        with self._lock:
            for f in self._faults:
                if f.mode in modes and f.count > 0 and f.match(kind, template, path):
                    f.count -= 1
                    if f.count <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _dispatch(self, call: Call, kind: str, template: str, params: list[str], parsed: Any,
                  headers: dict) -> tuple[int, Any]:
        f = self._take_fault(kind, template, call.path, ("fail",))
        if f is not None:
            raise _HttpError(f.status, f.body)
        f = self._take_fault(kind, template, call.path, ("hang", "hang_drop"))
        if f is not None:
            with self._lock:
                cancel = self._hang_cancel
            if cancel.wait(f.seconds) or self._stop.is_set() or f.mode == "hang_drop":
                raise _Dropped()
        self._check_auth(headers)
        with self._lock:
            for _, (m, bucket) in self._buckets.items():
                if m(kind, template, call.path) and not bucket.take():
                    raise _HttpError(429, {"message": RATE_LIMITED})
        if parsed is ...:
            raise _HttpError(400, {"message": "The request body could not be parsed as JSON"})
        handler = getattr(self, "_h_" + kind)
        return handler(call, params, parsed if parsed is not None else {}, headers)

    def _check_auth(self, headers: dict) -> None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth or scheme.lower() != "bearer":
            raise _HttpError(401, {"message": AUTH_REQUIRED})
        token = token.strip()
        if not token or (self.token is not None and token != self.token):
            raise _HttpError(401, {"message": AUTH_FAILED})

    # -- message validation -----------------------------------------------------------------------
    def _validate_messages(self, body: dict, errs: list[dict]) -> None:
        msgs = body.get("messages")
        if msgs is None:
            errs.append({"message": "must be specified", "property": "messages"})
            return
        if not isinstance(msgs, list):
            errs.append({"message": "must be an array", "property": "messages"})
            return
        if not 1 <= len(msgs) <= MAX_MESSAGES:
            errs.append({"message": f"Size must be between 1 and {MAX_MESSAGES}",
                         "property": "messages"})
        for i, m in enumerate(msgs):
            _validate_message(m, f"messages[{i}]", errs)

    def _check_retry_key(self, kind: str, headers: dict) -> str | None:
        key = headers.get("x-line-retry-key")
        if key is None:
            return None
        if kind not in SEND_KINDS:
            raise _HttpError(400, {"message": "The X-Line-Retry-Key header cannot be used "
                                              "with this API"})
        if not UUID_RE.match(key.strip()):
            raise _HttpError(400, {"message": "The value for the 'X-Line-Retry-Key' header "
                                              "is invalid"})
        return key.strip().lower()

    def _sent(self, messages: list[dict], quote: bool) -> list[dict]:
        out = []
        for m in messages:
            self._msg_id += 1
            item = {"id": str(self._msg_id)}
            if quote and m.get("type") in ("text", "textV2", "sticker"):
                item["quoteToken"] = secrets.token_urlsafe(32)
            out.append(item)
        return out

    def _accept(self, call: Call, kind: str, body: dict, recipients: list[str],
                retry_key: str | None, quota_count: int) -> tuple[list[dict], _Fault | None]:
        """Under the lock: 409 on an accepted retry key, 429 over quota, else record delivery."""
        with self._lock:
            self._check_generation(call)
            if retry_key is not None and retry_key in self._retry_keys:
                accepted_id, sent = self._retry_keys[retry_key]
                resp = {"message": RETRY_KEY_ACCEPTED}
                if kind == "push":
                    resp["sentMessages"] = sent
                raise _HttpError(409, resp, {"x-line-accepted-request-id": accepted_id})
            if (quota_count and self._quota_limit is not None
                    and self._quota_used + quota_count > self._quota_limit):
                raise _HttpError(429, {"message": MONTHLY_LIMIT})
            after = self._take_fault(kind, call.template, call.path, ("after_accept",))
            messages = body["messages"]
            sent = self._sent(messages, quote=kind in ("reply", "push"))
            self._quota_used += quota_count
            self._deliveries.append(Delivery(kind, recipients, messages, body, call.request_id,
                                             retry_key, time.time()))
            for uid in recipients:
                self._by_user.setdefault(uid, []).extend(messages)
            if retry_key is not None:
                self._retry_keys[retry_key] = (call.request_id, sent)
            call.accepted = True
            return sent, after

    def _check_generation(self, call: Call) -> None:
        if call.generation != self._gen:     # arrived before reset(): belongs to no test now
            raise _Dropped()

    @staticmethod
    def _raise_after(after: _Fault | None) -> None:
        if after is not None:
            raise _HttpError(after.status, after.body)

    def _check_to(self, to: Any, prop: str, errs: list[dict], rx: re.Pattern) -> None:
        if not isinstance(to, str) or not to:
            errs.append({"message": "must be specified", "property": prop})
        elif self.strict_users and not rx.match(to):
            errs.append({"message": "The value is not a valid id", "property": prop})

    # -- handlers ---------------------------------------------------------------------------------
    def _h_reply(self, call, params, body, headers):
        if headers.get("x-line-retry-key") is not None:
            raise _HttpError(400, {"message": "The X-Line-Retry-Key header cannot be used "
                                              "with reply messages"})
        errs: list[dict] = []
        token = body.get("replyToken")
        if not isinstance(token, str) or not token:
            errs.append({"message": "must be specified", "property": "replyToken"})
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        with self._lock:
            self._check_generation(call)
            if token in self._used_reply_tokens:
                raise _HttpError(400, {"message": INVALID_REPLY_TOKEN})
            if token in self._reply_tokens:
                user = self._reply_tokens.pop(token)
            elif self.strict_reply_tokens:
                raise _HttpError(400, {"message": INVALID_REPLY_TOKEN})
            else:
                user = None
            self._used_reply_tokens.add(token)
            sent, after = self._accept(call, "reply", body, [user] if user else [], None, 0)
        self._raise_after(after)
        return 200, {"sentMessages": sent}

    def _h_push(self, call, params, body, headers):
        key = self._check_retry_key("push", headers)
        errs: list[dict] = []
        self._check_to(body.get("to"), "to", errs, CHAT_ID_RE)
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        sent, after = self._accept(call, "push", body, [body["to"]], key, 1)
        self._raise_after(after)
        return 200, {"sentMessages": sent}

    def _h_multicast(self, call, params, body, headers):
        key = self._check_retry_key("multicast", headers)
        errs: list[dict] = []
        to = body.get("to")
        if to is None:
            errs.append({"message": "must be specified", "property": "to"})
        elif not isinstance(to, list):
            errs.append({"message": "must be an array", "property": "to"})
        else:
            if not 1 <= len(to) <= MAX_MULTICAST:
                errs.append({"message": f"Size must be between 1 and {MAX_MULTICAST}",
                             "property": "to"})
            for i, uid in enumerate(to[:MAX_MULTICAST + 1]):
                self._check_to(uid, f"to[{i}]", errs, USER_ID_RE)
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        recipients = list(dict.fromkeys(to))
        _, after = self._accept(call, "multicast", body, recipients, key, len(recipients))
        self._raise_after(after)
        return 200, {}

    def _h_broadcast(self, call, params, body, headers):
        key = self._check_retry_key("broadcast", headers)
        errs: list[dict] = []
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        with self._lock:
            recipients = list(self._users)
        _, after = self._accept(call, "broadcast", body, recipients, key, len(recipients))
        self._raise_after(after)
        return 200, {}

    def _h_narrowcast(self, call, params, body, headers):
        key = self._check_retry_key("narrowcast", headers)
        errs: list[dict] = []
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        with self._lock:   # audiences/filters aren't modelled: no recipient, or all friends
            everyone = not body.get("recipient") and not body.get("filter")
            recipients = list(self._users) if everyone else []
            self._narrowcasts[call.request_id] = time.time()
        _, after = self._accept(call, "narrowcast", body, recipients, key, len(recipients))
        self._raise_after(after)
        return 202, {}

    def _h_narrowcast_progress(self, call, params, body, headers):
        rid = (call.query.get("requestId") or [""])[0]
        with self._lock:
            t = self._narrowcasts.get(rid)
        if t is None:
            raise _HttpError(404, {"message": NOT_FOUND})
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
        return 200, {"phase": "succeeded", "successCount": 0, "failureCount": 0,
                     "targetCount": 0, "acceptedTime": stamp, "completedTime": stamp}

    def _validate_only(self, body, extra: Callable[[list], None] | None = None):
        errs: list[dict] = []
        if extra:
            extra(errs)
        self._validate_messages(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        return 200, {}

    def _h_validate_reply(self, call, params, body, headers):
        return self._validate_only(body)

    _h_validate_push = _h_validate_multicast = _h_validate_reply
    _h_validate_narrowcast = _h_validate_broadcast = _h_validate_reply

    def _h_quota(self, call, params, body, headers):
        with self._lock:
            if self._quota_limit is None:
                return 200, {"type": "none"}
            return 200, {"type": "limited", "value": self._quota_limit}

    def _h_quota_consumption(self, call, params, body, headers):
        return 200, {"totalUsage": self.quota_used}

    def _h_profile(self, call, params, body, headers):
        uid = params[0]
        with self._lock:
            profile = self._users.get(uid)
        if profile is None:
            if self.strict_users or not uid.startswith("U"):   # lenient: any "U..." id
                raise _HttpError(404, {"message": NOT_FOUND})
            profile = {"userId": uid, "displayName": f"User {uid[-6:]}", "language": "th"}
        return 200, profile

    def _h_followers(self, call, params, body, headers):
        limit = int((call.query.get("limit") or ["300"])[0])
        if not 1 <= limit <= 1000:
            raise _ValidationErrors([{"message": "Must be between 1 and 1000",
                                      "property": "limit"}])
        start = int((call.query.get("start") or ["0"])[0] or 0)
        with self._lock:
            ids = list(self._users)
        page = {"userIds": ids[start:start + limit]}
        if start + limit < len(ids):
            page["next"] = str(start + limit)
        return 200, page

    def _h_bot_info(self, call, params, body, headers):
        return 200, dict(self.bot_info)

    def _h_loading(self, call, params, body, headers):
        errs: list[dict] = []
        self._check_to(body.get("chatId"), "chatId", errs, USER_ID_RE)
        secs = body.get("loadingSeconds", 20)
        if not isinstance(secs, int) or isinstance(secs, bool) or not 5 <= secs <= 60 \
                or secs % 5:
            errs.append({"message": "must be a multiple of 5 between 5 and 60",
                         "property": "loadingSeconds"})
        if errs:
            raise _ValidationErrors(errs)
        return 202, {}

    # rich menus ------------------------------------------------------------------------------
    def _h_richmenu_validate(self, call, params, body, headers):
        errs: list[dict] = []
        _validate_richmenu(body, errs)
        if errs:
            raise _ValidationErrors(errs)
        return 200, {}

    def _h_richmenu_create(self, call, params, body, headers):
        self._h_richmenu_validate(call, params, body, headers)
        rid = "richmenu-" + secrets.token_hex(16)
        menu = {"richMenuId": rid, "size": body["size"], "selected": body["selected"],
                "name": body["name"], "chatBarText": body["chatBarText"], "areas": body["areas"]}
        with self._lock:
            self._richmenus[rid] = menu
        return 200, {"richMenuId": rid}

    def _menu(self, rid: str) -> dict:
        with self._lock:
            menu = self._richmenus.get(rid)
        if menu is None:
            raise _HttpError(404, {"message": "Not found"})
        return menu

    def _h_richmenu_get(self, call, params, body, headers):
        return 200, dict(self._menu(params[0]))

    def _h_richmenu_delete(self, call, params, body, headers):
        self._menu(params[0])
        with self._lock:
            self._richmenus.pop(params[0], None)
            self._richmenu_images.pop(params[0], None)
            if self._default_richmenu == params[0]:
                self._default_richmenu = None
        return 200, {}

    def _h_richmenu_list(self, call, params, body, headers):
        with self._lock:
            return 200, {"richmenus": [dict(m) for m in self._richmenus.values()]}

    def _h_richmenu_content(self, call, params, body, headers):
        menu = self._menu(params[0])
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("image/png", "image/jpeg"):
            raise _HttpError(415, {"message": "Unsupported Media Type: content type must be "
                                              "image/png or image/jpeg"})
        data = call.body
        if not data:
            raise _HttpError(400, {"message": "The request body is empty"})
        if len(data) > MAX_RICHMENU_IMAGE:
            raise _HttpError(413, {"message": "The image size must be 1 MB or less"})
        size = _image_size(data, ctype)
        if size is None:
            raise _HttpError(400, {"message": f"The image is not a valid {ctype}"})
        want = (menu["size"]["width"], menu["size"]["height"])
        if size != want:
            raise _HttpError(400, {"message": f"The image size {size[0]}x{size[1]} must match "
                                              f"the rich menu size {want[0]}x{want[1]}"})
        with self._lock:
            if params[0] in self._richmenu_images:
                raise _HttpError(400, {"message": "An image has already been uploaded to the "
                                                  "richmenu"})
            self._richmenu_images[params[0]] = (ctype, data)
        return 200, {}

    def _h_richmenu_content_get(self, call, params, body, headers):
        self._menu(params[0])
        img = self.richmenu_image(params[0])
        if img is None:
            raise _HttpError(404, {"message": "Not found"})
        raise _HttpError(200, img[1], {"content-type": img[0]})

    def _h_richmenu_default_set(self, call, params, body, headers):
        self._menu(params[0])
        if self.richmenu_image(params[0]) is None:
            raise _HttpError(400, {"message": "must upload richmenu image before applying it "
                                              "to user"})
        with self._lock:
            self._default_richmenu = params[0]
        return 200, {}

    def _h_richmenu_default_get(self, call, params, body, headers):
        rid = self.default_richmenu
        if rid is None:
            raise _HttpError(404, {"message": "no default richmenu"})
        return 200, {"richMenuId": rid}

    def _h_richmenu_default_delete(self, call, params, body, headers):
        with self._lock:
            self._default_richmenu = None
        return 200, {}


class _Dropped(Exception):
    """Stopped while hanging (or hang_drop): close the connection without answering."""


# ----------------------------------------------------------------------------------------------
# Validation of message / action / rich menu objects (LINE's documented limits)
def _need(obj: dict, key: str, prop: str, errs: list[dict]) -> Any:
    v = obj.get(key)
    if v is None or v == "":
        errs.append({"message": "must be specified" if v is None else "may not be empty",
                     "property": f"{prop}.{key}"})
    return v


def _maxlen(obj: dict, key: str, n: int, prop: str, errs: list[dict], required=False) -> None:
    v = obj.get(key)
    if v is None:
        if required:
            errs.append({"message": "must be specified", "property": f"{prop}.{key}"})
        return
    if not isinstance(v, str):
        errs.append({"message": "must be a string", "property": f"{prop}.{key}"})
    elif required and v == "":
        errs.append({"message": "may not be empty", "property": f"{prop}.{key}"})
    elif _strlen(v) > n:
        errs.append({"message": f"Length must be between 0 and {n}", "property": f"{prop}.{key}"})


def _https(obj: dict, key: str, prop: str, errs: list[dict], required=True, n=2000) -> None:
    v = obj.get(key)
    if v is None:
        if required:
            errs.append({"message": "must be specified", "property": f"{prop}.{key}"})
        return
    if not isinstance(v, str) or not v.startswith("https://"):
        errs.append({"message": "must be a valid HTTPS URL", "property": f"{prop}.{key}"})
    elif len(v) > n:
        errs.append({"message": f"Length must be between 0 and {n}", "property": f"{prop}.{key}"})


def _validate_action(a: Any, prop: str, errs: list[dict], label_required: bool,
                     label_max: int | None = MAX_LABEL) -> None:
    if not isinstance(a, dict):
        errs.append({"message": "must be specified", "property": prop})
        return
    t = a.get("type")
    if t not in ACTION_TYPES:
        errs.append({"message": "must be one of the following values: "
                                f"[{', '.join(ACTION_TYPES)}]", "property": f"{prop}.type"})
        return
    if label_max is not None:
        _maxlen(a, "label", label_max, prop, errs, required=label_required)
    if t == "postback":
        _maxlen(a, "data", MAX_POSTBACK_DATA, prop, errs, required=True)
        _maxlen(a, "displayText", 300, prop, errs)
        _maxlen(a, "text", 300, prop, errs)
    elif t == "message":
        _maxlen(a, "text", 300, prop, errs, required=True)
    elif t == "uri":
        _maxlen(a, "uri", 1000, prop, errs, required=True)
        uri = a.get("uri")
        if isinstance(uri, str) and not re.match(r"^(https?|line|tel):", uri):
            errs.append({"message": "must be a valid URI (http, https, line, tel)",
                         "property": f"{prop}.uri"})
    elif t == "datetimepicker":
        _maxlen(a, "data", MAX_POSTBACK_DATA, prop, errs, required=True)
        if a.get("mode") not in ("date", "time", "datetime"):
            errs.append({"message": "must be one of the following values: [date, time, "
                                    "datetime]", "property": f"{prop}.mode"})
    elif t == "richmenuswitch":
        _need(a, "richMenuAliasId", prop, errs)
        _maxlen(a, "data", MAX_POSTBACK_DATA, prop, errs, required=True)
    elif t == "clipboard":
        _maxlen(a, "clipboardText", 1000, prop, errs, required=True)


def _walk_flex_actions(node: Any, prop: str, errs: list[dict]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "action" and isinstance(v, dict):
                _validate_action(v, f"{prop}.action", errs, label_required=False,
                                 label_max=None)
            else:
                _walk_flex_actions(v, f"{prop}.{k}", errs)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_flex_actions(v, f"{prop}[{i}]", errs)


def _validate_message(m: Any, prop: str, errs: list[dict]) -> None:
    if not isinstance(m, dict):
        errs.append({"message": "must be an object", "property": prop})
        return
    t = m.get("type")
    if t not in MESSAGE_TYPES:
        errs.append({"message": "must be one of the following values: "
                                f"[{', '.join(MESSAGE_TYPES)}]", "property": f"{prop}.type"})
        return
    qr = m.get("quickReply")
    if qr is not None:
        items = qr.get("items") if isinstance(qr, dict) else None
        if not isinstance(items, list):
            errs.append({"message": "must be specified", "property": f"{prop}.quickReply.items"})
        else:
            if not 1 <= len(items) <= MAX_QUICK_REPLY:
                errs.append({"message": f"Size must be between 1 and {MAX_QUICK_REPLY}",
                             "property": f"{prop}.quickReply.items"})
            for i, it in enumerate(items):
                ip = f"{prop}.quickReply.items[{i}]"
                if not isinstance(it, dict) or it.get("type", "action") != "action":
                    errs.append({"message": "must be 'action'", "property": f"{ip}.type"})
                    continue
                if it.get("imageUrl") is not None:
                    _https(it, "imageUrl", ip, errs)
                _validate_action(it.get("action"), f"{ip}.action", errs, label_required=True)
    sender = m.get("sender")
    if isinstance(sender, dict):
        _maxlen(sender, "name", 20, f"{prop}.sender", errs)
        if sender.get("iconUrl") is not None:
            _https(sender, "iconUrl", f"{prop}.sender", errs)
    if t in ("text", "textV2"):
        _maxlen(m, "text", MAX_TEXT, prop, errs, required=True)
        if isinstance(m.get("emojis"), list) and len(m["emojis"]) > 20:
            errs.append({"message": "Size must be between 0 and 20",
                         "property": f"{prop}.emojis"})
    elif t == "sticker":
        _need(m, "packageId", prop, errs)
        _need(m, "stickerId", prop, errs)
    elif t in ("image", "video"):
        _https(m, "originalContentUrl", prop, errs)
        _https(m, "previewImageUrl", prop, errs)
    elif t == "audio":
        _https(m, "originalContentUrl", prop, errs)
        _need(m, "duration", prop, errs)
    elif t == "location":
        _maxlen(m, "title", 100, prop, errs, required=True)
        _maxlen(m, "address", 100, prop, errs, required=True)
        _need(m, "latitude", prop, errs)
        _need(m, "longitude", prop, errs)
    elif t == "imagemap":
        _https(m, "baseUrl", prop, errs)
        _maxlen(m, "altText", 1500, prop, errs, required=True)
        _need(m, "baseSize", prop, errs)
        acts = m.get("actions")
        if not isinstance(acts, list) or not 1 <= len(acts) <= 50:
            errs.append({"message": "Size must be between 1 and 50",
                         "property": f"{prop}.actions"})
    elif t == "template":
        _maxlen(m, "altText", MAX_TEMPLATE_ALT, prop, errs, required=True)
        tpl = _need(m, "template", prop, errs)
        if isinstance(tpl, dict):
            _validate_template(tpl, f"{prop}.template", errs)
    elif t == "flex":
        _maxlen(m, "altText", MAX_FLEX_ALT, prop, errs, required=True)
        c = m.get("contents")
        if c is None:
            errs.append({"message": "must be specified", "property": f"{prop}.contents"})
        elif not isinstance(c, dict) or c.get("type") not in ("bubble", "carousel"):
            errs.append({"message": "must be one of the following values: [bubble, carousel]",
                         "property": f"{prop}.contents.type"})
        else:
            size = len(json.dumps(c, ensure_ascii=False).encode())
            if c["type"] == "carousel":
                bubbles = c.get("contents")
                if not isinstance(bubbles, list) or not 1 <= len(bubbles) <= 12:
                    errs.append({"message": "Size must be between 1 and 12",
                                 "property": f"{prop}.contents.contents"})
                if size > 50_000:
                    errs.append({"message": "The carousel JSON must be 50 KB or less",
                                 "property": f"{prop}.contents"})
            elif size > 30_000:
                errs.append({"message": "The bubble JSON must be 30 KB or less",
                             "property": f"{prop}.contents"})
            _walk_flex_actions(c, f"{prop}.contents", errs)


def _validate_template(tpl: dict, prop: str, errs: list[dict]) -> None:
    t = tpl.get("type")
    if t == "buttons":
        limit = 60 if (tpl.get("title") or tpl.get("thumbnailImageUrl")) else 160
        _maxlen(tpl, "text", limit, prop, errs, required=True)
        _maxlen(tpl, "title", 40, prop, errs)
        acts = tpl.get("actions")
        if not isinstance(acts, list) or not 1 <= len(acts) <= 4:
            errs.append({"message": "Size must be between 1 and 4", "property": f"{prop}.actions"})
        else:
            for i, a in enumerate(acts):
                _validate_action(a, f"{prop}.actions[{i}]", errs, label_required=True)
    elif t == "confirm":
        _maxlen(tpl, "text", 240, prop, errs, required=True)
        acts = tpl.get("actions")
        if not isinstance(acts, list) or len(acts) != 2:
            errs.append({"message": "Size must be between 2 and 2", "property": f"{prop}.actions"})
        else:
            for i, a in enumerate(acts):
                _validate_action(a, f"{prop}.actions[{i}]", errs, label_required=True)
    elif t in ("carousel", "image_carousel"):
        cols = tpl.get("columns")
        if not isinstance(cols, list) or not 1 <= len(cols) <= 10:
            errs.append({"message": "Size must be between 1 and 10", "property": f"{prop}.columns"})
    else:
        errs.append({"message": "must be one of the following values: [buttons, confirm, "
                                "carousel, image_carousel]", "property": f"{prop}.type"})


def _validate_richmenu(body: dict, errs: list[dict]) -> None:
    size = body.get("size")
    if not isinstance(size, dict):
        errs.append({"message": "must be specified", "property": "size"})
        size = None
    else:
        w, h = size.get("width"), size.get("height")
        if not isinstance(w, int) or not isinstance(h, int):
            errs.append({"message": "must be specified", "property": "size"})
            size = None
        elif not (800 <= w <= 2500 and h >= 250 and w / h >= 1.45):
            errs.append({"message": "invalid size: width must be 800 to 2500, height 250 or "
                                    "more, width/height 1.45 or more (e.g. 2500x1686, "
                                    "2500x843)", "property": "size"})
            size = None
    if not isinstance(body.get("selected"), bool):
        errs.append({"message": "must be specified", "property": "selected"})
    _maxlen(body, "name", 300, "", errs, required=True)
    _maxlen(body, "chatBarText", 14, "", errs, required=True)
    for e in errs:
        if e.get("property", "").startswith("."):
            e["property"] = e["property"][1:]
    areas = body.get("areas")
    if not isinstance(areas, list):
        errs.append({"message": "must be specified", "property": "areas"})
        return
    if len(areas) > MAX_RICHMENU_AREAS:
        errs.append({"message": f"Size must be between 0 and {MAX_RICHMENU_AREAS}",
                     "property": "areas"})
    for i, area in enumerate(areas):
        ap = f"areas[{i}]"
        if not isinstance(area, dict):
            errs.append({"message": "must be an object", "property": ap})
            continue
        b = area.get("bounds")
        if not isinstance(b, dict) or not all(isinstance(b.get(k), int)
                                              for k in ("x", "y", "width", "height")):
            errs.append({"message": "must be specified", "property": f"{ap}.bounds"})
        elif size is not None and (b["x"] < 0 or b["y"] < 0 or b["width"] < 1
                                   or b["height"] < 1
                                   or b["x"] + b["width"] > size["width"]
                                   or b["y"] + b["height"] > size["height"]):
            errs.append({"message": "The area is out of the rich menu", "property":
                         f"{ap}.bounds"})
        _validate_action(area.get("action"), f"{ap}.action", errs, label_required=False)
