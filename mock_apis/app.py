"""The ASGI app: both vendors' APIs plus `/_admin/`, in one process.

A bare ASGI callable rather than a framework: the hot path (auth -> cache lookup
-> send pre-serialised bytes) must stay a few dict lookups so serving a page is
never what limits an extract, and faults need raw control of the socket
(`drop_connection` sends half a body and aborts).

Order per data request: URL length (414 past `Limits.max_url_length`) -> rate
limit (MailChimp concurrency / HubSpot rolling window, both off or generous by
default) -> auth -> faults (if any are set) -> cached response, or build it,
serialise it with orjson and cache it. The cache is emptied whenever the world
changes (`advance`). MailChimp member pages are assembled from per-member bytes
the API caches itself, so they skip the response cache (`Uncached`).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from mock_apis.clock import mc_time
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY
from mock_apis.errors import ApiError, hubspot_error, mailchimp_error
from mock_apis.groundtruth import ground_truth
from mock_apis.hubspot import HubSpotApi
from mock_apis.mailchimp import Assembled, MailChimpApi
from mock_apis.world import World

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
JSON = [(b"content-type", b"application/json; charset=utf-8")]
FAULT_KINDS = (
    "429_retry_after",
    "429",
    "500",
    "502",
    "503",
    "slow",
    "truncated_json",
    "drop_connection",
)
CACHE_MAX_BYTES = 512 * 1024 * 1024
URI_TOO_LONG = (414, [(b"content-type", b"text/html")], b"<h1>414 Request-URI Too Long</h1>")


class Uncached(tuple):
    """A response the app does not keep in its cache (cheaper to rebuild than to store)."""


class DroppedConnection(Exception):
    """Raised after half a body was sent, so uvicorn aborts the socket (a fault, not a bug)."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())


@dataclass
class Fault:
    kind: str
    rate: float
    seed: int
    ms: int = 1000  # slow
    retry_after: int = 1  # 429_retry_after, seconds
    path_prefix: str = ""  # only requests under this path, e.g. "/3.0/lists"
    max_count: int | None = None  # stop after this many injections
    injected: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {list(FAULT_KINDS)}")
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be within [0, 1], got {self.rate}")
        self.rng = random.Random(f"fault:{self.kind}:{self.seed}")

    def fires(self, path: str) -> bool:
        if not path.startswith(self.path_prefix):
            return False
        if self.max_count is not None and self.injected >= self.max_count:
            return False
        if self.rng.random() < self.rate:
            self.injected += 1
            return True
        return False

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "seed": self.seed,
            "ms": self.ms,
            "retry_after": self.retry_after,
            "path_prefix": self.path_prefix,
            "max_count": self.max_count,
            "injected": self.injected,
        }


@dataclass
class Limits:
    """Rate limits and request limits. Defaults never throttle a sequential client.

    `max_url_length`: longest request target (path + "?" + query, as sent) either API
    accepts; longer ones answer 414 URI Too Long, like the real services' front ends.
    A client cannot ask for it: it has to cope (e.g. by chunking `properties=`)."""

    max_url_length: int = 8192
    mailchimp_concurrency: int = 10
    hubspot_max: int | None = None  # requests per hubspot_window_s; None = off
    hubspot_window_s: float = 10.0
    hubspot_search_per_s: int | None = None  # search endpoints, SECONDLY policy; None = off


class MockApp:
    def __init__(
        self,
        world: World,
        mailchimp_api_key: str = MOCK_MAILCHIMP_API_KEY,
        hubspot_token: str = MOCK_HUBSPOT_TOKEN,
        limits: Limits | None = None,
    ) -> None:
        if "-" not in mailchimp_api_key:
            raise ValueError("the MailChimp API key must end in '-<dc>', e.g. '...-us21'")
        self.world = world
        self.mailchimp_api_key = mailchimp_api_key
        self.hubspot_token = hubspot_token
        self.limits = limits or Limits()
        self.mailchimp = MailChimpApi(world, dc=mailchimp_api_key.rsplit("-", 1)[1])
        self.hubspot = HubSpotApi(world)
        self.faults: list[Fault] = []
        self.cache: dict[tuple, Response] = {}
        self.cache_bytes = 0
        self.cache_version = world.version
        self.inflight: dict[str, int] = {}
        self.hs_window: deque[float] = deque()
        self.hs_search_window: deque[float] = deque()
        self.stats: dict[str, int] = {"requests": 0, "cache_hits": 0, "rate_limited": 0}
        _settle_heap()

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        qs: bytes = scope["query_string"]
        body = b""
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            more = True
            while more:
                msg = await receive()
                body += msg.get("body", b"")
                more = msg.get("more_body", False)
        if path.startswith("/_admin"):
            await _send(send, self.admin(method, path, qs, body))
            return
        self.stats["requests"] += 1
        raw_path = scope.get("raw_path") or path.encode()
        if len(raw_path) + (len(qs) + 1 if qs else 0) > self.limits.max_url_length:
            self.stats["uri_too_long"] = self.stats.get("uri_too_long", 0) + 1
            await _send(send, URI_TOO_LONG)
            return
        if path.startswith("/3.0"):
            await self.serve_mailchimp(scope, send, path, method, qs)
        elif path.startswith("/crm/"):
            await self.serve_hubspot(scope, send, path, method, qs, body)
        else:
            await _send(
                send, (404, JSON, orjson.dumps({"error": f"nothing at {path}; try /3.0/ or /crm/"}))
            )

    # ------------------------------------------------------------------ MailChimp
    async def serve_mailchimp(
        self, scope: dict, send: Any, path: str, method: str, qs: bytes
    ) -> None:
        key = self._mailchimp_key(scope)
        if isinstance(key, tuple):
            await _send(send, key)
            return
        inflight = self.inflight.get(key, 0)
        if inflight >= self.limits.mailchimp_concurrency:
            self.stats["rate_limited"] += 1
            await _send(
                send,
                mailchimp_error(
                    ApiError(
                        429,
                        "TooManyRequests",
                        f"You have exceeded the limit of {self.limits.mailchimp_concurrency} "
                        "simultaneous connections.",
                    )
                ),
            )
            return
        self.inflight[key] = inflight + 1
        try:
            if method != "GET":
                await _send(
                    send,
                    mailchimp_error(
                        ApiError(
                            405, "MethodNotAllowed", f"{method} {path}: this mock is read-only"
                        )
                    ),
                )
                return
            await self._respond(
                send, "mailchimp", path, qs, b"", lambda: self._build_mailchimp(path, qs)
            )
        finally:
            self.inflight[key] -= 1

    def _mailchimp_key(self, scope: dict) -> str | Response:
        auth = _header(scope, b"authorization")
        if not auth:
            return mailchimp_error(
                ApiError(
                    401,
                    "APIKeyMissing",
                    "Your request did not include an API key: send HTTP Basic auth "
                    "with any user name and the API key as password.",
                )
            )
        scheme, _, cred = auth.partition(" ")
        key = ""
        if scheme.lower() == "basic":
            import base64

            try:
                key = base64.b64decode(cred).decode().partition(":")[2]
            except ValueError:
                key = ""
        elif scheme.lower() in ("bearer", "apikey"):
            key = cred.strip()
        if key != self.mailchimp_api_key:
            return mailchimp_error(
                ApiError(
                    401,
                    "APIKeyInvalid",
                    "Your API key may be invalid, or you've attempted to access the wrong "
                    "datacenter.",
                )
            )
        return key

    def _build_mailchimp(self, path: str, qs: bytes) -> Response:
        q = {k: v[-1] for k, v in parse_qs(qs.decode("latin-1"), keep_blank_values=True).items()}
        try:
            payload = self.mailchimp.handle(path[len("/3.0") :].rstrip("/") or "/", q)
        except ApiError as err:
            return mailchimp_error(err)
        if isinstance(payload, Assembled):
            return Uncached((200, JSON, orjson.dumps(payload)))
        return 200, JSON, orjson.dumps(payload)

    # ------------------------------------------------------------------ HubSpot
    async def serve_hubspot(
        self, scope: dict, send: Any, path: str, method: str, qs: bytes, body: bytes
    ) -> None:
        limited = self._hubspot_rate_limit(path)
        if limited:
            await _send(send, limited)
            return
        auth = _header(scope, b"authorization")
        scheme, _, token = (auth or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.hubspot_token:
            message = (
                "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
                if not auth
                else "The access token provided is invalid or expired: "
                "send 'Authorization: Bearer <token>'."
            )
            await _send(send, hubspot_error(ApiError(401, "INVALID_AUTHENTICATION", message)))
            return
        await self._respond(
            send,
            "hubspot",
            path,
            qs,
            body,
            lambda: self._build_hubspot(method, path, qs, body),
            method,
        )

    def _hubspot_rate_limit(self, path: str) -> Response | None:
        now = time.monotonic()
        lim = self.limits
        if lim.hubspot_search_per_s and path.endswith("/search"):
            w = self.hs_search_window
            while w and w[0] <= now - 1.0:
                w.popleft()
            if len(w) >= lim.hubspot_search_per_s:
                return self._hs_429("SECONDLY", lim.hubspot_search_per_s, 1000)
            w.append(now)
        if lim.hubspot_max:
            w = self.hs_window
            while w and w[0] <= now - lim.hubspot_window_s:
                w.popleft()
            if len(w) >= lim.hubspot_max:
                return self._hs_429(
                    "TEN_SECONDLY_ROLLING", lim.hubspot_max, int(lim.hubspot_window_s * 1000)
                )
            w.append(now)
        return None

    def _hs_429(
        self, policy: str, limit: int, interval_ms: int, retry_after: int | None = None
    ) -> Response:
        self.stats["rate_limited"] += 1
        status, headers, body = hubspot_error(
            ApiError(
                429,
                "RATE_LIMITS",
                f"You have reached your {policy.lower()} limit.",
                errorType="RATE_LIMIT",
                policyName=policy,
                groupName="publicapi:private-app:mock",
            )
        )
        headers = [
            *headers,
            (b"x-hubspot-ratelimit-max", str(limit).encode()),
            (b"x-hubspot-ratelimit-remaining", b"0"),
            (b"x-hubspot-ratelimit-interval-milliseconds", str(interval_ms).encode()),
        ]
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        return status, headers, body

    def _build_hubspot(self, method: str, path: str, qs: bytes, body: bytes) -> Response:
        q = parse_qs(qs.decode("latin-1"), keep_blank_values=True)
        try:
            payload: Any = None
            if method == "POST":
                try:
                    payload = orjson.loads(body or b"{}")
                except orjson.JSONDecodeError as exc:
                    raise ApiError(
                        400, "VALIDATION_ERROR", f"request body is not valid JSON: {exc}"
                    ) from None
            status, out = self.hubspot.handle(method, path.rstrip("/") or path, q, payload)
        except ApiError as err:
            return hubspot_error(err)
        return status, JSON, orjson.dumps(out)

    # ------------------------------------------------------------------ shared path
    async def _respond(
        self,
        send: Any,
        vendor: str,
        path: str,
        qs: bytes,
        body: bytes,
        build: Any,
        method: str = "GET",
    ) -> None:
        fault = self._pick_fault(path) if self.faults else None
        if fault is not None and fault.kind not in ("slow", "truncated_json", "drop_connection"):
            await _send(send, self._fault_response(fault, vendor))
            return
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.ms / 1000)
        if self.cache_version != self.world.version:
            self.cache.clear()
            self.cache_bytes = 0
            self.cache_version = self.world.version
        key = (method, path, qs, body)
        resp = self.cache.get(key)
        if resp is None:
            resp = build()
            if not isinstance(resp, Uncached):
                if self.cache_bytes > CACHE_MAX_BYTES:
                    self.cache.clear()
                    self.cache_bytes = 0
                self.cache[key] = resp
                self.cache_bytes += len(resp[2])
        else:
            self.stats["cache_hits"] += 1
        if fault is not None and fault.kind == "truncated_json":
            status, headers, data = resp
            resp = (200, headers, data[: max(1, len(data) // 2)])
        elif fault is not None and fault.kind == "drop_connection":
            status, headers, data = resp
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*headers, (b"content-length", str(len(data)).encode())],
                }
            )
            await send(
                {"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True}
            )
            raise DroppedConnection(f"fault drop_connection on {path}")
        await _send(send, resp)

    def _pick_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.fires(path):
                self.stats[f"fault_{fault.kind}"] = self.stats.get(f"fault_{fault.kind}", 0) + 1
                return fault
        return None

    def _fault_response(self, fault: Fault, vendor: str) -> Response:
        if fault.kind in ("429", "429_retry_after"):
            retry = fault.retry_after if fault.kind == "429_retry_after" else None
            if vendor == "hubspot":
                return self._hs_429("TEN_SECONDLY_ROLLING", 190, 10000, retry)
            status, headers, body = mailchimp_error(
                ApiError(
                    429,
                    "TooManyRequests",
                    "You have exceeded the limit of 10 simultaneous connections.",
                )
            )
            if retry is not None:
                headers = [*headers, (b"retry-after", str(retry).encode())]
            return status, headers, body
        if fault.kind == "500":
            err = ApiError(
                500,
                "InternalServerError",
                "An unexpected internal error has occurred (injected fault).",
            )
            if vendor == "hubspot":
                err = ApiError(500, "INTERNAL_ERROR", "internal error (injected fault)")
                return hubspot_error(err)
            return mailchimp_error(err)
        status = int(fault.kind)
        text = {502: "Bad Gateway", 503: "Service Unavailable"}[status]
        html = f"<html><head><title>{status} {text}</title></head><body>{text}</body></html>"
        return status, [(b"content-type", b"text/html")], html.encode()

    # ------------------------------------------------------------------ admin
    def admin(self, method: str, path: str, qs: bytes, body: bytes) -> Response:
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            return _admin_error(400, f"{method} {path}: body is not JSON ({exc})")
        route = (method, path.rstrip("/"))
        try:
            if route == ("GET", "/_admin/health"):
                return 200, JSON, b'{"ok":true}'
            if route == ("GET", "/_admin/state"):
                return 200, JSON, orjson.dumps(self.state())
            if route == ("POST", "/_admin/advance"):
                summary = self.world.advance(
                    float(data.get("days", 1)), float(data.get("change_rate", 0.01))
                )
                self.mailchimp.rebuild()
                self.hubspot.rebuild()
                _settle_heap()
                return (
                    200,
                    JSON,
                    orjson.dumps({**summary, "now_mailchimp": mc_time(self.world.now)}),
                )
            if route == ("GET", "/_admin/faults"):
                return 200, JSON, orjson.dumps({"faults": [f.describe() for f in self.faults]})
            if route == ("POST", "/_admin/faults"):
                specs = data.get("faults", [data])
                new = [
                    Fault(
                        kind=str(s["kind"]),
                        rate=float(s.get("rate", 1.0)),
                        seed=int(s.get("seed", 0)),
                        ms=int(s.get("ms", 1000)),
                        retry_after=int(s.get("retry_after", 1)),
                        path_prefix=str(s.get("path_prefix", "")),
                        max_count=s.get("max_count"),
                    )
                    for s in specs
                ]
                kinds = {f.kind for f in new}
                self.faults = [f for f in self.faults if f.kind not in kinds] + new
                return 200, JSON, orjson.dumps({"faults": [f.describe() for f in self.faults]})
            if route == ("DELETE", "/_admin/faults"):
                self.faults = []
                return 200, JSON, b'{"faults":[]}'
            if route == ("POST", "/_admin/limits"):
                for name, value in data.items():
                    if not hasattr(self.limits, name):
                        return _admin_error(
                            400, f"unknown limit {name!r}; known: {list(vars(self.limits))}"
                        )
                    setattr(self.limits, name, value)
                self.hs_window.clear()
                self.hs_search_window.clear()
                return 200, JSON, orjson.dumps(vars(self.limits))
            if route == ("GET", "/_admin/ground-truth"):
                q = parse_qs(qs.decode())
                streams = q["streams"][0].split(",") if "streams" in q else None
                return 200, JSON, orjson.dumps(ground_truth(self.world, streams))
        except (KeyError, TypeError, ValueError) as exc:
            return _admin_error(400, f"{method} {path}: {exc}")
        return _admin_error(404, f"no admin endpoint {method} {path}")

    def state(self) -> dict[str, Any]:
        cfg = self.world.config
        return {
            "now": self.world.now,
            "now_mailchimp": mc_time(self.world.now),
            "version": self.world.version,
            "advances": self.world.advances,
            "config": vars(cfg),
            "limits": vars(self.limits),
            "stats": self.stats,
            "mailchimp_api_key": self.mailchimp_api_key,
            "hubspot_token": self.hubspot_token,
        }


def _admin_error(status: int, message: str) -> Response:
    return status, JSON, orjson.dumps({"error": message})


def _header(scope: dict, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return v.decode("latin-1")
    return None


async def _send(send: Any, resp: Response) -> None:
    status, headers, body = resp
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _settle_heap() -> None:
    """Collect once, then exempt the world and its views from the cyclic GC (`gc.freeze`).
    They are millions of long-lived objects: otherwise a full collection, started by
    whatever request happens to allocate next, stalls every client for ~0.2 s at scale 1
    (a real API has no such pause; run in-process, the connectors' own collections would
    scan the world too). Unfrozen first, so what an advance replaced is freed; unfrozen
    at exit, so the interpreter's last collection still frees everything (extension
    modules such as duckdb otherwise report leaked objects)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


atexit.register(gc.unfreeze)  # harmless when nothing is frozen


def create_app(
    seed: int = 42,
    scale: float = 1.0,
    mailchimp_api_key: str = MOCK_MAILCHIMP_API_KEY,
    hubspot_token: str = MOCK_HUBSPOT_TOKEN,
    limits: Limits | None = None,
    **world_overrides: Any,
) -> MockApp:
    """Generate the world and wrap it in the ASGI app."""
    return MockApp(
        World(seed=seed, scale=scale, **world_overrides), mailchimp_api_key, hubspot_token, limits
    )
