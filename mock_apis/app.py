"""The ASGI app: routing for both vendors' APIs plus `/_admin/`, in one process.

A bare ASGI callable rather than a framework: the hot path (auth -> cache lookup
-> send pre-serialised bytes) must stay a few dict lookups so serving a page is
never what limits an extract, and faults need raw control of the socket
(`drop_connection` sends half a body and aborts).

`/_admin/...` goes to `mock_apis.admin`. Order per data request, the checks being
`mock_apis.policy`'s: URL length (414 past `Limits.max_url_length`) -> rate limit
(MailChimp concurrency / HubSpot rolling window, both off or generous by default)
-> auth -> faults (if any are set) -> cached response, or build it with the
vendor's API (`mock_apis.mailchimp`, `mock_apis.hubspot`), serialise it with
orjson and cache it. The cache is emptied whenever the world changes (`advance`).
MailChimp member pages are assembled from per-member bytes the API caches itself,
so they skip the response cache (`Uncached`).

`Fault`, `Limits` and `FAULT_KINDS` are defined in `mock_apis.policy` and
re-exported here.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson

from mock_apis import admin
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY
from mock_apis.defects import DefectSpec, coerce_defect
from mock_apis.errors import JSON, ApiError, Response, hubspot_error, mailchimp_error
from mock_apis.hubspot import HubSpotApi
from mock_apis.inject import Injected
from mock_apis.mailchimp import Assembled, MailChimpApi
from mock_apis.policy import FAULT_KINDS, TRANSPORT_FAULTS, Fault, Limits, Policy
from mock_apis.world import World

__all__ = [  # Fault, Limits and FAULT_KINDS are re-exported from mock_apis.policy
    "FAULT_KINDS",
    "JSON",
    "MOCK_HUBSPOT_TOKEN",
    "MOCK_MAILCHIMP_API_KEY",
    "Fault",
    "Limits",
    "MockApp",
    "Response",
    "Uncached",
    "create_app",
]
CACHE_MAX_BYTES = 512 * 1024 * 1024


class Uncached(tuple):
    """A response the app does not keep in its cache (cheaper to rebuild than to store)."""


class DroppedConnection(Exception):
    """Raised after half a body was sent, so uvicorn aborts the socket (a fault, not a bug)."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())


class MockApp:
    """Both APIs and the admin API over one `World`; `policy` holds the limits and faults."""

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
        self.mailchimp = MailChimpApi(world, dc=mailchimp_api_key.rsplit("-", 1)[1])
        self.hubspot = HubSpotApi(world)
        self.cache: dict[tuple, Response] = {}
        self.cache_bytes = 0
        self.cache_version = world.version
        self.stats: dict[str, int] = {"requests": 0, "cache_hits": 0, "rate_limited": 0}
        self.policy = Policy(mailchimp_api_key, hubspot_token, limits, self.stats)
        _settle_heap()

    @property
    def limits(self) -> Limits:
        return self.policy.limits

    @property
    def faults(self) -> list[Fault]:
        return self.policy.faults

    @faults.setter
    def faults(self, faults: list[Fault]) -> None:
        self.policy.faults = faults

    def advance(self, days: float = 1.0, change_rate: float = 0.01) -> dict[str, int]:
        """Move the world's clock and rebuild the APIs' views at once (see `World.advance`)."""
        summary = self.world.advance(days, change_rate)
        self._world_changed()
        return summary

    def inject_defects(self, specs: list[DefectSpec | dict[str, Any] | str]) -> list[Injected]:
        """Inject data defects (`mock_apis.defects`); each comes back with the keys it hit.
        All or none: when one is refused, those of the batch already injected are cleared."""
        checked = [coerce_defect(s) for s in specs]
        injected: list[Injected] = []
        try:
            for spec in checked:
                injected.append(self.world.defects.inject(spec))
        except ValueError:
            for done in reversed(injected):
                self.world.defects.clear(done.id)
            raise
        finally:
            self._world_changed()
        return injected

    def clear_defects(self, defect_id: int | None = None) -> list[Injected]:
        """Remove one defect (by id) or all; returns the removed ones and their keys."""
        cleared = self.world.defects.clear(defect_id)
        self._world_changed()
        return cleared

    def _world_changed(self) -> None:
        if self.hubspot.schema_version != self.world.defects.schema_version:
            self.hubspot.reload_schema()
        self.mailchimp.rebuild()
        self.hubspot.rebuild()
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
        too_long = self.policy.url_too_long(scope.get("raw_path") or path.encode(), qs)
        if too_long:
            await _send(send, too_long)
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
        key = self.policy.mailchimp_auth(scope)
        if isinstance(key, tuple):
            await _send(send, key)
            return
        limited = self.policy.mailchimp_enter(key)
        if limited:
            await _send(send, limited)
            return
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
                send,
                "mailchimp",
                path,
                qs,
                b"",
                lambda: self._build_mailchimp(path, qs),
                scope=scope,
            )
        finally:
            self.policy.mailchimp_exit(key)

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
        refused = self.policy.hubspot_rate_limit(path) or self.policy.hubspot_auth(scope)
        if refused:
            await _send(send, refused)
            return
        await self._respond(
            send,
            "hubspot",
            path,
            qs,
            body,
            lambda: self._build_hubspot(method, path, qs, body),
            method,
            scope=scope,
        )

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
        scope: dict | None = None,
    ) -> None:
        fault = self.policy.pick_fault(path) if self.policy.faults else None
        if fault is not None and fault.kind not in TRANSPORT_FAULTS:
            await _send(send, self.policy.fault_response(fault, vendor, scope))
            return
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.ms / 1000)
        resp = self._cached((method, path, qs, body), build)
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

    def _cached(self, key: tuple, build: Any) -> Response:
        """The response for `key` from the cache (emptied when the world changes), else built."""
        if self.cache_version != self.world.version:
            self.cache.clear()
            self.cache_bytes = 0
            self.cache_version = self.world.version
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
        return resp

    # ------------------------------------------------------------------ admin
    def admin(self, method: str, path: str, qs: bytes, body: bytes) -> Response:
        return admin.handle(self, method, path, qs, body)

    def state(self) -> dict[str, Any]:
        return admin.state(self)


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
