"""HubSpot CRM API v3/v4: streams and readers.

Incremental rules:
- contacts, companies, deals: the first (or a --full-refresh) sync lists every
  live record (`GET /crm/v3/objects/{type}`, `after` cursor) and records the
  newest cursor value. Later syncs search `cursor >= saved - lookback`, sorted
  ascending, re-anchoring past the 10,000-result cap, checkpointing every page.
  Search never returns archived records, so every sync also lists
  `archived=true` and merges them: an archived record keeps its row with
  `archived = true`.
- owners, pipelines, stages: small, re-read whole (live and archived owners).
- associations (v4 batch read from the live from-side ids): the first or a
  --full-refresh sync replaces the table whole; later syncs delete and re-read
  only the from-side records whose associations may have changed: changed
  since the saved marks themselves (archived ones included), or linked (before
  or now) to a to-side record that changed. Marks are the newest `updatedAt` in
  the raw from/to tables, written in the same transaction as the rows.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
from pydantic import Field, SecretStr, field_validator

from connectors.base import Checkpoint, Delete, Item, Page, ReadContext, Source, decode_each
from connectors.config import SourceConfig, check_base_url
from connectors.errors import ClientError
from connectors.http import HttpClient, RequestBudget
from connectors.paginators import (
    after_pages,
    cursor_max_ms,
    page_decoder,
    search_pages,
)
from connectors.streams import Col, Stream


class HubspotConfig(SourceConfig):
    access_token: SecretStr
    base_url: str = "https://api.hubapi.com"
    page_size: int = Field(100, ge=1, le=100)
    search_page_size: int = Field(200, ge=1, le=200)
    search_cap: int = Field(10_000, ge=1, description="Results one search query can page through.")
    association_batch: int = Field(1000, ge=1, le=1000)
    object_batch: int = Field(100, ge=1, le=100, description="Ids per objects batch read.")
    requests_per_10s: int = Field(
        100,
        ge=0,
        description="Client-side budget: requests in any 10 s, shared by every stream of the "
        "app (HubSpot allows private apps 100 per 10 s on Free/Starter, 190 on Professional/"
        "Enterprise). 0: no budget (a local mock, or a raised limit).",
    )
    search_requests_per_s: int = Field(
        4, ge=0, description="Search requests per second (HubSpot allows 5). 0: no budget."
    )

    @field_validator("base_url")
    @classmethod
    def _reachable(cls, v: str) -> str:
        return check_base_url(v)


TS = "TIMESTAMPTZ"
MAX_PROPERTIES_CHARS = 1800  # keep GET urls well below 414 territory
CURSOR_PROP = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
TYPED_PROPS = {
    "contacts": (
        "email",
        "firstname",
        "lastname",
        "company",
        "lifecyclestage",
        "hubspot_owner_id",
        "createdate",
        "lastmodifieddate",
        "associatedcompanyid",
    ),
    "companies": (
        "name",
        "domain",
        "industry",
        "hubspot_owner_id",
        "createdate",
        "hs_lastmodifieddate",
    ),
    "deals": (
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        "createdate",
        "hs_lastmodifieddate",
        "hubspot_owner_id",
    ),
}


def _object_stream(name: str) -> Stream:
    return Stream(
        name=name,
        primary_key=("id",),
        records_key="results",
        cursor_field=CURSOR_PROP[name],
        incremental=True,
        columns=(
            Col("id"),
            *(Col(p, path=f"properties.{p}") for p in TYPED_PROPS[name]),
            Col("created_at", TS, "createdAt"),
            Col("updated_at", TS, "updatedAt"),
            Col("archived", "BOOLEAN"),
            Col("archived_at", TS, "archivedAt"),
            Col("properties", "JSON"),
        ),
        description=f"CRM {name}, live and archived; incremental on {CURSOR_PROP[name]}.",
    )


CONTACTS, COMPANIES, DEALS = (_object_stream(n) for n in ("contacts", "companies", "deals"))
OWNERS = Stream(
    name="owners",
    primary_key=("id",),
    records_key="results",
    columns=(
        Col("id"),
        Col("email"),
        Col("first_name", path="firstName"),
        Col("last_name", path="lastName"),
        Col("user_id", path="userId"),
        Col("created_at", TS, "createdAt"),
        Col("updated_at", TS, "updatedAt"),
        Col("archived", "BOOLEAN"),
    ),
    description="CRM owners (sales reps), live and archived.",
)
DEAL_PIPELINES = Stream(
    name="deal_pipelines",
    primary_key=("id",),
    records_key="results",
    columns=(
        Col("id"),
        Col("label"),
        Col("display_order", "INTEGER", "displayOrder"),
        Col("archived", "BOOLEAN"),
    ),
    description="Deal pipelines.",
)
DEAL_PIPELINE_STAGES = Stream(
    name="deal_pipeline_stages",
    primary_key=("pipeline_id", "id"),
    records_key="results",
    parent="deal_pipelines",
    columns=(
        Col("pipeline_id"),
        Col("id"),
        Col("label"),
        Col("display_order", "INTEGER"),
        Col("is_closed", "BOOLEAN"),
        Col("probability", "DOUBLE"),
        Col("archived", "BOOLEAN"),
    ),
    description="Stages of each deal pipeline.",
    select="""
SELECT p->>'id' AS pipeline_id, st->>'id' AS id, st->>'label' AS label,
  TRY_CAST(st->>'displayOrder' AS INTEGER) AS display_order,
  TRY_CAST(st->'metadata'->>'isClosed' AS BOOLEAN) AS is_closed,
  TRY_CAST(st->'metadata'->>'probability' AS DOUBLE) AS probability,
  TRY_CAST(st->>'archived' AS BOOLEAN) AS archived,
  st AS _raw, seq
FROM (SELECT seq, p, unnest(json_extract(p, '$.stages[*]')) AS st
      FROM (SELECT seq, r::JSON AS p FROM stg))
""",
)


def _assoc_stream(name: str, from_col: str, to_col: str, from_type: str, to_type: str) -> Stream:
    return Stream(
        name=name,
        primary_key=(from_col, to_col),
        records_key="results",
        replace=True,
        columns=(Col(from_col), Col(to_col), Col("association_types", "JSON")),
        description=f"Associations {from_type} -> {to_type}; changed from-side records re-read.",
        extra={"from": from_type, "to": to_type},
        select=f"""
SELECT r->'from'->>'id' AS {from_col}, t->>'toObjectId' AS {to_col},
  t->'associationTypes' AS association_types,
  json_object('from', r->'from', 'to', t) AS _raw, seq
FROM (SELECT seq, r, unnest(json_extract(r, '$.to[*]')) AS t
      FROM (SELECT seq, r::JSON AS r FROM stg))
""",
    )


CONTACT_COMPANIES = _assoc_stream(
    "contact_companies", "contact_id", "company_id", "contacts", "companies"
)
DEAL_CONTACTS = _assoc_stream("deal_contacts", "deal_id", "contact_id", "deals", "contacts")
DEAL_COMPANIES = _assoc_stream("deal_companies", "deal_id", "company_id", "deals", "companies")

STREAMS = [
    OWNERS,
    DEAL_PIPELINES,
    DEAL_PIPELINE_STAGES,
    COMPANIES,
    CONTACTS,
    DEALS,
    CONTACT_COMPANIES,
    DEAL_CONTACTS,
    DEAL_COMPANIES,
]


# one budget per app (base URL + token + limits), shared by every lane's client
_BUDGETS: dict[tuple[str, str, int, int], tuple[RequestBudget | None, RequestBudget | None]] = {}
_BUDGETS_LOCK = threading.Lock()


def request_budgets(config: HubspotConfig) -> tuple[RequestBudget | None, RequestBudget | None]:
    """The app's (every request, search requests) budgets; None where the config sets 0."""
    token = hashlib.sha256(config.access_token.get_secret_value().encode()).hexdigest()
    key = (config.base_url, token, config.requests_per_10s, config.search_requests_per_s)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = (
                RequestBudget(config.requests_per_10s, 10.0) if config.requests_per_10s else None,
                RequestBudget(config.search_requests_per_s, 1.0)
                if config.search_requests_per_s
                else None,
            )
        return _BUDGETS[key]


def make_client(config: HubspotConfig) -> HttpClient:
    every, search = request_budgets(config)

    def budgets(method: str, path: str) -> list[RequestBudget]:
        spent = [every] if every else []
        if search and path.endswith("/search"):
            spent.append(search)
        return spent

    return HttpClient(
        config.base_url,
        bearer=config.access_token.get_secret_value(),
        timeout_s=config.http_timeout_s,
        max_retries=config.http_max_retries,
        backoff_base_s=config.backoff_base_s,
        backoff_max_s=config.backoff_max_s,
        connect_retries=config.connect_retries,
        connect_backoff_s=config.connect_backoff_s,
        budgets=budgets,
    )


def _ms_to_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


# --------------------------------------------------------------------------- readers
def read_owners(ctx: ReadContext, state: Any) -> Iterator[Item]:
    for archived in ("false", "true"):
        yield from after_pages(
            ctx.client,
            "/crm/v3/owners",
            params={"limit": ctx.config.page_size, "archived": archived},
        )


def _pipelines_page(ctx: ReadContext) -> Page:
    data = ctx.client.get("/crm/v3/pipelines/deals", decode=page_decoder("results").decode).data
    return Page(data.records or [])


def read_pipelines(ctx: ReadContext, state: Any) -> Iterator[Item]:
    yield _pipelines_page(ctx)


def read_stages(ctx: ReadContext, state: Any) -> Iterator[Item]:
    page = _pipelines_page(ctx)
    results = page.dicts()
    page.count = sum(len(p.get("stages") or []) for p in results)
    yield page


def _properties(ctx: ReadContext, object_type: str) -> list[str]:
    """Every property the portal defines (so `_raw` loses nothing), else the typed ones."""
    key = f"props:{object_type}"
    if key not in ctx.shared:
        try:
            resp = ctx.client.get(f"/crm/v3/properties/{object_type}")
            names = sorted({p["name"] for p in resp.data.get("results") or [] if p.get("name")})
        except ClientError:
            names = []
        ctx.shared[key] = sorted(set(names) | set(TYPED_PROPS[object_type]) | {"hs_object_id"})
    return ctx.shared[key]


class _Id(msgspec.Struct):
    id: str


_IDS = msgspec.json.Decoder(list[_Id])


def _list_pages(ctx: ReadContext, object_type: str, archived: bool) -> Iterator[Page]:
    """Every live (or archived) record with every property. When the property names fit a
    short URL, one list request per page; otherwise (real portals define hundreds) the list
    names only the ids and a POST batch read fetches each page's records with all their
    properties: no URL grows with the property list, whatever the server's limit, and each
    record comes whole from one response."""
    cfg: HubspotConfig = ctx.config
    props = _properties(ctx, object_type)
    path = f"/crm/v3/objects/{object_type}"
    flag = str(archived).lower()
    if len(",".join(props)) <= MAX_PROPERTIES_CHARS:
        params = {"limit": cfg.page_size, "archived": flag, "properties": ",".join(props)}
        yield from after_pages(ctx.client, path, params=params)
        return
    params = {"limit": cfg.page_size, "archived": flag, "properties": "hs_object_id"}
    decode = page_decoder("results").decode
    for listed in after_pages(ctx.client, path, params=params):
        ids = [r.id for r in decode_each(listed.raws, _IDS)]
        for i in range(0, len(ids), cfg.object_batch):
            body = {
                "inputs": [{"id": x} for x in ids[i : i + cfg.object_batch]],
                "properties": props,
            }
            data = ctx.client.post(
                f"{path}/batch/read", body, params={"archived": flag}, decode=decode
            )
            # ids gone since the list (archived or deleted meanwhile) are left out: an
            # archived one is read by the archived listing
            yield Page(data.data.records or [])


def _object_reader(object_type: str):
    prop = CURSOR_PROP[object_type]

    def read(ctx: ReadContext, state: Any) -> Iterator[Item]:
        cfg: HubspotConfig = ctx.config
        saved = None if ctx.full_refresh or not state else state.get("cursor_ms")
        best = saved or 0
        if saved is None:
            for page in _list_pages(ctx, object_type, archived=False):
                # the record's own cursor property (not `updatedAt`)
                best = max(best, cursor_max_ms(page.raws, prop, fallback=False) or 0)
                yield page
        else:
            since = saved - int(cfg.lookback.total_seconds() * 1000)
            for page, page_max in search_pages(
                ctx.client,
                object_type,
                cursor_property=prop,
                since_ms=since,
                properties=_properties(ctx, object_type),
                page_size=cfg.search_page_size,
                cap=cfg.search_cap,
            ):
                yield page
                if page_max > best:
                    best = page_max
                    yield Checkpoint({"cursor_ms": best, "cursor": _ms_to_iso(best)})
        # search never returns archived records: list them and merge them every sync
        for page in _list_pages(ctx, object_type, archived=True):
            yield page
        if best:
            yield Checkpoint({"cursor_ms": best, "cursor": _ms_to_iso(best)})

    return read


class _AssocTo(msgspec.Struct):
    to: list[msgspec.Raw] | None = None


_ASSOC_TO = msgspec.json.Decoder(list[_AssocTo])


def _assoc_reader(stream: Stream):
    """Associations from the live from-side ids. The first (or a --full-refresh) sync
    replaces the table; later syncs re-read only the from-side records whose
    associations may have changed since the saved marks (see `_assoc_changed`)."""
    from_type, to_type = stream.extra["from"], stream.extra["to"]
    from_col = stream.primary_key[0]
    path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"

    def pages(ctx: ReadContext, ids: list[str]) -> Iterator[Item]:
        cfg: HubspotConfig = ctx.config
        for i in range(0, len(ids), cfg.association_batch):
            batch = ids[i : i + cfg.association_batch]
            data = ctx.client.post(
                path, {"inputs": [{"id": x} for x in batch]}, decode=page_decoder("results").decode
            ).data
            page = Page(data.records or [])
            try:  # count the `to` entries without building a dict per association
                page.count = sum(len(r.to or ()) for r in decode_each(page.raws, _ASSOC_TO))
            except msgspec.ValidationError:  # an odd shape: count from the records themselves
                page.count = sum(len(r.get("to") or []) for r in page.dicts())
            yield page

    def read(ctx: ReadContext, state: Any) -> Iterator[Item]:
        cfg: HubspotConfig = ctx.config
        if ctx.query is None:  # Airbyte path: no raw file, list the live ids
            ids = []
            for page in after_pages(
                ctx.client,
                f"/crm/v3/objects/{from_type}",
                params={"limit": cfg.page_size, "archived": "false", "properties": "hs_object_id"},
            ):
                ids.extend(r["id"] for r in page.dicts())
            yield from pages(ctx, ids)
            return
        marks = {
            "from_ms": _max_updated_ms(ctx, from_type),
            "to_ms": _max_updated_ms(ctx, to_type),
        }
        if ctx.full_refresh or not state:
            ids = [r[0] for r in ctx.query(_live_ids_sql(from_type, "TRUE"))]
        else:
            redo = _assoc_changed(ctx, stream, state)
            yield Delete(from_col, redo)
            ids = sorted(set(redo) & {r[0] for r in ctx.query(_live_ids_sql(from_type, "TRUE"))})
        yield from pages(ctx, ids)
        yield Checkpoint(marks)

    return read


def _max_updated_ms(ctx: ReadContext, object_type: str) -> int:
    rows = ctx.query(f'SELECT epoch_ms(max(updated_at)) FROM raw_hubspot."{object_type}"')
    return int(rows[0][0] or 0) if rows else 0


def _live_ids_sql(object_type: str, where: str) -> str:
    return (
        f'SELECT id FROM raw_hubspot."{object_type}" '
        f"WHERE NOT coalesce(archived, false) AND ({where}) ORDER BY id"
    )


def _changed(column: str, since_ms: int) -> str:
    return f"({column} IS NULL OR {column} >= to_timestamp({int(since_ms)} / 1000.0))"


def _assoc_changed(ctx: ReadContext, stream: Stream, state: dict[str, Any]) -> list[str]:
    """From-side ids whose associations may differ from the raw table's rows.

    - from-side records changed (created, updated, archived) since `from_ms - lookback`;
    - from-side records linked, in the raw table, to a to-side record changed since
      `to_ms - lookback` (an archived company takes its associations with it);
    - from-side records the API now links to such a changed, live to-side record
      (read from the to-side, so an association added there is seen too).
    Timestamps are the records' own `updatedAt` (from the raw tables), not clocks.
    """
    cfg: HubspotConfig = ctx.config
    from_type, to_type = stream.extra["from"], stream.extra["to"]
    from_col, to_col = stream.primary_key
    lookback = int(cfg.lookback.total_seconds() * 1000)
    since_from = int(state.get("from_ms") or 0) - lookback
    since_to = int(state.get("to_ms") or 0) - lookback
    redo = {
        r[0]
        for r in ctx.query(
            f'SELECT id FROM raw_hubspot."{from_type}" WHERE {_changed("updated_at", since_from)}'
        )
    }
    redo |= {
        str(r[0])
        for r in ctx.query(
            f'SELECT DISTINCT a."{from_col}" FROM raw_hubspot."{stream.name}" a '
            f'JOIN raw_hubspot."{to_type}" t ON t.id = a."{to_col}" '
            f"WHERE {_changed('t.updated_at', since_to)}"
        )
    }
    live_to = [r[0] for r in ctx.query(_live_ids_sql(to_type, _changed("updated_at", since_to)))]
    reverse = f"/crm/v4/associations/{to_type}/{from_type}/batch/read"
    for i in range(0, len(live_to), cfg.association_batch):
        batch = live_to[i : i + cfg.association_batch]
        resp = ctx.client.post(reverse, {"inputs": [{"id": x} for x in batch]})
        for r in resp.data.get("results") or []:
            redo.update(str(t.get("toObjectId")) for t in r.get("to") or [])
    return sorted(redo)


SOURCE = Source(
    name="hubspot",
    streams=STREAMS,
    readers={
        "owners": read_owners,
        "deal_pipelines": read_pipelines,
        "deal_pipeline_stages": read_stages,
        "companies": _object_reader("companies"),
        "contacts": _object_reader("contacts"),
        "deals": _object_reader("deals"),
        **{s.name: _assoc_reader(s) for s in (CONTACT_COMPANIES, DEAL_CONTACTS, DEAL_COMPANIES)},
    },
    make_client=make_client,
    config_type=HubspotConfig,
    check_path="/crm/v3/owners?limit=1",
    # associations read the object tables: they stay in the lane that loads those
    lanes=(
        ("companies", "contacts", "deals", "contact_companies", "deal_contacts", "deal_companies"),
        ("owners", "deal_pipelines", "deal_pipeline_stages"),
    ),
)
