"""The admin API under `/_admin/`: drives and inspects a running mock, never rate-limited,
authenticated or faulted (the app routes here before its policy layer).

    GET    /_admin/health         {"ok": true}
    GET    /_admin/state          clock, world config, limits, request stats, credentials
    POST   /_admin/advance        {"days": 1, "change_rate": 0.01} -> what changed
    GET    /_admin/faults         the faults set
    POST   /_admin/faults         {"kind": ..., "rate": ...} or {"faults": [...]}; replaces
                                  earlier faults of the same kinds
    DELETE /_admin/faults         clears them
    POST   /_admin/limits         {"hubspot_max": 5, ...}: change `Limits` fields
    GET    /_admin/defects        the data defects injected, each with the keys it affected
    POST   /_admin/defects        {"kind": ..., "stream": ..., ...} or {"defects": [...]}:
                                  inject (see `mock_apis.defects`) -> {"injected": [...]}
    DELETE /_admin/defects        clear them all, or one with ?id=N -> {"cleared": [...]}
    GET    /_admin/ground-truth   ?streams=a,b: see `mock_apis.groundtruth`

Bad input answers 400 with {"error": ...}; an unknown endpoint 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from mock_apis.clock import mc_time
from mock_apis.errors import JSON, Response
from mock_apis.groundtruth import ground_truth
from mock_apis.policy import Fault

if TYPE_CHECKING:
    from mock_apis.app import MockApp

Handler = Callable[["MockApp", dict[str, Any], bytes], Response]


def handle(app: MockApp, method: str, path: str, qs: bytes, body: bytes) -> Response:
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        return _error(400, f"{method} {path}: body is not JSON ({exc})")
    handler = ROUTES.get((method, path.rstrip("/")))
    if handler is None:
        return _error(404, f"no admin endpoint {method} {path}")
    try:
        return handler(app, data, qs)
    except (KeyError, TypeError, ValueError) as exc:
        return _error(400, f"{method} {path}: {exc}")


def state(app: MockApp) -> dict[str, Any]:
    world = app.world
    return {
        "now": world.now,
        "now_mailchimp": mc_time(world.now),
        "version": world.version,
        "advances": world.advances,
        "config": vars(world.config),
        "limits": vars(app.limits),
        "stats": app.stats,
        "mailchimp_api_key": app.mailchimp_api_key,
        "hubspot_token": app.hubspot_token,
    }


def _health(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    return 200, JSON, b'{"ok":true}'


def _state(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    return 200, JSON, orjson.dumps(state(app))


def _advance(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    summary = app.advance(float(data.get("days", 1)), float(data.get("change_rate", 0.01)))
    return 200, JSON, orjson.dumps({**summary, "now_mailchimp": mc_time(app.world.now)})


def _get_faults(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    return 200, JSON, orjson.dumps({"faults": [f.describe() for f in app.faults]})


def _set_faults(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
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
            echo_headers=bool(s.get("echo_headers", False)),
        )
        for s in specs
    ]
    kinds = {f.kind for f in new}
    app.faults = [f for f in app.faults if f.kind not in kinds] + new
    return _get_faults(app, data, qs)


def _clear_faults(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    app.faults = []
    return 200, JSON, b'{"faults":[]}'


def _get_defects(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    return 200, JSON, orjson.dumps({"defects": app.world.defects.describe()})


def _inject_defects(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    specs = data.get("defects", [data]) if isinstance(data, dict) else data
    if not isinstance(specs, list) or not specs:
        raise ValueError('give one defect {"kind": ...} or {"defects": [{"kind": ...}, ...]}')
    injected = app.inject_defects(specs)
    return 200, JSON, orjson.dumps({"injected": [d.describe() for d in injected]})


def _clear_defects(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    q = parse_qs(qs.decode())
    raw = q["id"][0] if "id" in q else data.get("id") if isinstance(data, dict) else None
    cleared = app.clear_defects(int(raw) if raw is not None else None)
    return 200, JSON, orjson.dumps({"cleared": [d.describe() for d in cleared]})


def _set_limits(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    limits = app.limits
    for name, value in data.items():
        if not hasattr(limits, name):
            return _error(400, f"unknown limit {name!r}; known: {list(vars(limits))}")
        setattr(limits, name, value)
    app.policy.reset_windows()
    return 200, JSON, orjson.dumps(vars(limits))


def _ground_truth(app: MockApp, data: dict[str, Any], qs: bytes) -> Response:
    q = parse_qs(qs.decode())
    streams = q["streams"][0].split(",") if "streams" in q else None
    return 200, JSON, orjson.dumps(ground_truth(app.world, streams))


def _error(status: int, message: str) -> Response:
    return status, JSON, orjson.dumps({"error": message})


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/_admin/health"): _health,
    ("GET", "/_admin/state"): _state,
    ("POST", "/_admin/advance"): _advance,
    ("GET", "/_admin/faults"): _get_faults,
    ("POST", "/_admin/faults"): _set_faults,
    ("DELETE", "/_admin/faults"): _clear_faults,
    ("POST", "/_admin/limits"): _set_limits,
    ("GET", "/_admin/defects"): _get_defects,
    ("POST", "/_admin/defects"): _inject_defects,
    ("DELETE", "/_admin/defects"): _clear_defects,
    ("GET", "/_admin/ground-truth"): _ground_truth,
}
