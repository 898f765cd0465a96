"""The indexed search (the incremental-sync query shape) answers exactly like a scan."""

from __future__ import annotations

import pytest

from mock_apis.clock import hs_time
from mock_apis.hubspot import HubSpotApi
from mock_apis.world import World


def _scan(api: HubSpotApi, kind: str, groups: list, sorts: list) -> list:
    api._indexed_search = lambda *a: None  # type: ignore[method-assign]
    try:
        return api._run_search(kind, groups, sorts, None)
    finally:
        del api._indexed_search


@pytest.mark.parametrize("kind", ["contacts", "companies", "deals"])
@pytest.mark.parametrize("op", ["GT", "GTE"])
def test_indexed_search_equals_the_scan(kind: str, op: str) -> None:
    world = World(seed=3, scale=0.05)
    api = HubSpotApi(world)
    world.advance(days=1, change_rate=0.05)
    prop = "lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"
    stamps = sorted({o.props[prop] for o in world.objects[kind] if o.props.get(prop)})
    sorts = [{"propertyName": prop, "direction": "ASCENDING"}]
    # a cut inside the data, one exactly on a record's stamp (ties), one past the end
    for value in (stamps[len(stamps) // 2], stamps[-1], hs_time(10**13)):
        groups = [{"filters": [{"propertyName": prop, "operator": op, "value": value}]}]
        fast = api._indexed_search(kind, groups, sorts, None)
        assert fast is not None
        assert [o.id for o in fast] == [o.id for o in _scan(api, kind, groups, sorts)]
    # other shapes fall back to the scan
    desc = [{"propertyName": prop, "direction": "DESCENDING"}]
    groups = [{"filters": [{"propertyName": prop, "operator": "GTE", "value": stamps[0]}]}]
    assert api._indexed_search(kind, groups, desc, None) is None
    assert api._indexed_search(kind, groups, [], None) is None
