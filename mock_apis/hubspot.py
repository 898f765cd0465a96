"""HubSpot CRM API v3 (+ associations v4) over the world.

Handlers are (world, path args, query, json body) -> (status, payload). List
endpoints page by record id (`after` is the next id, stable under inserts);
search pages by offset and refuses to go past 10,000 results like the real one.
Search never returns archived records; list endpoints return either the live or
(with `archived=true`) only the archived ones.

Every object carries `hs_object_id`, `createdate` and its modified-date property,
asked for or not; a property that is defined but unset comes back as null, one the
portal does not define is left out. Values the world does not store come from
`mock_apis.properties.SparseValues`.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mock_apis.clock import hs_time, parse_hs_time_ms
from mock_apis.errors import ApiError
from mock_apis.memo import MemoizedViews
from mock_apis.model import ALWAYS_PROPS, ASSOC_TYPES, DEFAULT_PROPS, CrmObject, association_types
from mock_apis.pipelines import Pipeline, Stage
from mock_apis.properties import SparseValues, definition
from mock_apis.world import World

LIST_MAX = 100
SEARCH_MAX = 200
SEARCH_CAP = 10_000
BATCH_MAX = 1000  # associations v4 batch read
OBJECT_BATCH_MAX = 100  # objects v3 batch read
ASSOC_PAGE_MAX = 500
KINDS = ("contacts", "companies", "deals")
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
OBJECT_LABEL = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL"}


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


def _value(typ: str | None, raw: Any) -> Any:
    """Comparable form of a property value or filter value, by the property's type."""
    if raw is None:
        return None
    if typ in ("datetime", "date"):
        return _ms(str(raw))
    if typ == "number":
        try:
            return float(raw)
        except (TypeError, ValueError):
            return None
    return str(raw).lower()


def _archived_param(q: dict[str, str]) -> bool:
    return q.get("archived", "false").lower() == "true"


class HubSpotApi(MemoizedViews):
    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.reload_schema()
        self.get_routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)$"), self.list_objects),
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)/(?P<oid>[^/]+)$"), self.get_object),
            (re.compile(r"^/crm/v3/owners/?$"), self.owners),
            (re.compile(r"^/crm/v3/pipelines/deals$"), self.pipelines),
            (re.compile(r"^/crm/v3/pipelines/deals/(?P<pid>[^/]+)$"), self.pipeline_one),
            (re.compile(r"^/crm/v3/pipelines/deals/(?P<pid>[^/]+)/stages$"), self.pipeline_stages),
            (re.compile(r"^/crm/v3/properties/(?P<kind>[^/]+)$"), self.properties),
            (
                re.compile(r"^/crm/v3/properties/(?P<kind>[^/]+)/(?P<name>[^/]+)$"),
                self.one_property,
            ),
            (
                re.compile(
                    r"^/crm/v4/objects/(?P<kind>[^/]+)/(?P<oid>\d+)/associations/(?P<to>[^/]+)$"
                ),
                self.object_associations,
            ),
        ]
        self.post_routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)/search$"), self.search),
            (re.compile(r"^/crm/v3/objects/(?P<kind>[^/]+)/batch/read$"), self.batch_read_objects),
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

    def reload_schema(self) -> None:
        """Read the portal's properties: the world's, as injected defects leave them (a new
        property added, a dropped one gone from the listing and from every record)."""
        world, defects = self.world, self.world.defects
        self.schema_version = defects.schema_version
        props = {k: defects.properties(k, world.properties[k]) for k in KINDS}
        self.catalog = {k: {d.name: d for d in props[k]} for k in KINDS}
        self.types = {k: {n: d.type for n, d in self.catalog[k].items()} for k in KINDS}
        self.core = {k: {n for n, d in self.catalog[k].items() if d.gen == "core"} for k in KINDS}
        owner_ids = [o.id for o in world.owners]
        self.sparse = {  # from the generated catalogue, so a defect never shifts other values
            k: SparseValues(k, world.properties[k], world.config.seed, owner_ids, world.stage_index)
            for k in KINDS
        }
        self.definitions = {k: [definition(d) for d in props[k]] for k in KINDS}
        dropped = {k: defects.dropped.get(k, set()) for k in KINDS}
        self.default_names = {
            k: [n for n in DEFAULT_PROPS[k] if n not in dropped[k]] for k in KINDS
        }
        self.always = {k: set(ALWAYS_PROPS[k]) - dropped[k] for k in KINDS}

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

    # ------------------------------------------------------------------ records
    def _names(self, kind: str, requested: list[str] | None) -> tuple[list[str], bool]:
        """The property names a response carries, and whether any is a sparse value."""
        if not requested:
            names = list(self.default_names[kind])
        else:
            defined = self.catalog[kind]
            names = sorted({n for n in requested if n in defined} | self.always[kind])
        return names, any(n not in self.core[kind] for n in names)

    def record(
        self, obj: CrmObject, names: list[str], sparse: bool, history: list[str] | None = None
    ) -> dict[str, Any]:
        props = obj.props
        extra = self.sparse[obj.kind].values(obj) if sparse or history else {}
        out: dict[str, Any] = {
            "id": str(obj.id),
            "properties": {n: props.get(n, extra.get(n)) for n in names},
            "createdAt": hs_time(obj.created),
            "updatedAt": hs_time(obj.updated),
            "archived": obj.archived,
        }
        if obj.archived:
            out["archivedAt"] = hs_time(obj.archived_at)
        if history:
            out["propertiesWithHistory"] = {
                n: self._history(obj, props.get(n, extra.get(n)))
                for n in history
                if n in self.catalog[obj.kind]
            }
        return out

    @staticmethod
    def _history(obj: CrmObject, value: str | None) -> list[dict[str, str]]:
        """The current value only: the mock keeps no older ones."""
        if value is None:
            return []
        return [{"value": value, "timestamp": hs_time(obj.updated), "sourceType": "CRM_UI"}]

    def _prop(self, o: CrmObject, name: str) -> Any:
        if name in o.props or name in self.core[o.kind]:
            return o.props.get(name)
        return self.sparse[o.kind].values(o).get(name)

    # ------------------------------------------------------------------ objects
    def list_objects(self, q: dict[str, list[str]], body: Any, kind: str) -> dict:
        kind = object_type(kind)
        one = self._one(q)
        limit = _int(one, "limit", 10, 1, LIST_MAX)
        archived = _archived_param(one)
        names, sparse = self._names(kind, _props_param(q, q.get("properties", [])))
        history = _props_param(q, q.get("propertiesWithHistory", []))

        def build_items() -> list:
            if self.world.defects and self.world.defects.is_empty(kind):
                return []
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
        out: dict[str, Any] = {"results": [self.record(o, names, sparse, history) for o in page]}
        if start + limit < len(items):
            nxt = str(items[start + limit].id)
            out["paging"] = {"next": {"after": nxt, "link": f"/crm/v3/objects/{kind}?after={nxt}"}}
        return out

    def get_object(self, q: dict[str, list[str]], body: Any, kind: str, oid: str) -> dict:
        kind = object_type(kind)
        one = self._one(q)
        archived = _archived_param(one)
        id_prop = one.get("idProperty") or "hs_object_id"
        obj = self._id_index(kind, id_prop).get(self._id_key(id_prop, oid))
        if obj is None or obj.archived != archived:
            raise ApiError(
                404, "OBJECT_NOT_FOUND", f"{kind} {oid} does not exist (archived={archived})"
            )
        names, sparse = self._names(kind, _props_param(q, q.get("properties", [])))
        return self.record(obj, names, sparse, _props_param(q, q.get("propertiesWithHistory", [])))

    def _id_index(self, kind: str, id_prop: str) -> dict[Any, CrmObject]:
        """Records by the value of a unique property (the id itself by default)."""
        if self.world.defects and self.world.defects.is_empty(kind):
            return {}
        if id_prop == "hs_object_id":
            return self.world.by_id[kind]
        d = self.catalog[kind].get(id_prop)
        if d is None or not (d.unique or (kind == "contacts" and id_prop == "email")):
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"idProperty={id_prop!r} is not a unique property of {kind} "
                "(use hs_object_id, email for contacts, or a property with hasUniqueValue)",
            )

        def build() -> dict[Any, CrmObject]:
            index: dict[Any, CrmObject] = {}
            for o in self.world.objects[kind]:
                value = self._prop(o, id_prop)
                if value is not None:
                    index.setdefault(self._id_key(id_prop, value), o)
            return index

        return self._memoized(("id_index", kind, id_prop), build)

    @staticmethod
    def _id_key(id_prop: str, raw: Any) -> Any:
        text = str(raw).strip()
        if id_prop == "hs_object_id":
            return int(text) if text.isdigit() else None
        return text.lower() if id_prop == "email" else text

    def batch_read_objects(self, q: dict[str, list[str]], body: Any, kind: str) -> tuple[int, dict]:
        kind = object_type(kind)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise ApiError(
                400, "VALIDATION_ERROR", 'batch read body needs "inputs": [{"id": "..."}]'
            )
        if len(inputs) > OBJECT_BATCH_MAX:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"{len(inputs)} inputs; a batch read holds at most {OBJECT_BATCH_MAX}: "
                "split the ids into batches of 100",
            )
        archived = _archived_param(self._one(q))
        id_prop = body.get("idProperty") or "hs_object_id"
        index = self._id_index(kind, id_prop)
        names, sparse = self._names(kind, body.get("properties") or None)
        history = body.get("propertiesWithHistory") or None
        results, missing, seen = [], [], set()
        for item in inputs:
            raw = str(item.get("id", "")) if isinstance(item, dict) else ""
            obj = index.get(self._id_key(id_prop, raw))
            if obj is None or obj.archived != archived:
                missing.append(raw)
            elif obj.id not in seen:
                seen.add(obj.id)
                results.append(self.record(obj, names, sparse, history))
        stamp = hs_time(self.world.now * 1000)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {OBJECT_LABEL[kind]} objects, they may be "
                    "deleted or not exist. Check that ids are valid.",
                    "context": {"ids": missing},
                }
            ]
        out |= {"startedAt": stamp, "completedAt": stamp}
        return (207 if missing else 200), out

    def properties(self, q: dict[str, list[str]], body: Any, kind: str) -> dict:
        kind = object_type(kind)
        return {"results": [] if _archived_param(self._one(q)) else self.definitions[kind]}

    def one_property(self, q: dict[str, list[str]], body: Any, kind: str, name: str) -> dict:
        kind = object_type(kind)
        for d in self.definitions[kind]:
            if d["name"] == name:
                return d
        raise ApiError(404, "OBJECT_NOT_FOUND", f"{kind} has no property named {name!r}")

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
        names, sparse = self._names(kind, body.get("properties") or None)
        end = min(after + limit, SEARCH_CAP, len(matches))
        out: dict[str, Any] = {
            "total": len(matches),
            "results": [self.record(o, names, sparse) for o in matches[after:end]],
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
        if self.world.defects and self.world.defects.is_empty(kind):
            return []
        fast = self._indexed_search(kind, groups, sorts, query)
        if fast is not None:
            return fast
        items = [o for o in self.world.objects[kind] if not o.archived]
        if groups:
            items = [o for o in items if any(self._matches(o, g["filters"]) for g in groups)]
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
            typ = self.types[kind].get(name)
            present = [o for o in items if _value(typ, self._prop(o, name)) is not None]
            missing = [o for o in items if _value(typ, self._prop(o, name)) is None]
            present.sort(key=lambda o: (_value(typ, self._prop(o, name)), o.id), reverse=desc)
            items = present + missing
        return items

    def _matches(self, o: CrmObject, filters: list[dict]) -> bool:
        types = self.types[o.kind]
        for f in filters:
            name = f["propertyName"]
            typ = types.get(name)
            if not OPERATORS[f["operator"]](_value(typ, self._prop(o, name)), f, typ):
                return False
        return True

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
        typ = self.types[kind].get(name)
        if (
            typ not in ("datetime", "date")
            or f["operator"] not in ("GT", "GTE")
            or not isinstance(s, dict)
            or s.get("propertyName") != name
            or str(s.get("direction", "ASCENDING")).upper() != "ASCENDING"
        ):
            return None
        wanted = _value(typ, f.get("value"))
        if wanted is None:
            return []
        values, objects = self._memoized(("sorted", kind, name), lambda: self._sorted(kind, name))
        cut = bisect.bisect_left if f["operator"] == "GTE" else bisect.bisect_right
        return objects[cut(values, wanted) :]

    def _sorted(self, kind: str, name: str) -> tuple[list[Any], list[CrmObject]]:
        """Live records with a value for `name`, sorted by (value, id)."""
        typ = self.types[kind].get(name)
        keyed = sorted(
            (v, o.id, o)
            for o in self.world.objects[kind]
            if not o.archived and (v := _value(typ, self._prop(o, name))) is not None
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
    def _stage(s: Stage) -> dict:
        return {
            "label": s.label,
            "displayOrder": s.display_order,
            "metadata": {"isClosed": str(s.is_closed).lower(), "probability": str(s.probability)},
            "id": s.id,
            "createdAt": hs_time(s.created_ms),
            "updatedAt": hs_time(s.created_ms),
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }

    def _pipeline(self, p: Pipeline) -> dict:
        return {
            "label": p.label,
            "displayOrder": p.display_order,
            "id": p.id,
            "stages": [self._stage(s) for s in p.stages],
            "createdAt": hs_time(p.created_ms),
            "updatedAt": hs_time(p.created_ms),
            "archived": False,
        }

    def _find_pipeline(self, pid: str) -> Pipeline:
        pipe = self.world.pipeline_by_id.get(pid)
        if pipe is None:
            known = [p.id for p in self.world.pipelines]
            raise ApiError(
                404, "OBJECT_NOT_FOUND", f"deal pipeline {pid!r} does not exist (known: {known})"
            )
        return pipe

    def pipelines(self, q: dict[str, list[str]], body: Any) -> dict:
        return {"results": [self._pipeline(p) for p in self.world.pipelines]}

    def pipeline_one(self, q: dict[str, list[str]], body: Any, pid: str) -> dict:
        return self._pipeline(self._find_pipeline(pid))

    def pipeline_stages(self, q: dict[str, list[str]], body: Any, pid: str) -> dict:
        return {"results": [self._stage(s) for s in self._find_pipeline(pid).stages]}

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


def _cmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any, dict, str | None], bool]:
    def check(actual: Any, f: dict, typ: str | None) -> bool:
        wanted = _value(typ, f.get("value"))
        return actual is not None and wanted is not None and fn(actual, wanted)

    return check


def _between(actual: Any, f: dict, typ: str | None) -> bool:
    lo, hi = _value(typ, f.get("value")), _value(typ, f.get("highValue"))
    return actual is not None and lo is not None and hi is not None and lo <= actual <= hi


def _in(actual: Any, f: dict, typ: str | None) -> bool:
    return actual is not None and actual in {_value(typ, v) for v in f.get("values") or []}


def _token(actual: Any, f: dict, typ: str | None) -> bool:
    pattern = str(f.get("value", "")).lower()
    return actual is not None and fnmatch.fnmatchcase(
        str(actual), pattern if "*" in pattern else f"*{pattern}*"
    )


OPERATORS: dict[str, Callable[[Any, dict, str | None], bool]] = {
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
