"""HubSpot search stops at 10,000 results like the real one; re-anchoring gets the rest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_apis.testing import MockServer


@pytest.fixture(scope="module")
def big(client_for) -> Iterator[tuple[MockServer, object]]:
    with MockServer(seed=3, scale=0.02, contacts=10_400, dirty_rate=0.0) as srv:
        yield srv, client_for(srv)


SORT = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]


def test_search_pages_up_to_10000_results_then_answers_400(big) -> None:
    _, client = big
    seen, after = 0, None
    while True:
        body = {"limit": 200, "sorts": SORT, **({"after": after} if after else {})}
        resp = client.hs_post("/crm/v3/objects/contacts/search", body)
        if resp.status_code == 400:
            break
        assert resp.status_code == 200, resp.text
        data = resp.json()
        assert data["total"] == 10_400
        seen += len(data["results"])
        after = data["paging"]["next"]["after"]
    assert seen == 10_000
    assert after == "10000"
    err = resp.json()
    assert err["category"] == "VALIDATION_ERROR"
    assert "10000" in err["message"]


def test_re_anchoring_on_object_id_reaches_every_record(big) -> None:
    _, client = big
    ids: list[int] = []
    anchor = 0
    while True:
        flt = {"propertyName": "hs_object_id", "operator": "GT", "value": str(anchor)}
        body = {"limit": 200, "sorts": SORT, "filterGroups": [{"filters": [flt]}]}
        batch = [int(r["id"]) for r in client.search_walk_capped("contacts", body)]
        if not batch:
            break
        ids += batch
        anchor = batch[-1]
    assert len(ids) == len(set(ids)) == 10_400
    assert ids == sorted(ids)
