"""HubSpot objects, properties, batch reads, pipelines and URL limits behave like the real API."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from mock_apis.app import Limits
from mock_apis.testing import MockServer

CURSOR = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
          "deals": "hs_lastmodifieddate"}  # fmt: skip
KINDS = list(CURSOR)


def _always(kind: str) -> set[str]:
    return {"hs_object_id", "createdate", CURSOR[kind]}


def _live_ids(truth, kind: str) -> list[str]:
    return [r["id"] for r in truth[kind] if not r["archived"]]


# --------------------------------------------------------------------------- properties
@pytest.mark.parametrize("kind", KINDS)
def test_every_endpoint_returns_the_id_createdate_and_modified_date_unasked(
    client, truth, kind
) -> None:
    asked = "dealname" if kind == "deals" else "name" if kind == "companies" else "email"
    one_id = _live_ids(truth, kind)[0]
    records = [
        *client.hs(f"/crm/v3/objects/{kind}", limit=5, properties=asked).json()["results"],
        client.hs(f"/crm/v3/objects/{kind}/{one_id}", properties=asked).json(),
        *client.hs_post(f"/crm/v3/objects/{kind}/search",
                        {"limit": 5, "properties": [asked]}).json()["results"],
        *client.hs_post(f"/crm/v3/objects/{kind}/batch/read",
                        {"inputs": [{"id": one_id}], "properties": [asked]}).json()["results"],
    ]  # fmt: skip
    for rec in records:
        assert set(rec["properties"]) == _always(kind) | {asked}
        assert rec["properties"]["hs_object_id"] == rec["id"]
        assert rec["properties"]["createdate"] and rec["properties"][CURSOR[kind]]


def test_requested_but_unset_properties_are_null_and_undefined_ones_are_left_out(client) -> None:
    asked = "email,fax,kloutscoregeneral,no_such_property"
    records = client.hs("/crm/v3/objects/contacts", limit=100, properties=asked).json()["results"]
    for rec in records:
        assert "no_such_property" not in rec["properties"]
        assert {"fax", "kloutscoregeneral"} <= rec["properties"].keys()
    assert any(rec["properties"]["fax"] is None for rec in records)


def test_property_definitions_list_defaults_and_custom_ones_in_the_real_shape(client) -> None:
    keys = {"name", "label", "type", "fieldType", "description", "groupName", "options",
            "displayOrder", "calculated", "externalOptions", "hasUniqueValue", "hidden",
            "hubspotDefined", "modificationMetadata", "formField", "createdAt", "updatedAt",
            "archived"}  # fmt: skip
    for kind, n_custom in (("contacts", 150), ("companies", 40), ("deals", 40)):
        props = client.hs(f"/crm/v3/properties/{kind}").json()["results"]
        assert all(keys <= p.keys() for p in props), kind
        custom = [p for p in props if not p["hubspotDefined"]]
        assert len(custom) == n_custom, kind
        assert len(props) - n_custom >= 60, "HubSpot's own properties"
        assert {"hs_object_id", "createdate", CURSOR[kind]} <= {p["name"] for p in props}
        enums = [p for p in props if p["type"] == "enumeration" and not p["externalOptions"]]
        assert enums and all(p["options"] for p in enums)
    owner = next(p for p in props if p["name"] == "hubspot_owner_id")
    assert owner["externalOptions"] is True and owner["referencedObjectType"] == "OWNER"


def test_a_contact_with_every_property_is_several_kb_and_mostly_null(client) -> None:
    names = [p["name"] for p in client.hs("/crm/v3/properties/contacts").json()["results"]]
    body = client.hs_post(
        "/crm/v3/objects/contacts/search", {"limit": 100, "properties": names}
    ).json()
    sizes = [len(orjson.dumps(r)) for r in body["results"]]
    assert sum(sizes) / len(sizes) > 4000
    for rec in body["results"]:
        assert set(rec["properties"]) == set(names)
        filled = sum(v is not None for v in rec["properties"].values())
        assert 10 < filled < len(names) / 2


def test_custom_property_counts_are_world_knobs(client_for) -> None:
    with MockServer(seed=2, scale=0.01, custom_contact_properties=7,
                    custom_deal_properties=0) as srv:  # fmt: skip
        client = client_for(srv)
        contacts = client.hs("/crm/v3/properties/contacts").json()["results"]
        deals = client.hs("/crm/v3/properties/deals").json()["results"]
        assert sum(not p["hubspotDefined"] for p in contacts) == 7
        assert sum(not p["hubspotDefined"] for p in deals) == 0


# --------------------------------------------------------------------------- batch read
def test_batch_read_returns_the_requested_objects_and_properties(client, truth) -> None:
    ids = _live_ids(truth, "deals")[:100]
    resp = client.hs_post(
        "/crm/v3/objects/deals/batch/read",
        {"inputs": [{"id": x} for x in ids], "properties": ["dealstage", "amount"]},
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "COMPLETE" and {"startedAt", "completedAt"} <= body.keys()
    assert [r["id"] for r in body["results"]] == ids
    assert all({"dealstage", "amount"} <= r["properties"].keys() for r in body["results"])
    assert "errors" not in body


def test_batch_read_of_missing_ids_answers_207_with_object_not_found(client, truth) -> None:
    live = _live_ids(truth, "contacts")[:3]
    archived = [r["id"] for r in truth["contacts"] if r["archived"]][:1]
    wanted = [*live, "999999999", *archived]
    resp = client.hs_post("/crm/v3/objects/contacts/batch/read",
                          {"inputs": [{"id": x} for x in wanted]})  # fmt: skip
    assert resp.status_code == 207
    body = resp.json()
    assert [r["id"] for r in body["results"]] == live
    assert body["numErrors"] == len(body["errors"]) == 1
    err = body["errors"][0]
    assert err["status"] == "error" and err["category"] == "OBJECT_NOT_FOUND"
    assert sorted(err["context"]["ids"]) == sorted(["999999999", *archived])
    assert err["message"]


def test_batch_read_of_archived_objects_needs_archived_true(client_for) -> None:
    with MockServer(seed=12, scale=0.05) as srv:
        srv.advance(days=3, change_rate=0.05)
        client = client_for(srv)
        archived = [r["id"] for r in srv.ground_truth(["deals"])["deals"] if r["archived"]][:5]
        assert archived
        body = {"inputs": [{"id": x} for x in archived]}
        assert client.hs_post("/crm/v3/objects/deals/batch/read", body).status_code == 207
        resp = client.session.post(
            f"{client.base}/crm/v3/objects/deals/batch/read",
            params={"archived": "true"},
            json=body,
            headers=client._bearer(),
            timeout=30,
        )
        assert resp.status_code == 200
        assert [r["id"] for r in resp.json()["results"]] == archived
        assert all(r["archived"] is True and r["archivedAt"] for r in resp.json()["results"])


def test_batch_read_of_more_than_100_inputs_is_a_validation_error(client, truth) -> None:
    ids = _live_ids(truth, "contacts")[:101]
    resp = client.hs_post("/crm/v3/objects/contacts/batch/read",
                          {"inputs": [{"id": x} for x in ids]})  # fmt: skip
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"
    assert "100" in resp.json()["message"]


def test_batch_read_by_email_id_property_and_with_history(client, truth) -> None:
    row = next(r for r in truth["contacts"] if r["email"] and "@" in r["email"]
               and not r["archived"] and not r["dirty"])  # fmt: skip
    resp = client.hs_post(
        "/crm/v3/objects/contacts/batch/read",
        {
            "inputs": [{"id": row["email"].strip().upper()}],
            "idProperty": "email",
            "properties": ["email"],
            "propertiesWithHistory": ["lifecyclestage"],
        },
    )
    assert resp.status_code == 200, resp.text
    (rec,) = resp.json()["results"]
    assert rec["id"] == row["id"]
    history = rec["propertiesWithHistory"]["lifecyclestage"]
    assert history == [] or history[0]["value"] == row["lifecyclestage"]
    bad = client.hs_post("/crm/v3/objects/contacts/batch/read",
                         {"inputs": [{"id": "x"}], "idProperty": "firstname"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


# --------------------------------------------------------------------------- URL length
@pytest.fixture(scope="module")
def short_urls(client_for) -> Iterator[tuple[MockServer, object]]:
    with MockServer(seed=6, scale=0.01, limits=Limits(max_url_length=600)) as srv:
        yield srv, client_for(srv)


def test_a_url_longer_than_the_limit_answers_414_on_both_apis(short_urls) -> None:
    srv, client = short_urls
    names = [p["name"] for p in client.hs("/crm/v3/properties/contacts").json()["results"]]
    assert client.hs("/crm/v3/objects/contacts", properties=",".join(names)).status_code == 414
    assert client.hs("/crm/v3/objects/contacts", properties=",".join(names[:10])).ok
    assert client.mc("/lists", fields=",".join(["lists.id"] * 80)).status_code == 414
    assert srv.state()["limits"]["max_url_length"] == 600


def test_a_client_that_chunks_properties_gets_every_value_under_a_low_limit(short_urls) -> None:
    _, client = short_urls
    names = [p["name"] for p in client.hs("/crm/v3/properties/contacts").json()["results"]]
    chunks: list[list[str]] = [[]]
    for name in names:  # commas travel as %2C: 3 characters each
        if chunks[-1] and len("%2C".join([*chunks[-1], name])) > 450:
            chunks.append([])
        chunks[-1].append(name)
    assert len(chunks) > 5
    merged: dict[str, dict] = {}
    for chunk in chunks:
        for rec in client.hs_walk("contacts", properties=",".join(chunk)):
            merged.setdefault(rec["id"], {}).update(rec["properties"])
    assert merged and all(set(props) == set(names) for props in merged.values())


def test_the_url_limit_is_adjustable_on_a_running_server(short_urls) -> None:
    srv, client = short_urls
    props = ",".join(f"prop_{i}" for i in range(100))
    assert client.hs("/crm/v3/objects/deals", properties=props).status_code == 414
    srv.set_limits(max_url_length=8192)
    try:
        assert client.hs("/crm/v3/objects/deals", properties=props).status_code == 200
    finally:
        srv.set_limits(max_url_length=600)


# --------------------------------------------------------------------------- pipelines
def test_deals_spread_over_the_default_and_custom_pipelines_with_numeric_ids(client, truth) -> None:
    pipes = client.hs("/crm/v3/pipelines/deals").json()["results"]
    assert pipes[0]["id"] == "default" and len(pipes) == 3
    assert pipes[0]["label"] == "Sales Pipeline"
    for p in pipes[1:]:
        assert p["id"].isdigit()
        assert all(s["id"].isdigit() for s in p["stages"])
        meta = [s["metadata"] for s in p["stages"]]
        assert all(set(m) == {"isClosed", "probability"} for m in meta)
        assert all(isinstance(v, str) for m in meta for v in m.values())
        assert {"true", "false"} == {m["isClosed"] for m in meta}
        assert {"1.0", "0.0"} <= {m["probability"] for m in meta}
    one = client.hs(f"/crm/v3/pipelines/deals/{pipes[1]['id']}/stages").json()["results"]
    assert [s["id"] for s in one] == [s["id"] for s in pipes[1]["stages"]]
    used = {r["pipeline"] for r in truth["deals"]}
    assert used == {p["id"] for p in pipes}


@pytest.mark.parametrize("n", [1, 5])
def test_the_number_of_pipelines_is_a_world_knob(client_for, n) -> None:
    with MockServer(seed=2, scale=0.02, deal_pipelines=n) as srv:
        pipes = client_for(srv).hs("/crm/v3/pipelines/deals").json()["results"]
        assert len(pipes) == n
        assert len({s["id"] for p in pipes for s in p["stages"]}) == sum(
            len(p["stages"]) for p in pipes
        )
        truth = srv.ground_truth(["deals", "deal_pipelines"])
        assert {r["pipeline"] for r in truth["deals"]} <= {p["id"] for p in pipes}
        assert len(truth["deal_pipelines"]) == n
