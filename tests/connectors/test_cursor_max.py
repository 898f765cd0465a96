"""The newest cursor on a page: the text shortcut for HubSpot's timestamp shape agrees
with parsing every value, for any mix of shapes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest

from connectors.paginators import cursor_max_ms, iso_to_ms


def _rec(prop: str, value: str | None, updated: str | None = None) -> bytes:
    body: dict = {"id": "1", "properties": {prop: value} if value is not None else {}}
    if updated is not None:
        body["updatedAt"] = updated
    return orjson.dumps(body)


def test_empty_page_has_no_cursor() -> None:
    assert cursor_max_ms([], "hs_lastmodifieddate") is None


def test_missing_values_count_as_zero_and_fall_back_to_updated_at() -> None:
    prop = "lastmodifieddate"
    assert cursor_max_ms([_rec(prop, None)], prop) == 0
    rec = _rec(prop, None, "2024-03-01T00:00:00.000Z")
    assert cursor_max_ms([rec], prop) == iso_to_ms("2024-03-01T00:00:00.000Z")
    assert cursor_max_ms([rec], prop, fallback=False) == 0


@pytest.mark.parametrize("seed", range(5))
def test_max_equals_parsing_every_value(seed: int) -> None:
    rng = random.Random(seed)
    prop = "hs_lastmodifieddate"
    raws, values = [], []
    for _ in range(300):
        ms = rng.randrange(1_600_000_000_000, 1_800_000_000_000)
        dt = datetime.fromtimestamp(ms / 1000, UTC)
        shape = rng.choice(["hubspot", "digits", "offset", "seconds", "none"])
        value = {
            "hubspot": dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z",
            "digits": str(ms),
            "offset": dt.isoformat(),
            "seconds": dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "none": None,
        }[shape]
        raws.append(_rec(prop, value))
        values.append(iso_to_ms(value) if value else 0)
    assert cursor_max_ms(raws, prop) == max(values)
