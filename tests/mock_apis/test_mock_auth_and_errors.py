"""Auth failures and errors come back in each vendor's own shape."""

from __future__ import annotations

import requests

from mock_apis.testing import MockServer


def test_mailchimp_without_api_key_is_401_api_key_missing_problem_json(server: MockServer) -> None:
    resp = requests.get(f"{server.base_url}/3.0/lists", timeout=10)
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["title"] == "APIKeyMissing"
    assert body["status"] == 401
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()


def test_mailchimp_with_wrong_api_key_is_401_api_key_invalid(server: MockServer) -> None:
    resp = requests.get(f"{server.base_url}/3.0/lists", auth=("u", "deadbeef-us1"), timeout=10)
    assert resp.status_code == 401
    assert resp.json()["title"] == "APIKeyInvalid"


def test_hubspot_without_token_is_401_invalid_authentication(server: MockServer) -> None:
    resp = requests.get(f"{server.base_url}/crm/v3/objects/contacts", timeout=10)
    assert resp.status_code == 401
    body = resp.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"]


def test_hubspot_with_wrong_token_is_401(server: MockServer) -> None:
    headers = {"Authorization": "Bearer pat-na1-wrong"}
    resp = requests.get(f"{server.base_url}/crm/v3/objects/deals", headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["category"] == "INVALID_AUTHENTICATION"


def test_mailchimp_unknown_list_is_404_resource_not_found(client) -> None:
    resp = client.mc("/lists/nope/members")
    assert resp.status_code == 404
    assert resp.json()["title"] == "ResourceNotFound"
    assert "nope" in resp.json()["detail"]


def test_mailchimp_count_above_1000_is_rejected(client, truth) -> None:
    resp = client.mc(f"/lists/{truth['lists'][0]['id']}/members", count=1001)
    assert resp.status_code == 400
    assert "1000" in resp.json()["detail"]


def test_hubspot_list_limit_above_100_is_a_validation_error(client) -> None:
    resp = client.hs("/crm/v3/objects/contacts", limit=101)
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_hubspot_search_limit_above_200_is_a_validation_error(client) -> None:
    resp = client.hs_post("/crm/v3/objects/contacts/search", {"limit": 201})
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_hubspot_very_long_property_list_is_414(client) -> None:
    props = ",".join(f"custom_property_{i}" for i in range(600))
    resp = client.hs("/crm/v3/objects/contacts", properties=props)
    assert resp.status_code == 414


def test_bad_since_value_names_the_parameter(client) -> None:
    resp = client.mc("/campaigns", since_create_time="yesterday")
    assert resp.status_code == 400
    assert "since_create_time" in resp.json()["detail"]
