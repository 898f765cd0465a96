"""What a handler gets (`Call`: the request, parsed lazily by the SDK's models) and may
return besides a JSON body (`Reply`: another status, or no body)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pydantic
from starlette.datastructures import QueryParams

from mock_apis.airbyte.problems import bad_request

if TYPE_CHECKING:
    from mock_apis.airbyte.app import Fake


@dataclass
class Call:
    """One request as a handler sees it."""

    fake: Fake
    path: dict[str, str]
    query: QueryParams
    raw: bytes
    base_url: str  # http://host:port/api/public/v1, for pagination links
    route: str
    secrets: set[str] = field(default_factory=set)

    def query_model(self, model: type[pydantic.BaseModel]) -> Any:
        """The query string parsed by the SDK's request model."""
        values: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            key = info.alias or name
            if key in self.query:
                many = "List" in str(info.annotation)
                values[key] = self.query.getlist(key) if many else self.query[key]
        try:
            return model.model_validate(values)
        except pydantic.ValidationError as exc:
            errors = [
                {"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                for e in exc.errors(include_input=False)
            ]
            listing = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            raise bad_request(f"Invalid query parameters: {listing}", errors=errors) from exc

    def page(self, items: list[dict[str, Any]], limit: int | None, offset: int | None) -> dict:
        """A list response: `data` plus `next`/`previous` links, as the API pages."""
        limit = 20 if limit is None else limit
        offset = offset or 0
        if not 1 <= limit <= 100 or offset < 0:
            raise bad_request(
                "limit must be 1 to 100 and offset 0 or more",
                errors=[{"field": "limit", "message": "must be 1 to 100"}],
            )
        out: dict[str, Any] = {"data": items[offset : offset + limit]}
        params = [(k, v) for k, v in self.query.multi_items() if k not in ("limit", "offset")]
        link = f"{self.base_url}{self.route}?"
        if offset + limit < len(items):
            out["next"] = link + urlencode([*params, ("limit", limit), ("offset", offset + limit)])
        if offset > 0:
            prev = max(0, offset - limit)
            out["previous"] = link + urlencode([*params, ("limit", limit), ("offset", prev)])
        return out


@dataclass
class Reply:
    status: int
    body: Any = None
