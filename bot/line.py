"""The one module that calls LINE's Messaging API (line-bot-sdk v3).

It turns the core's message dicts into SDK models within LINE's limits, sets explicit
timeouts, and logs LINE's x-line-request-id on errors, never a message text.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from linebot.__about__ import __version__ as SDK_VERSION
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    Message,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
)

from bot.fmt import line_length, shorten, within
from bot.limits import (
    MAX_ACTION_TEXT,
    MAX_ALT_TEXT,
    MAX_LABEL,
    MAX_MESSAGES,
    MAX_MULTICAST,
    MAX_POSTBACK_DATA,
    MAX_QUICK_REPLIES,
    MAX_TEXT,
    REPLY_TOKEN_LIFETIME,
)

log = logging.getLogger(__name__)

LINE_API = "https://api.line.me"
REPLY_PATH = "/v2/bot/message/reply"
# Background threads (and kept-open connections) that send replies, per process.
REPLY_THREADS = 4


@dataclass
class SendResult:
    """What LINE answered: status 0 means no answer (timeout or connection error)."""

    status: int
    request_id: str | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def already_accepted(self) -> bool:
        """409 on a retry key: LINE accepted this request before."""
        return self.status == 409


def _split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a long text at paragraph, line or word boundaries into parts within limit."""
    parts: list[str] = []
    rest = text
    while line_length(rest) > limit:
        window = within(rest, limit)
        n = len(window)
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < n // 2:
            cut = n
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _fit_quick_reply(quick: dict[str, Any] | None) -> dict[str, Any] | None:
    if not quick:
        return None
    items = []
    for item in quick.get("items", []):
        action = dict(item.get("action", {}))
        if "label" in action:
            action["label"] = shorten(action["label"], MAX_LABEL)
        if action.get("type") == "message":
            action["text"] = shorten(action.get("text", ""), MAX_ACTION_TEXT)
        if action.get("type") == "postback" and len(action.get("data", "")) > MAX_POSTBACK_DATA:
            log.warning("dropped a quick reply whose postback data is over %d characters", MAX_POSTBACK_DATA)
            continue
        if "displayText" in action:
            action["displayText"] = shorten(action["displayText"], MAX_ACTION_TEXT)
        items.append({**item, "action": action})
    items = items[:MAX_QUICK_REPLIES]
    return {"items": items} if items else None


def fit_to_limits(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same messages, split or shortened so LINE accepts them in one request."""
    out: list[dict[str, Any]] = []
    quick = None
    for m in messages:
        m = dict(m)
        quick = _fit_quick_reply(m.pop("quickReply", None)) or quick
        if m.get("type") == "text":
            if not m.get("text", "").strip():
                continue
            out.extend({**m, "text": part} for part in _split_text(m["text"]))
        elif m.get("type") == "flex":
            out.append({**m, "altText": shorten(m.get("altText") or "ข้อความ", MAX_ALT_TEXT)})
        else:
            out.append(m)
    if len(out) > MAX_MESSAGES:
        head, tail = out[: MAX_MESSAGES - 1], out[MAX_MESSAGES - 1:]
        texts = [m["text"] for m in tail if m.get("type") == "text"]
        dropped = len(tail) - len(texts)
        if dropped:
            log.warning("dropped %d non-text messages over LINE's limit of %d", dropped, MAX_MESSAGES)
        if texts:
            head.append({"type": "text", "text": shorten("\n\n".join(texts), MAX_TEXT)})
        else:
            head.append(tail[0])
        out = head
    if out and quick:
        out[-1] = {**out[-1], "quickReply": quick}  # LINE shows only the last message's quick reply
    return out


def _key(messages: list[dict[str, Any]]) -> str:
    # The messages' own JSON is the cache key: the same answer from the same code serialises the
    # same way, and a differently ordered copy only costs a cache miss. Message dicts hold no
    # cycles, and skipping that check makes the key a third cheaper.
    return json.dumps(messages, ensure_ascii=False, check_circular=False)


def to_sdk(messages: list[dict[str, Any]]) -> list[Message]:
    """SDK models of the messages, within LINE's limits."""
    return list(_to_sdk_cached(_key(messages)))


@functools.lru_cache(maxsize=512)
def _to_sdk_cached(key: str) -> tuple[Message, ...]:
    # Most replies are the same few answers; building pydantic models is the costly part.
    return tuple(Message.from_dict(m) for m in fit_to_limits(json.loads(key)))


def to_wire(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON LINE receives for these messages: fitted, validated by the SDK's models once."""
    return _to_wire_cached(_key(messages))


@functools.lru_cache(maxsize=512)
def _to_wire_cached(key: str) -> list[dict[str, Any]]:
    return [m.to_dict() for m in _to_sdk_cached(key)]


@functools.lru_cache(maxsize=512)
def _wire_text_cached(key: str) -> str:
    return json.dumps(_to_wire_cached(key), ensure_ascii=False, separators=(",", ":"))


def reply_body(reply_token: str, messages: list[dict[str, Any]]) -> bytes | None:
    """The body of a reply request (None when there is nothing to send): the messages fitted,
    validated by the SDK's models and serialised once per distinct answer."""
    wire = _wire_text_cached(_key(messages))
    if wire == "[]":
        return None
    return ('{"replyToken":%s,"messages":%s}' % (json.dumps(reply_token), wire)).encode()


class _WireMulticast(MulticastRequest):  # type: ignore[misc]  # the SDK is untyped for mypy
    """A multicast whose messages were serialised once for the whole campaign."""

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.to, "messages": self.__dict__["_wire"]}


class LineClient:
    """LINE's Messaging API with the project's timeouts; one per process."""

    def __init__(self, base_url: str, access_token: str, connect_timeout: float = 2.0,
                 read_timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.timeout = (connect_timeout, read_timeout)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._api: MessagingApi | None = None
        self._blob: MessagingApiBlob | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._http: urllib3.HTTPConnectionPool | None = None
        self._reply_url = urlsplit(self.base_url).path + REPLY_PATH
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json",
                         "User-Agent": f"line-bot-sdk-python/{SDK_VERSION}"}
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._pending: set[Future[SendResult]] = set()

    def _ensure(self) -> None:
        # Connection pools and threads must not cross a fork (gunicorn --preload).
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # With LINE's own address, each API keeps its host (uploads go to api-data.line.me);
            # any other base URL (the tests' fake LINE) takes every call.
            host = None if self.base_url == LINE_API else self.base_url
            cfg = Configuration(host=host, access_token=self.access_token)
            cfg.retries = urllib3.Retry(total=0, redirect=0, raise_on_status=False)
            cfg.connection_pool_maxsize = 16
            client = ApiClient(cfg)
            self._api, self._blob = MessagingApi(client), MessagingApiBlob(client)
            self._pool = ThreadPoolExecutor(max_workers=REPLY_THREADS, thread_name_prefix="line-reply")
            # Replies skip the SDK's per-call machinery (argument validation, serialisation of
            # models): the body is prepared JSON, sent on connections kept open to LINE.
            self._http = urllib3.PoolManager(maxsize=REPLY_THREADS, retries=False).connection_from_url(self.base_url)
            self._pending = set()
            self._pid = os.getpid()

    @property
    def api(self) -> MessagingApi:
        self._ensure()
        assert self._api is not None
        return self._api

    @property
    def blob_api(self) -> MessagingApiBlob:
        self._ensure()
        assert self._blob is not None
        return self._blob

    def _call(self, what: str, fn, *args, timeout=None, **kwargs) -> SendResult:  # type: ignore[no-untyped-def]
        try:
            resp = fn(*args, _request_timeout=timeout or self.timeout, **kwargs)
        except ApiException as e:
            headers = e.headers or {}
            request_id = headers.get("x-line-request-id")
            retry_after = None
            if headers.get("retry-after"):
                try:
                    retry_after = float(headers["retry-after"])
                except ValueError:
                    retry_after = None
            # LINE's error body names properties, never the resident's words; keep it short.
            log.warning("LINE %s failed: status=%s x-line-request-id=%s error=%s", what, e.status,
                        request_id, (e.body or e.reason or "")[:200] if isinstance(e.body or e.reason, str) else "")
            return SendResult(e.status or 0, request_id, str(e.reason or e.status), retry_after)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            log.warning("LINE %s got no answer: %s", what, type(e).__name__)
            return SendResult(0, None, type(e).__name__)
        return SendResult(resp.status_code, (resp.headers or {}).get("x-line-request-id"))

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> SendResult:
        """Reply once; a retry after no answer is safe because reply tokens are single use."""
        body = reply_body(reply_token, messages)
        if body is None:
            return SendResult(200)
        result = self._post("reply", self._reply_url, body)
        if result.status == 0 or result.status >= 500:
            result = self._post("reply (retry)", self._reply_url, body)
        return result

    def _post(self, what: str, url: str, body: bytes) -> SendResult:
        """POST a prepared JSON body on the kept-open connections, with the client's timeouts."""
        self._ensure()
        assert self._http is not None
        try:
            resp = self._http.urlopen("POST", url, body=body, headers=self._headers, timeout=self._timeout,
                                      retries=False, redirect=False, preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            log.warning("LINE %s got no answer: %s", what, type(e).__name__)
            return SendResult(0, None, type(e).__name__)
        request_id = resp.headers.get("x-line-request-id")
        if 200 <= resp.status < 300:
            return SendResult(resp.status, request_id)
        retry_after = None
        if resp.headers.get("retry-after"):
            try:
                retry_after = float(resp.headers["retry-after"])
            except ValueError:
                retry_after = None
        # LINE's error body names properties, never the resident's words; keep it short.
        log.warning("LINE %s failed: status=%s x-line-request-id=%s error=%s", what, resp.status, request_id,
                    resp.data[:200].decode("utf-8", errors="replace"))
        return SendResult(resp.status, request_id, resp.reason or str(resp.status), retry_after)

    def reply_later(self, reply_token: str, messages: list[dict[str, Any]]) -> Future[SendResult]:
        """Reply from a background thread, so the webhook's answer never waits for LINE."""
        self._ensure()
        assert self._pool is not None
        future = self._pool.submit(self._reply_if_fresh, reply_token, messages, time.monotonic())
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def _reply_if_fresh(self, reply_token: str, messages: list[dict[str, Any]], queued_at: float) -> SendResult:
        # While LINE hangs, replies queue up; a token this old has expired, so don't spend a call on it.
        if time.monotonic() - queued_at > REPLY_TOKEN_LIFETIME:
            log.warning("reply dropped: it waited longer than a reply token lives")
            return SendResult(0, None, "reply token expired while queued")
        try:
            return self.reply(reply_token, messages)
        except Exception as e:  # a message the SDK refuses: a bug, not LINE's doing
            log.exception("reply not sent: %s", type(e).__name__)
            return SendResult(0, None, type(e).__name__)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait for background replies (tests, shutdown)."""
        for f in list(self._pending):
            try:
                f.result(timeout=timeout)
            except Exception:  # noqa: S110 (already logged by reply())
                pass

    def multicast_prepared(self, to: list[str], messages: list[dict[str, Any]], retry_key: str,
                           timeout: float | tuple[float, float] | None = None) -> SendResult:
        """multicast() for campaigns: `messages` are already fitted, validated and serialised
        (to_wire), so each of thousands of requests skips rebuilding them."""
        if len(to) > MAX_MULTICAST:
            raise ValueError(f"multicast takes at most {MAX_MULTICAST} user ids")
        request = _WireMulticast.construct(to=to, messages=[])
        request.__dict__["_wire"] = messages
        return self._call("multicast", self.api.multicast_with_http_info, request, timeout=timeout,
                          x_line_retry_key=retry_key)

    def basic_id(self) -> str | None:
        """The bot's basic id ("@123abcde", GET /v2/bot/info), or None when LINE does not say.
        Not for the webhook path: bot/botinfo.py calls it once, in the background."""
        if not self.access_token:
            return None
        try:
            info = self.api.get_bot_info(_request_timeout=self.timeout)
        except Exception as e:  # the SDK raises on any non-2xx or no answer
            log.warning("LINE bot info failed: %s", type(e).__name__)
            return None
        basic = getattr(info, "basic_id", None)
        return str(basic) if basic else None

    def quota(self) -> tuple[int | None, int]:
        """(monthly limit or None when unlimited, messages used this month)."""
        q = self.api.get_message_quota(_request_timeout=self.timeout)
        used = self.api.get_message_quota_consumption(_request_timeout=self.timeout)
        limit = q.value if q.type == "limited" else None
        return limit, int(used.total_usage)
