"""The ASGI app: Airbyte's public API under `/api/public/v1` (self-hosted layout), the
token endpoint, `/health`, the Config API's `POST /api/v1/jobs/get`, and the fake's own
`/_admin/` API.

Every public endpoint but `/health` and `/applications/token`, and the Config API's,
want `Authorization: Bearer <token>`. Handlers are plain functions `(Call) -> body` run
in a worker thread (some start connector processes); they raise `Problem` for the API's
errors. An error answering a request that carried a configuration masks that
configuration's secrets.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mock_apis.airbyte import (
    API_PREFIX,
    CONFIG_API_PREFIX,
    DEFAULT_WORKSPACE_ID,
    MOCK_CLIENT_ID,
    MOCK_CLIENT_SECRET,
    admin,
    config_api,
    connections,
    resources,
)
from mock_apis.airbyte.auth import Tokens
from mock_apis.airbyte.call import Call, Reply
from mock_apis.airbyte.images import Images
from mock_apis.airbyte.jobs import JobRunner
from mock_apis.airbyte.problems import Problem
from mock_apis.airbyte.store import Store

log = logging.getLogger("mock_apis.airbyte")


@dataclass(frozen=True)
class FakeConfig:
    """Everything the fake needs, passed in (the CLI reads the environment)."""

    data_dir: Path
    client_id: str = MOCK_CLIENT_ID
    client_secret: str = MOCK_CLIENT_SECRET
    images: Mapping[str, Sequence[str]] = field(default_factory=dict)
    python: str = sys.executable
    token_ttl_s: int = 180
    hang_s: float = 600.0


class Fake:
    """The fake's state: its store, tokens, image mapping and job runner."""

    def __init__(self, config: FakeConfig) -> None:
        self.config = config
        self.data_dir = Path(config.data_dir)
        self.store = Store(self.data_dir)
        self.tokens = Tokens(config.client_id, config.client_secret, config.token_ttl_s)
        self.images = Images(config.images, config.python)
        self.jobs = JobRunner(self.store, self.images, self.data_dir, config.hang_s)
        if self.store.get("workspaces", DEFAULT_WORKSPACE_ID) is None:
            self.store.put(
                "workspaces",
                DEFAULT_WORKSPACE_ID,
                {
                    "workspaceId": DEFAULT_WORKSPACE_ID,
                    "name": "Default Workspace",
                    "dataResidency": "auto",
                    "notifications": {},
                },
            )


Handler = Callable[[Call], Any]


def _endpoint(fake: Fake, handler: Handler, route: str):
    async def endpoint(request: Request) -> Response:
        call = Call(
            fake=fake,
            path=dict(request.path_params),
            query=request.query_params,
            raw=await request.body(),
            base_url=f"{request.url.scheme}://{request.url.netloc}{API_PREFIX}",
            route=route,
        )
        try:
            fake.tokens.require(request.headers.get("authorization"))
            result = await run_in_threadpool(handler, call)
        except Problem as problem:
            return problem.response(call.secrets)
        except Exception as exc:  # a bug in the fake answers like the API's 500
            log.exception("%s %s failed", request.method, request.url.path)
            problem = Problem("unexpected-problem", f"The fake Airbyte failed: {exc!r}")
            return problem.response(call.secrets)
        if isinstance(result, Reply):
            if result.body is None:
                return Response(status_code=result.status)
            return _json(result.body, result.status)
        return _json(result)

    return endpoint


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def create_app(config: FakeConfig) -> Starlette:
    fake = Fake(config)
    routes = [
        Route(API_PREFIX + path, _endpoint(fake, handler, path), methods=[method])
        for method, path, handler in [*resources.ROUTES, *connections.ROUTES]
    ]
    routes.insert(
        0, Route(API_PREFIX + "/applications/token", _token_endpoint(fake), methods=["POST"])
    )
    routes.insert(0, Route(API_PREFIX + "/health", _health_endpoint, methods=["GET", "HEAD"]))
    routes += [
        Route(CONFIG_API_PREFIX + path, _endpoint(fake, handler, path), methods=[method])
        for method, path, handler in config_api.ROUTES
    ]
    routes += admin.routes(fake)
    routes.append(
        Route("/{path:path}", _unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(fake.jobs.shutdown)  # running jobs end failed, not orphaned

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.fake = fake
    return app


async def _health_endpoint(request: Request) -> Response:
    return PlainTextResponse("Successful operation")


def _token_endpoint(fake: Fake):
    async def endpoint(request: Request) -> Response:
        try:
            body = fake.tokens.issue(request.headers.get("content-type", ""), await request.body())
        except Problem as problem:
            return problem.response()
        return JSONResponse(body)

    return endpoint


async def _unknown(request: Request) -> Response:
    path = request.url.path
    hint = ""
    if path.rstrip("/").endswith("/applications/token"):
        hint = (
            f" The token endpoint is {API_PREFIX}/applications/token: pass the SDK an absolute "
            "token_url (its default '/applications/token' drops the server URL's path)."
        )
    elif path.startswith(API_PREFIX):
        hint = " The fake implements part of the public API; see mock_apis.airbyte."
    elif path.startswith(CONFIG_API_PREFIX + "/"):
        hint = (
            f" Of the Config API the fake serves only POST {CONFIG_API_PREFIX}/jobs/get; "
            "see mock_apis.airbyte.config_api."
        )
    problem = Problem("resource-not-found", f"No endpoint {request.method} {path}.{hint}")
    return problem.response()
