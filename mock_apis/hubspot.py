"""HubSpot CRM API v3 (+ associations v4) over the world.

Handlers are (world, path args, query, json body) -> (status, payload). List
endpoints page by record id (`after` is the next id, stable under inserts);
search pages by offset and refuses to go past 10,000 results like the real one.
Search never returns archived records; list endpoints return either the live or
(with `archived=true`) only the archived ones.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mock_apis.clock import WORLD_START, hs_time, parse_hs_time_ms
from mock_apis.errors import ApiError
from mock_apis.memo import MemoizedViews
from mock_apis.world import (
    ASSOC_TYPES,
    DEFAULT_PROPS,
    HISTORY_DAYS,
    PIPELINE_STAGES,
    CrmObject,
    World,
    association_types,
)

LIST_MAX = 100
SEARCH_MAX = 200
SEARCH_CAP = 10_000
BATCH_MAX = 1000
ASSOC_PAGE_MAX = 500
TYPE_ALIASES = {
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "companies": "companies",
    "company": "companies",
    "0-2": "companies",
    "deals": "deals",
    "deal": "deals",
    "0-3": "deals",
}
DATETIME_PROPS = {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate"}
NUMBER_PROPS = {
    "hs_object_id",
    "amount",
    "numberofemployees",
    "associatedcompanyid",
    "hubspot_owner_id",
}
KNOWN_PROPS = {
    "contacts": {
        "email", "firstname", "lastname", "jobtitle", "phone", "company", "lifecyclestage",
        "hubspot_owner_id", "associatedcompanyid", "createdate", "lastmodifieddate", "hs_object_id",
    },
    "companies": {
        "name", "domain", "industry", "city", "numberofemployees", "hubspot_owner_id",
        "createdate", "hs_lastmodifieddate", "hs_object_id",
    },
    "deals": {
        "dealname", "amount", "dealstage", "pipeline", "closedate", "dealtype", "hubspot_owner_id",
        "createdate", "hs_lastmodifieddate", "hs_object_id",
    },
}  # fmt: skip
PIPELINE_CREATED = hs_time((WORLD_START - HISTORY_DAYS * 86400 - 400 * 86400) * 1000)


def object_type(name: str) -> str:
    try:
        return TYPE_ALIASES[name]
    except KeyError:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Unable to infer object type from: {name} "
            "(this mock serves contacts, companies, deals)",
        ) from None


def _int(q: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = q.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, "VALIDATION_ERROR", f"{name}={raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, "VALIDATION_ERROR", f"{name}={value} is out of range: {lo}..{hi}")
    return value


def record(obj: CrmObject, props: list[str] | None) -> dict[str, Any]:
    names = props if props else DEFAULT_PROPS[obj.kind]
    known = KNOWN_PROPS[obj.kind]
    out: dict[str, Any] = {
        "id": str(obj.id),
        "properties": {p: obj.props.get(p) for p in names if p in known or p in obj.props},
        "createdAt": hs_time(obj.created),
        "updatedAt": hs_time(obj.updated),
        "archived": obj.archived,
    }
    if obj.archived:
        out["archivedAt"] = hs_time(obj.archived_at)
    return out


def _props_param(q: dict[str, list[str]] | dict[str, str], raw: list[str]) -> list[str] | None:
    names: list[str] = []
    for chunk in raw:
        names.extend(p.strip() for p in chunk.split(",") if p.strip())
    return list(dict.fromkeys(names)) or None


@lru_cache(maxsize=200_000)
def _ms(value: str) -> int | None:
    try:
        return parse_hs_time_ms(value)
    except ValueError:
        return None


def _value(prop: str, raw: Any) -> Any:
    """Comparable form of a property value or filter value."""
    if raw is None:
        return None
    if prop in DATETIME_PROPS:
        return _ms(str(raw))
    if prop in NUMBER_PROPS:
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    return str(raw).lower()


class HubSpotApi(MemoizedViews):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.get_routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)$"), self.list_objects),
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)/(?P<oid>\d+)$"), self.get_object),
            (re.compile(r"^/crm/v3/owners/?$"), self.owners),
            (re.compile(r"^/crm/v3/pipelines/deals$"), self.pipelines),
            (re.compile(r"^/crm/v3/pipelines/deals/(?P<pid>[^/]+)$"), self.pipeline_one),
            (re.compile(r"^/crm/v3/pipelines/deals/(?P<pid>[^/]+)/stages$"), self.pipeline_stages),
            (re.compile(r"^/crm/v3/properties/(?P<kind>[^/]+)$"), self.properties),
            (
                re.compile(
                    r"^/crm/v4/objects/(?P<kind>[^/]+)/(?P<oid>\d+)/associations/(?P<to>[^/]+)$"
                ),
                self.object_associations,
            ),
        ]
        self.post_routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)/search$"), self.search),
            (
                re.compile(r"^/crm/v4/associations/(?P<kind>[^/]+)/(?P<to>[^/]+)/batch/read$"),
                self.batch_read,
            ),
        ]

    def handle(
        self, method: str, path: str, q: dict[str, list[str]], body: Any
    ) -> tuple[int, dict]:
        routes = (
            self.get_routes if method == "GET" else self.post_routes if method == "POST" else []
        )
        for pattern, fn in routes:
            match = pattern.match(path)
            if match:
                result = fn(q=q, body=body, **match.groupdict())
                return result if isinstance(result, tuple) else (200, result)
        raise ApiError(404, "OBJECT_NOT_FOUND", f"no HubSpot endpoint for {method} {path}")

    def rebuild(self) -> None:
        """Also build every association index (both directions), used or not: answering a
        batch read never waits on a rebuild."""
        super().rebuild()
        for src, dst in ASSOC_TYPES:
            self._assoc_index(src, dst)

    def _eager(self, key: tuple) -> bool:
        """Views that do not depend on a client's cursor (searches change with every sync)."""
        return key[0] != "search"

    @staticmethod
    def _one(q: dict[str, list[str]]) -> dict[str, str]:
        return {k: v[-1] for k, v in q.items()}

    # ------------------------------------------------------------------ objects
    def list_objects(self, q: dict[str, list[str]], body: Any, kind: str) -> dict:
        kind = object_type(kind)
        one = self._one(q)
        limit = _int(one, "limit", 10, 1, LIST_MAX)
        archived = one.get("archived", "false").lower() == "true"
        props = _props_param(q, q.get("properties", []))

        def build_items() -> list:
            return [o for o in self.world.objects[kind] if o.archived == archived]

        items = self._memoized(("list", kind, archived), build_items)
        ids = self._memoized(
            ("ids", kind, archived),
            lambda: [o.id for o in self._memoized(("list", kind, archived), build_items)],
        )
        after = one.get("after")
        start = 0
        if after:
            if not after.isdigit():
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    f"after={after!r} is not a paging cursor this API issued",
                )
            start = bisect.bisect_left(ids, int(after))
        page = items[start : start + limit]
        out: dict[str, Any] = {"results": [record(o, props) for o in page]}
        if start + limit < len(items):
            nxt = str(items[start + limit].id)
            out["paging"] = {"next": {"after": nxt, "link": f"/crm/v3/objects/{kind}?after={nxt}"}}
        return out

    def get_object(self, q: dict[str, list[str]], body: Any, kind: str, oid: str) -> dict:
        kind = object_type(kind)
        obj = self.world.by_id[kind].get(int(oid))
        archived = self._one(q).get("archived", "false").lower() == "true"
        if obj is None or obj.archived != archived:
            raise ApiError(
                404, "OBJECT_NOT_FOUND", f"{kind} {oid} does not exist (archived={archived})"
            )
        return record(obj, _props_param(q, q.get("properties", [])))

    def properties(self, q: dict[str, list[str]], body: Any, kind: str) -> dict:
        kind = object_type(kind)
        results = []
        for name in sorted(KNOWN_PROPS[kind]):
            typ = (
                "datetime"
                if name in DATETIME_PROPS
                else "number"
                if name in NUMBER_PROPS
                else "string"
            )
            results.append(
                {
                    "name": name,
                    "label": name.replace("_", " ").title(),
                    "type": typ,
                    "fieldType": "date"
                    if typ == "datetime"
                    else "number"
                    if typ == "number"
                    else "text",
                    "groupName": f"{kind[:-1]}information",
                    "hubspotDefined": True,
                    "archived": False,
                }
            )
        return {"results": results}

    # ------------------------------------------------------------------ search
    def search(self, q: dict[str, list[str]], body: Any, kind: str) -> dict:
        kind = object_type(kind)
        if not isinstance(body, dict):
            raise ApiError(400, "VALIDATION_ERROR", "search body must be a JSON object")
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 0 < limit <= SEARCH_MAX:
            raise ApiError(
                400, "VALIDATION_ERROR", f"limit={limit!r} is out of range: 1..{SEARCH_MAX}"
            )
        try:
            after = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise ApiError(
                400, "VALIDATION_ERROR", f"after={body.get('after')!r} is not an integer"
            ) from None
        if after >= SEARCH_CAP:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"after={after}: a search can page through at most {SEARCH_CAP} results. "
                "Narrow the filter (e.g. lastmodifieddate/hs_lastmodifieddate >= your last cursor, "
                "or hs_object_id > the last id) and search again.",
            )
        groups = body.get("filterGroups") or []
        sorts = body.get("sorts") or []
        query = body.get("query")
        self._validate_search(groups, sorts)
        key = ("search", kind, repr(groups), repr(sorts), query)
        matches = self._memoized(key, lambda: self._run_search(kind, groups, sorts, query))
        props = body.get("properties") or None
        end = min(after + limit, SEARCH_CAP, len(matches))
        out: dict[str, Any] = {
            "total": len(matches),
            "results": [record(o, props) for o in matches[after:end]],
        }
        if end < len(matches):
            out["paging"] = {"next": {"after": str(end)}}
        return out

    @staticmethod
    def _validate_search(groups: Any, sorts: Any) -> None:
        if not isinstance(groups, list) or len(groups) > 5:
            raise ApiError(
                400, "VALIDATION_ERROR", "filterGroups must be a list of at most 5 groups"
            )
        total = 0
        for g in groups:
            filters = g.get("filters") if isinstance(g, dict) else None
            if not isinstance(filters, list) or len(filters) > 6:
                raise ApiError(
                    400, "VALIDATION_ERROR", "each filterGroup needs filters: a list of at most 6"
                )
            total += len(filters)
            for f in filters:
                if not isinstance(f, dict) or "propertyName" not in f or "operator" not in f:
                    raise ApiError(
                        400, "VALIDATION_ERROR", f"filter {f!r} needs propertyName and operator"
                    )
                if f["operator"] not in OPERATORS:
                    raise ApiError(
                        400,
                        "VALIDATION_ERROR",
                        f"operator {f['operator']!r} is not one of {sorted(OPERATORS)}",
                    )
        if total > 18:
            raise ApiError(400, "VALIDATION_ERROR", f"{total} filters in total; the limit is 18")
        if not isinstance(sorts, list) or len(sorts) > 1:
            raise ApiError(400, "VALIDATION_ERROR", "sorts must be a list with at most one sort")

    def _run_search(
        self, kind: str, groups: list, sorts: list, query: str | None
    ) -> list[CrmObject]:
        fast = self._indexed_search(kind, groups, sorts, query)
        if fast is not None:
            return fast
        items = [o for o in self.world.objects[kind] if not o.archived]
        if groups:
            items = [o for o in items if any(_matches(o, g["filters"]) for g in groups)]
        if query:
            needle = str(query).lower()
            items = [o for o in items if any(needle in str(v).lower() for v in o.props.values())]
        if sorts:
            s = sorts[0]
            if isinstance(s, str):
                name, desc = s.lstrip("-"), s.startswith("-")
            else:
                name, desc = (
                    s.get("propertyName", ""),
                    str(s.get("direction", "ASCENDING")).upper() == "DESCENDING",
                )
            present = [o for o in items if _value(name, _prop(o, name)) is not None]
            missing = [o for o in items if _value(name, _prop(o, name)) is None]
            present.sort(key=lambda o: (_value(name, _prop(o, name)), o.id), reverse=desc)
            items = present + missing
        return items

    def _indexed_search(
        self, kind: str, groups: list, sorts: list, query: str | None
    ) -> list[CrmObject] | None:
        """The incremental-sync query (one `GT`/`GTE` filter on a date property, sorted
        ascending on it) answered from a sorted index, as a real search engine would,
        instead of a scan; the same records in the same order as `_run_search`'s scan.
        None when the query has another shape."""
        if query or len(groups) != 1 or len(groups[0]["filters"]) != 1 or len(sorts) != 1:
            return None
        f, s = groups[0]["filters"][0], sorts[0]
        name = f["propertyName"]
        if (
            name not in DATETIME_PROPS
            or f["operator"] not in ("GT", "GTE")
            or not isinstance(s, dict)
            or s.get("propertyName") != name
            or str(s.get("direction", "ASCENDING")).upper() != "ASCENDING"
        ):
            return None
        wanted = _value(name, f.get("value"))
        if wanted is None:
            return []
        values, objects = self._memoized(("sorted", kind, name), lambda: self._sorted(kind, name))
        cut = bisect.bisect_left if f["operator"] == "GTE" else bisect.bisect_right
        return objects[cut(values, wanted) :]

    def _sorted(self, kind: str, name: str) -> tuple[list[Any], list[CrmObject]]:
        """Live records with a value for `name`, sorted by (value, id)."""
        keyed = sorted(
            (v, o.id, o)
            for o in self.world.objects[kind]
            if not o.archived and (v := _value(name, _prop(o, name))) is not None
        )
        return [k[0] for k in keyed], [k[2] for k in keyed]

    # ------------------------------------------------------------------ owners & pipelines
    def owners(self, q: dict[str, list[str]], body: Any) -> dict:
        one = self._one(q)
        limit = _int(one, "limit", 100, 1, 500)
        start = _int(one, "after", 0, 0, 10**9) if one.get("after") else 0
        archived = one.get("archived", "false").lower() == "true"
        owners = [] if archived else self.world.owners
        if one.get("email"):
            owners = [o for o in owners if o.email == one["email"].lower()]
        out: dict[str, Any] = {
            "results": [
                {
                    "id": str(o.id),
                    "email": o.email,
                    "type": "PERSON",
                    "firstName": o.first,
                    "lastName": o.last,
                    "userId": o.user_id,
                    "userIdIncludingInactive": o.user_id,
                    "createdAt": hs_time(o.created),
                    "updatedAt": hs_time(o.updated),
                    "archived": False,
                    "teams": [],
                }
                for o in owners[start : start + limit]
            ]
        }
        if start + limit < len(owners):
            nxt = str(start + limit)
            out["paging"] = {"next": {"after": nxt, "link": f"/crm/v3/owners/?after={nxt}"}}
        return out

    @staticmethod
    def _stages() -> list[dict]:
        return [
            {
                "label": label,
                "displayOrder": i,
                "metadata": {"isClosed": str(closed).lower(), "probability": str(prob)},
                "id": sid,
                "createdAt": PIPELINE_CREATED,
                "updatedAt": PIPELINE_CREATED,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, (sid, label, prob, closed) in enumerate(PIPELINE_STAGES)
        ]

    def _pipeline(self) -> dict:
        return {
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "id": "default",
            "stages": self._stages(),
            "createdAt": PIPELINE_CREATED,
            "updatedAt": PIPELINE_CREATED,
            "archived": False,
        }

    def pipelines(self, q: dict[str, list[str]], body: Any) -> dict:
        return {"results": [self._pipeline()]}

    def pipeline_one(self, q: dict[str, list[str]], body: Any, pid: str) -> dict:
        if pid != "default":
            raise ApiError(
                404, "OBJECT_NOT_FOUND", f"deal pipeline {pid!r} does not exist (only 'default')"
            )
        return self._pipeline()

    def pipeline_stages(self, q: dict[str, list[str]], body: Any, pid: str) -> dict:
        self.pipeline_one(q, body, pid)
        return {"results": self._stages()}

    # ------------------------------------------------------------------ associations v4
    def _assoc_index(self, src: str, dst: str) -> dict[int, list[dict]]:
        def build() -> dict[int, list[dict]]:
            live = self._memoized(("live_associations",), self.world.live_associations)
            forward = {
                ("contacts", "companies"): "contact_companies",
                ("deals", "contacts"): "deal_contacts",
                ("deals", "companies"): "deal_companies",
            }
            index: dict[int, list[dict]] = {}
            if (src, dst) in forward:
                for a, b, types in live[forward[(src, dst)]]:
                    index.setdefault(a, []).append({"toObjectId": b, "associationTypes": types})
            elif (dst, src) in forward:
                for a, b, types in live[forward[(dst, src)]]:
                    primary = any(t["label"] == "Primary" for t in types)
                    index.setdefault(b, []).append(
                        {"toObjectId": a, "associationTypes": association_types(src, dst, primary)}
                    )
            for links in index.values():
                links.sort(key=lambda x: x["toObjectId"])
            return index

        return self._memoized(("assoc", src, dst), build)

    def _assoc_pair(self, kind: str, to: str) -> tuple[str, str]:
        src, dst = object_type(kind), object_type(to)
        if (src, dst) not in ASSOC_TYPES:
            raise ApiError(400, "VALIDATION_ERROR", f"no association type between {src} and {dst}")
        return src, dst

    def object_associations(
        self, q: dict[str, list[str]], body: Any, kind: str, oid: str, to: str
    ) -> dict:
        src, dst = self._assoc_pair(kind, to)
        obj = self.world.by_id[src].get(int(oid))
        if obj is None or obj.archived:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"{src} {oid} does not exist")
        one = self._one(q)
        limit = _int(one, "limit", ASSOC_PAGE_MAX, 1, ASSOC_PAGE_MAX)
        start = _int(one, "after", 0, 0, 10**9) if one.get("after") else 0
        links = self._assoc_index(src, dst).get(obj.id, [])
        out: dict[str, Any] = {"results": links[start : start + limit]}
        if start + limit < len(links):
            out["paging"] = {"next": {"after": str(start + limit)}}
        return out

    def batch_read(
        self, q: dict[str, list[str]], body: Any, kind: str, to: str
    ) -> tuple[int, dict]:
        src, dst = self._assoc_pair(kind, to)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise ApiError(
                400, "VALIDATION_ERROR", 'batch read body needs "inputs": [{"id": "..."}]'
            )
        if len(inputs) > BATCH_MAX:
            raise ApiError(
                400, "VALIDATION_ERROR", f"{len(inputs)} inputs; a batch holds at most {BATCH_MAX}"
            )
        index = self._assoc_index(src, dst)
        results, missing = [], []
        for item in inputs:
            raw = str(item.get("id", "")) if isinstance(item, dict) else ""
            links = index.get(int(raw)) if raw.isdigit() else None
            if links:
                results.append({"from": {"id": raw}, "to": links})
            else:
                missing.append(raw)
        stamp = hs_time(self.world.now * 1000)
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": stamp,
            "completedAt": stamp,
        }
        if missing:
            out["numErrors"] = len(missing)
            out["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {_singular(dst)} is associated with {_singular(src)} {mid}.",
                    "context": {"fromObjectId": [mid]},
                }
                for mid in missing
            ]
            return 207, out
        return 200, out


def _singular(kind: str) -> str:
    return "company" if kind == "companies" else kind[:-1]


def _prop(o: CrmObject, name: str) -> Any:
    if name == "hs_object_id":
        return o.id
    return o.props.get(name)


def _matches(o: CrmObject, filters: list[dict]) -> bool:
    for f in filters:
        name, op = f["propertyName"], f["operator"]
        if not OPERATORS[op](_value(name, _prop(o, name)), f, name):
            return False
    return True


def _cmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any, dict, str], bool]:
    def check(actual: Any, f: dict, name: str) -> bool:
        wanted = _value(name, f.get("value"))
        return actual is not None and wanted is not None and fn(actual, wanted)

    return check


def _between(actual: Any, f: dict, name: str) -> bool:
    lo, hi = _value(name, f.get("value")), _value(name, f.get("highValue"))
    return actual is not None and lo is not None and hi is not None and lo <= actual <= hi


def _in(actual: Any, f: dict, name: str) -> bool:
    return actual is not None and actual in {_value(name, v) for v in f.get("values") or []}


def _token(actual: Any, f: dict, name: str) -> bool:
    pattern = str(f.get("value", "")).lower()
    return actual is not None and fnmatch.fnmatchcase(
        str(actual), pattern if "*" in pattern else f"*{pattern}*"
    )


OPERATORS: dict[str, Callable[[Any, dict, str], bool]] = {
    "EQ": _cmp(lambda a, b: a == b),
    "NEQ": lambda a, f, n: a != _value(n, f.get("value")),
    "LT": _cmp(lambda a, b: a < b),
    "LTE": _cmp(lambda a, b: a <= b),
    "GT": _cmp(lambda a, b: a > b),
    "GTE": _cmp(lambda a, b: a >= b),
    "BETWEEN": _between,
    "IN": _in,
    "NOT_IN": lambda a, f, n: not _in(a, f, n),
    "HAS_PROPERTY": lambda a, f, n: a not in (None, ""),
    "NOT_HAS_PROPERTY": lambda a, f, n: a in (None, ""),
    "CONTAINS_TOKEN": _token,
    "NOT_CONTAINS_TOKEN": lambda a, f, n: not _token(a, f, n),
}
