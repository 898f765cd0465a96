"""The HTTP client: one keep-alive session per source, auth, timeouts, retries, typed errors.

Retries (a tenacity policy) cover what a flaky SaaS API does: 429 (honouring
`Retry-After` when sent), 5xx, dropped connections and truncated bodies (a page
that does not parse is fetched again, never skipped). Backoff is exponential with
full jitter. 401/403 fail at once with `AuthError`; a URL no client can use fails at
once with `ClientError`. A refused connection or a host name that does not resolve is
`Unreachable`: retried `connect_retries` times, `connect_backoff_s` apart, then it
fails naming host:port, since waiting does not fix a wrong URL or a stopped server.
A body is decoded inside the retry loop by the caller's `decode` (default:
`orjson.loads`; the paginators pass a msgspec decoder that slices records without
building Python objects), so a truncated page is always retried. An optional request
budget (`RequestBudget`) keeps a client under a vendor's rate limit. No message, log
line or exception carries the credential: it lives only in the session's auth, and
every text passes through `connectors.redact` (which knows all its encodings).
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
import orjson
import requests
import urllib3
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from connectors.errors import (
    AuthError,
    ClientError,
    HttpError,
    RateLimited,
    ServerError,
    UnexpectedResponse,
    Unreachable,
)
from connectors.redact import RedactingFilter, Redactor, redact, register_secret

log = logging.getLogger("connectors.http")
log.addFilter(RedactingFilter())

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_JSON_BODY = {"Content-Type": "application/json"}
USER_AGENT = "saas-elt-connectors/0.1"


class RequestBudget:
    """At most `limit` requests in any `window_s` seconds, shared by every client holding it
    (HubSpot counts requests per app, across threads and sessions): a request waits for room
    instead of earning a 429. A request holds its place from `take()` until `window_s`
    after its `done()`: the server counts it when it arrives, which is after we send it and
    before its response ends, so our window always covers the server's. `waited_s` adds
    up the waits."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError(f"a request budget needs limit >= 1 and window_s > 0, got {limit}")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._held: deque[list[float]] = deque()  # [time done], inf while in flight
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def take(self) -> list[float]:
        """Wait for room; returns the request's place, to hand back to `done`."""
        with self._lock:  # waiting under the lock keeps the waiters in order
            while True:
                now = self._clock()
                # the same sum as `wait` below, so a wait always frees a place
                while self._held and self._held[0][0] + self.window_s <= now:
                    self._held.popleft()
                if len(self._held) < self.limit:
                    place = [math.inf]
                    self._held.append(place)
                    return place
                oldest = self._held[0][0]
                wait = oldest + self.window_s - now if oldest != math.inf else 0.05
                self._sleep(wait)
                self.waited_s += wait

    def done(self, place: list[float]) -> None:
        place[0] = self._clock()


@dataclass
class Response:
    status: int
    body: bytes
    data: Any  # the decoded JSON body (a dict, or what the caller's `decode` returns)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


class HttpClient:
    """A small, thread-safe-enough client: one session, counters for the sync log."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[str, str] | None = None,
        bearer: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 8,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        connect_retries: int = 2,
        connect_backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        budgets: Callable[[str, str], Sequence[RequestBudget]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._budgets = budgets  # (method, path) -> the budgets a request spends
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.connect_retries = connect_retries
        self.connect_backoff_s = connect_backoff_s
        self._sleep = sleep
        secrets = [s for s in ((auth[1] if auth else None), bearer) if s]
        register_secret(*secrets)  # for texts made outside this client (sync log, CLI)
        self._redactor = Redactor(secrets)
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        if auth:
            self.session.auth = auth
        if bearer:
            self.session.headers["Authorization"] = f"Bearer {bearer}"
        # proxies / CA bundle from the environment, resolved once per client: requests
        # otherwise re-reads them (and netrc) on every call, a visible share of a page's cost
        env = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
        verify = env["verify"]
        if not self.base_url.startswith("https:"):
            verify = True  # no TLS: skip the CA bundle (requests stats its path on every call)
        self._send_kwargs = {"proxies": env["proxies"], "verify": verify}
        if env.get("cert"):
            self._send_kwargs["cert"] = env["cert"]
        self.session.trust_env = False
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        # the retry policy; tenacity keeps each call's attempt state per thread
        self._retrying = Retrying(
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type((RateLimited, ServerError, Unreachable)),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            retry_error_callback=self._give_up,
        )

    # ------------------------------------------------------------------ public
    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> Response:
        return self.request("GET", path, params=params, decode=decode)

    def post(
        self,
        path: str,
        json: Any,
        *,
        params: Mapping[str, Any] | None = None,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> Response:
        return self.request("POST", path, params=params, json=json, decode=decode)

    def redact(self, text: str) -> str:
        """`text` without this client's credential, or any registered one, in any encoding."""
        return redact(self._redactor.redact(text))

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ core
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> Response:
        url = path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"
        body = orjson.dumps(json) if json is not None else None
        budgets = self._budgets(method, path) if self._budgets else ()
        return self._retrying(self._attempt, method, url, params, body, decode, budgets)

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        decode: Callable[[bytes], Any],
        budgets: Sequence[RequestBudget],
    ) -> Response:
        """One try: a Response, or a typed error (`_Retryable` ones are tried again)."""
        places = [(budget, budget.take()) for budget in budgets]
        with self._lock:
            self.requests += 1
        try:
            resp = self.session.request(
                method,
                url,
                params=params,
                data=body,
                headers=_JSON_BODY if body is not None else None,
                timeout=self.timeout_s,
                stream=True,
                **self._send_kwargs,
            )
            try:
                # the whole body in one read: `resp.content` joins 10 KB chunks in Python
                # (a third more CPU per page); a short body raises (Content-Length)
                content = resp.raw.read(decode_content=True)
            finally:
                resp.close()  # back to the pool, or dropped when the read failed
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._transport_error(method, url, exc) from None
        finally:
            for budget, place in places:
                budget.done(place)
        return self._outcome(method, url, resp, content, decode)

    def _outcome(
        self,
        method: str,
        url: str,
        resp: requests.Response,
        content: bytes,
        decode: Callable[[bytes], Any],
    ) -> Response:
        """The decoded body of a 2xx, else the typed error its status calls for."""
        status = resp.status_code
        where = f"{method} {self._where(url)}"
        if status < 300:
            try:
                return Response(status, content, decode(content))
            except msgspec.ValidationError as exc:  # valid JSON, unexpected shape
                raise UnexpectedResponse(
                    f"{where}: the body does not have the shape this connector expects "
                    f"({exc}); the API may have changed",
                    status=status,
                    url=url,
                ) from None
            except (orjson.JSONDecodeError, msgspec.DecodeError):
                raise ServerError(
                    f"{where}: body is not valid JSON ({len(content)} bytes, truncated?)",
                    status=status,
                    url=url,
                ) from None
        detail = f"{where} -> {status}: {self._detail(content)}"
        if status in (401, 403):
            raise AuthError(
                f"{detail}. Check the API key / access token (and its scopes) in the "
                "configuration.",
                status=status,
                url=url,
            )
        if status in RETRY_STATUS:
            kind = RateLimited if status == 429 else ServerError
            failure = kind(detail, status=status, url=url)
            failure.retry_after = _retry_after(resp.headers.get("Retry-After"))
            raise failure
        raise ClientError(detail, status=status, url=url)

    def _transport_error(self, method: str, url: str, exc: BaseException) -> HttpError:
        """The typed error for a request that got no response: `Unreachable` (refused,
        unknown name), `ClientError` (a URL no client can use) or `ServerError` (the rest:
        timeouts, resets, dropped connections, which retrying does fix)."""
        where = f"{method} {self._where(url)}"
        if isinstance(exc, _BAD_URL):
            return ClientError(
                f"{where}: the URL cannot be used ({type(exc).__name__}: {exc}); check the "
                "base URL in the configuration",
                url=url,
            )
        reason = unreachable_reason(exc)
        if reason is None:
            return ServerError(self.redact(f"{where}: {type(exc).__name__}"), url=url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        hint = (
            "is the service running, and are the base URL's host and port right?"
            if reason == "connection refused"
            else "is the base URL's host name right, and does this machine's DNS work?"
        )
        return Unreachable(
            self.redact(f"{where}: {reason} ({host}:{port}); {hint}"),
            url=url,
            host=host,
            port=port,
            reason=reason,
        )

    def _retries_for(self, exc: BaseException | None) -> int:
        if isinstance(exc, Unreachable):
            return min(self.max_retries, self.connect_retries)
        return self.max_retries

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return state.attempt_number >= self._retries_for(exc) + 1

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Unreachable):
            return self.connect_backoff_s
        return self._backoff(state.attempt_number, getattr(exc, "retry_after", None))

    def _before_sleep(self, state: RetryCallState) -> None:
        with self._lock:
            self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        tries = self._retries_for(exc)
        log.warning("retry %d/%d in %.2fs: %s", state.attempt_number, tries, delay, exc)

    @staticmethod
    def _give_up(state: RetryCallState) -> Any:
        exc = state.outcome.exception()
        exc.args = (f"{exc.args[0]} (gave up after {state.attempt_number} attempts)",)
        raise exc

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        jittered = random.uniform(0, cap)
        if retry_after is not None:
            return min(max(retry_after, jittered), max(self.backoff_max_s, retry_after))
        return jittered

    def _where(self, url: str) -> str:
        return self.redact(url.split("?", 1)[0])

    def _detail(self, content: bytes) -> str:
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            return self.redact(content[:200].decode("utf-8", "replace"))
        if isinstance(data, dict):
            parts = [
                str(data.get(k)) for k in ("title", "category", "detail", "message") if data.get(k)
            ]
            if parts:
                return self.redact(" - ".join(parts))[:500]
        return self.redact(str(data))[:500]


_BAD_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.URLRequired,
    urllib3.exceptions.LocationParseError,
)


def unreachable_reason(exc: BaseException) -> str | None:
    """ "connection refused" or "name not known" when that is what `exc` (a requests or
    urllib3 error) comes down to, else None."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, socket.gaierror | urllib3.exceptions.NameResolutionError):
            return "name not known"
        todo += [getattr(e, "reason", None), e.__cause__, e.__context__, *e.args]
    return None


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds (int/float or an HTTP date); None when absent or junk."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
