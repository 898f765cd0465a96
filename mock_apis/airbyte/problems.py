"""Errors in the shape Airbyte's public API answers with: RFC 9457 problem JSON
(`status`, `type`, `title`, `detail`, `documentationUrl`, `data`), the problem types of
the platform's `api-problems.yaml`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.responses import Response

_BASE = "https://reference.airbyte.com/reference/errors"

# title -> (status, type); the titles are the platform's problem names
KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, f"{_BASE}#bad-request"),
    "invalid-api-key": (401, f"{_BASE}#invalid-api-key"),
    "forbidden": (403, f"{_BASE}#forbidden"),
    "resource-not-found": (404, f"{_BASE}#resource-not-found"),
    "state-conflict": (409, f"{_BASE}#409-state-conflict"),
    "try-again-later": (409, f"{_BASE}#try-again-later"),
    "unprocessable-entity": (422, f"{_BASE}#unprocessable-entity"),
    "unexpected-problem": (500, _BASE),
    "not-implemented": (501, _BASE),
}

MASK = "**********"


class Problem(Exception):
    """An API error: `title` picks status and type from `KINDS`; `detail` says what was
    wrong and where; `data` carries the machine-readable part (field names, ids)."""

    def __init__(self, title: str, detail: str, **data: Any) -> None:
        super().__init__(f"{title}: {detail}")
        self.status, self.type = KINDS[title]
        self.title, self.detail, self.data = title, detail, data

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
            "documentationUrl": None,
        }
        if self.data:
            out["data"] = self.data
        return out

    def response(self, secrets: Iterable[str] = ()) -> Response:
        """The problem as an HTTP response, with every value in `secrets` masked: a
        rejected request never echoes a credential it carried."""
        raw = orjson.dumps(self.body())
        for value in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
            raw = raw.replace(orjson.dumps(value)[1:-1], MASK.encode())
        return Response(raw, self.status, media_type="application/problem+json")


def not_found(kind: str, resource_id: object) -> Problem:
    return Problem(
        "resource-not-found",
        f"Could not find a resource for: {resource_id} (no {kind} with that id)",
        resourceType=kind,
        resourceId=str(resource_id),
    )


def bad_request(detail: str, **data: Any) -> Problem:
    return Problem("bad-request", detail, **data)
