"""The policy layer: what the app checks before it serves a data request.

`Policy` holds the per-app limits and faults and answers, each with a ready
response or None: URL length (414 past `Limits.max_url_length`), auth (MailChimp
HTTP Basic / Bearer API key, HubSpot Bearer token), rate limits (MailChimp
simultaneous connections per key; HubSpot's rolling window and, for search, its
SECONDLY policy; all off or generous by default) and fault injection (`Fault`:
which request gets which injected failure). `mock_apis.app` applies them in that
order and carries out the faults that need the socket (slow, truncated, dropped).
"""

from __future__ import annotations

import base64
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mock_apis.errors import ApiError, Response, hubspot_error, mailchimp_error

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
# faults the app carries out on the response itself rather than answering instead of it
TRANSPORT_FAULTS = ("slow", "truncated_json", "drop_connection")
URI_TOO_LONG = (414, [(b"content-type", b"text/html")], b"<h1>414 Request-URI Too Long</h1>")


@dataclass
class Fault:
    kind: str
    rate: float
    seed: int
    ms: int = 1000  # slow
    retry_after: int = 1  # 429_retry_after, seconds
    path_prefix: str = ""  # only requests under this path, e.g. "/3.0/lists"
    max_count: int | None = None  # stop after this many injections
    # 5xx only: the error body echoes the request's headers (a proxy's debug page), so a
    # client that prints error bodies would print its own credential
    echo_headers: bool = False
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
            "echo_headers": self.echo_headers,
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


class Policy:
    """Auth, limits and faults for one app. Counts what it refuses in `stats` (the app's)."""

    def __init__(
        self,
        mailchimp_api_key: str,
        hubspot_token: str,
        limits: Limits | None,
        stats: dict[str, int],
    ) -> None:
        self.mailchimp_api_key = mailchimp_api_key
        self.hubspot_token = hubspot_token
        self.limits = limits or Limits()
        self.stats = stats
        self.faults: list[Fault] = []
        self.inflight: dict[str, int] = {}
        self.hs_window: deque[float] = deque()
        self.hs_search_window: deque[float] = deque()

    # ------------------------------------------------------------------ request limits
    def url_too_long(self, raw_path: bytes, qs: bytes) -> Response | None:
        if len(raw_path) + (len(qs) + 1 if qs else 0) > self.limits.max_url_length:
            self.stats["uri_too_long"] = self.stats.get("uri_too_long", 0) + 1
            return URI_TOO_LONG
        return None

    def reset_windows(self) -> None:
        """Forget HubSpot's recent requests (after the limits change)."""
        self.hs_window.clear()
        self.hs_search_window.clear()

    # ------------------------------------------------------------------ MailChimp
    def mailchimp_auth(self, scope: dict) -> str | Response:
        """The caller's API key, or the 401 to answer."""
        auth = header(scope, b"authorization")
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

    def mailchimp_enter(self, key: str) -> Response | None:
        """Take one of the key's simultaneous connections, or the 429 to answer.
        A caller that got None must call `mailchimp_exit(key)` when done."""
        inflight = self.inflight.get(key, 0)
        if inflight >= self.limits.mailchimp_concurrency:
            self.stats["rate_limited"] += 1
            return mailchimp_error(
                ApiError(
                    429,
                    "TooManyRequests",
                    f"You have exceeded the limit of {self.limits.mailchimp_concurrency} "
                    "simultaneous connections.",
                )
            )
        self.inflight[key] = inflight + 1
        return None

    def mailchimp_exit(self, key: str) -> None:
        self.inflight[key] -= 1

    # ------------------------------------------------------------------ HubSpot
    def hubspot_rate_limit(self, path: str) -> Response | None:
        now = time.monotonic()
        lim = self.limits
        if lim.hubspot_search_per_s and path.endswith("/search"):
            w = self.hs_search_window
            while w and w[0] <= now - 1.0:
                w.popleft()
            if len(w) >= lim.hubspot_search_per_s:
                return self.hubspot_429("SECONDLY", lim.hubspot_search_per_s, 1000)
            w.append(now)
        if lim.hubspot_max:
            w = self.hs_window
            while w and w[0] <= now - lim.hubspot_window_s:
                w.popleft()
            if len(w) >= lim.hubspot_max:
                return self.hubspot_429(
                    "TEN_SECONDLY_ROLLING", lim.hubspot_max, int(lim.hubspot_window_s * 1000)
                )
            w.append(now)
        return None

    def hubspot_auth(self, scope: dict) -> Response | None:
        """None if the request carries the app's Bearer token, else the 401 to answer."""
        auth = header(scope, b"authorization")
        scheme, _, token = (auth or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip() == self.hubspot_token:
            return None
        message = (
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
            if not auth
            else "The access token provided is invalid or expired: "
            "send 'Authorization: Bearer <token>'."
        )
        return hubspot_error(ApiError(401, "INVALID_AUTHENTICATION", message))

    def hubspot_429(
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

    # ------------------------------------------------------------------ faults
    def pick_fault(self, path: str) -> Fault | None:
        """The first fault that fires for this request, if any (each draw uses its own rng)."""
        for fault in self.faults:
            if fault.fires(path):
                self.stats[f"fault_{fault.kind}"] = self.stats.get(f"fault_{fault.kind}", 0) + 1
                return fault
        return None

    def fault_response(self, fault: Fault, vendor: str, scope: dict | None = None) -> Response:
        """What an answering fault (429, 500, 502, 503) sends instead of the data."""
        if fault.echo_headers and fault.kind in ("500", "502", "503") and scope is not None:
            echoed = "\n".join(f"{k.decode()}: {v.decode('latin-1')}" for k, v in scope["headers"])
            text = (
                f"<html><body><h1>{fault.kind} upstream error</h1><pre>{echoed}</pre></body></html>"
            )
            return int(fault.kind), [(b"content-type", b"text/html")], text.encode()
        if fault.kind in ("429", "429_retry_after"):
            retry = fault.retry_after if fault.kind == "429_retry_after" else None
            if vendor == "hubspot":
                return self.hubspot_429("TEN_SECONDLY_ROLLING", 190, 10000, retry)
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


def header(scope: dict, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return v.decode("latin-1")
    return None
