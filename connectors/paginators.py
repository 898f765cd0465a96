"""Paginators: turn one endpoint into a stream of (page body, parsed records).

- MailChimp: `count` + `offset`, stopping on a short page or at `total_items`.
- HubSpot: the `paging.next.after` cursor.
- HubSpot search: `after` up to the 10,000-result cap, then re-anchor the filter
  on the last cursor value seen (`>=`, so ties are re-read and merged, not lost).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.http import HttpClient
from connectors.loader import Page


def offset_pages(
    client: HttpClient,
    path: str,
    key: str,
    *,
    page_size: int,
    params: dict[str, Any] | None = None,
    parent_id: str | None = None,
) -> Iterator[tuple[Page, list[dict[str, Any]]]]:
    offset = 0
    while True:
        resp = client.get(path, {**(params or {}), "count": page_size, "offset": offset})
        records = resp.data.get(key) or []
        yield Page(resp.body, len(records), parent_id), records
        offset += len(records)
        total = resp.data.get("total_items")
        if len(records) < page_size or (total is not None and offset >= total):
            return


def after_pages(
    client: HttpClient,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    key: str = "results",
) -> Iterator[tuple[Page, list[dict[str, Any]]]]:
    after: str | None = None
    while True:
        query = dict(params or {})
        if after:
            query["after"] = after
        resp = client.get(path, query)
        records = resp.data.get(key) or []
        yield Page(resp.body, len(records)), records
        after = ((resp.data.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


def search_pages(
    client: HttpClient,
    object_type: str,
    *,
    cursor_property: str,
    since_ms: int,
    properties: list[str],
    page_size: int,
    cap: int = 10_000,
) -> Iterator[tuple[Page, list[dict[str, Any]], int]]:
    """All records with `cursor_property >= since_ms`, oldest first, past the search cap.

    Yields (page, records, max cursor ms on the page). Sorting ascending on the
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
            resp = client.post(path, body)
            records = resp.data.get("results") or []
            page_max = max((_ms(r, cursor_property) for r in records), default=last_ms)
            last_ms = max(last_ms, page_max)
            yield Page(resp.body, len(records)), records, page_max
            nxt = ((resp.data.get("paging") or {}).get("next") or {}).get("after")
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


def _ms(record: dict[str, Any], prop: str) -> int:
    value = (record.get("properties") or {}).get(prop) or record.get("updatedAt")
    return iso_to_ms(value) if value else 0


def iso_to_ms(value: str) -> int:
    from datetime import datetime

    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return round(datetime.fromisoformat(text).timestamp() * 1000)
