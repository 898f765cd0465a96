"""The fake's own API under `/_admin/` (not part of Airbyte's; no auth), for tests:

    GET  /_admin/health                            {"ok": true}
    GET  /_admin/objects/{kind}                    stored objects as kept (configurations
                                                   unmasked; kinds: `store.KINDS`)
    GET  /_admin/jobs/{jobId}                      {"job": <JobResponse>, "reason",
                                                   "history": [[status, time]], "streams":
                                                   {name: {"rows", "table"}}, "log": [...]}
    GET  /_admin/connections/{id}/state            {"streams": {name: state}, "generations"}
    POST /_admin/connections/{id}/next-job         {"fail": "why", "after_records": 0} or
                                                   {"hang": true}: what the connection's
                                                   next job does instead of behaving

Bad input answers 400 with {"error": ...}; an unknown id 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_apis.airbyte.jobs import Injection, public
from mock_apis.airbyte.problems import Problem
from mock_apis.airbyte.store import KINDS

if TYPE_CHECKING:
    from mock_apis.airbyte.app import Fake


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def routes(fake: Fake) -> list[Route]:
    async def health(request: Request) -> Response:
        return _json({"ok": True})

    async def objects(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return _error(404, f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
        return _json(fake.store.all(kind))

    async def job(request: Request) -> Response:
        found = fake.store.get("jobs", request.path_params["jobId"])
        if found is None:
            return _error(404, f"no job {request.path_params['jobId']}")
        lines = fake.jobs.log_lines(found["jobId"])
        return _json(
            {
                "job": public(found),
                "reason": found.get("_reason"),
                "history": found.get("_history", []),
                "streams": found.get("_streams", {}),
                "log": lines,
            }
        )

    async def state(request: Request) -> Response:
        connection_id = request.path_params["connectionId"]
        if fake.store.get("connections", connection_id) is None:
            return _error(404, f"no connection {connection_id}")
        return _json(fake.store.get("states", connection_id) or {"streams": {}, "generations": {}})

    async def next_job(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
            injection = Injection(
                fail=None if body.get("fail") is None else str(body["fail"]),
                after_records=int(body.get("after_records", 0)),
                hang=bool(body.get("hang", False)),
            )
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            return _error(
                400, f"want {{'fail': str, 'after_records': int}} or {{'hang': true}}: {exc}"
            )
        if injection.fail is None and not injection.hang:
            return _error(400, "say what the next job does: 'fail' (a reason) or 'hang': true")
        try:
            fake.jobs.inject(request.path_params["connectionId"], injection)
        except Problem as exc:
            return _error(404, exc.detail)
        return _json({"ok": True})

    return [
        Route("/_admin/health", health, methods=["GET"]),
        Route("/_admin/objects/{kind}", objects, methods=["GET"]),
        Route("/_admin/jobs/{jobId:int}", job, methods=["GET"]),
        Route("/_admin/connections/{connectionId}/state", state, methods=["GET"]),
        Route("/_admin/connections/{connectionId}/next-job", next_job, methods=["POST"]),
    ]
