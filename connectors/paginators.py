"""Paginators: turn one endpoint into a stream of pages of raw records.

- MailChimp: `count` + `offset`, stopping on a short page or at `total_items`.
- HubSpot: the `paging.next.after` cursor.
- HubSpot search: `after` up to the 10,000-result cap, then re-anchor the filter
  on the last cursor value seen (`>=`, so ties are re-read and merged, not lost).

Each body is decoded by msgspec into just the paging fields and one `Raw` slice per
record (validated JSON, no Python objects built), inside the HTTP retry loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import msgspec

from connectors.base import Page, decode_each
from connectors.http import HttpClient


@lru_cache
def page_decoder(key: str) -> msgspec.json.Decoder:
    """Decodes a page body into `.records` (one `msgspec.Raw` per element of `key`),
    `.total_items` and `.paging`; every other field is skipped."""
    cls = msgspec.defstruct(
        f"Page_{key}",
        [
            ("records", list[msgspec.Raw] | None, msgspec.field(default=None, name=key)),
            ("total_items", Any, None),
            ("paging", Any, None),
        ],
    )
    return msgspec.json.Decoder(cls)


def next_after(paging: Any) -> str | None:
    if not isinstance(paging, dict):
        return None
    nxt = paging.get("next")
    after = nxt.get("after") if isinstance(nxt, dict) else None
    return str(after) if after not in (None, "") else None


def offset_pages(
    client: HttpClient,
    path: str,
    key: str,
    *,
    page_size: int,
    params: dict[str, Any] | None = None,
    parent_id: str | None = None,
) -> Iterator[Page]:
    decode = page_decoder(key).decode
    offset = 0
    while True:
        data = client.get(
            path, {**(params or {}), "count": page_size, "offset": offset}, decode=decode
        ).data
        records = data.records or []
        yield Page(records, parent_id)
        offset += len(records)
        total = data.total_items
        if len(records) < page_size or (isinstance(total, int) and offset >= total):
            return


def after_pages(
    client: HttpClient,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    key: str = "results",
) -> Iterator[Page]:
    decode = page_decoder(key).decode
    after: str | None = None
    while True:
        query = dict(params or {})
        if after:
            query["after"] = after
        data = client.get(path, query, decode=decode).data
        yield Page(data.records or [])
        after = next_after(data.paging)
        if not after:
            return


@lru_cache
def cursor_decoder(prop: str) -> msgspec.json.Decoder:
    """Decodes records into just `properties.<prop>` and `updatedAt`."""
    props = msgspec.defstruct(f"Props_{prop}", [(prop, Any, None)])
    rec = msgspec.defstruct(
        f"Cursor_{prop}",
        [("properties", props | None, None), ("updatedAt", Any, None)],
    )
    return msgspec.json.Decoder(list[rec])


def cursor_max_ms(raws: Sequence[Any], prop: str, *, fallback: bool = True) -> int | None:
    """The newest record cursor on a page in epoch ms (None for an empty page): each
    record's `properties.<prop>`, else (with `fallback`) `updatedAt`; 0 when neither is set.

    Timestamps in HubSpot's own shape (`2024-03-01T12:34:56.789Z`) order as text, so only
    their maximum is parsed (parsing each costs ~2 us: a tenth of a full sync's Python
    time); any other shape is parsed on its own."""
    if not raws:
        return None
    best = 0
    canonical: list[str] = []
    for r in decode_each(raws, cursor_decoder(prop)):
        value = getattr(r.properties, prop) if r.properties else None
        if not value and fallback:
            value = r.updatedAt
        if not value:
            continue
        if isinstance(value, str) and len(value) == 24 and value[10] == "T" and value[-1] == "Z":
            canonical.append(value)
        else:
            best = max(best, iso_to_ms(value))
    if canonical:
        best = max(best, iso_to_ms(max(canonical)))
    return best


def search_pages(
    client: HttpClient,
    object_type: str,
    *,
    cursor_property: str,
    since_ms: int,
    properties: list[str],
    page_size: int,
    cap: int = 10_000,
) -> Iterator[tuple[Page, int]]:
    """All records with `cursor_property >= since_ms`, oldest first, past the search cap.

    Yields (page, max cursor ms on the page). Sorting ascending on the
    cursor makes every yielded page a safe checkpoint: everything older is read.
    """
    anchor = since_ms
    path = f"/crm/v3/objects/{object_type}/search"
    while True:
        after = 0
        last_ms = anchor
        while True:
            body: dict[str, Any] = {
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": cursor_property,
                                "operator": "GTE",
                                "value": str(anchor),
                            }
                        ]
                    }
                ],
                "sorts": [{"propertyName": cursor_property, "direction": "ASCENDING"}],
                "properties": properties,
                "limit": min(page_size, cap - after),
            }
            if after:
                body["after"] = str(after)
            data = client.post(path, body, decode=page_decoder("results").decode).data
            records = data.records or []
            page_max = cursor_max_ms(records, cursor_property)
            page_max = last_ms if page_max is None else page_max
            last_ms = max(last_ms, page_max)
            yield Page(records), page_max
            nxt = next_after(data.paging)
            if not nxt or not records:
                return
            after = int(nxt)
            if after >= cap:
                break  # the query is exhausted at the cap: re-anchor and go on
        if last_ms <= anchor:
            raise RuntimeError(
                f"HubSpot search on {object_type}: more than {cap} records share "
                f"{cursor_property} = {anchor}; cannot page past the search cap"
            )
        anchor = last_ms


def iso_to_ms(value: str) -> int:
    from datetime import datetime

    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return round(datetime.fromisoformat(text).timestamp() * 1000)
