"""Faults on demand: each kind shows up the way a client would meet it, deterministically."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mock_apis.app import Limits
from mock_apis.testing import MockServer


@pytest.fixture(scope="module")
def faulty(client_for) -> Iterator[tuple[MockServer, object]]:
    with MockServer(seed=5, scale=0.05) as srv:
        yield srv, client_for(srv)


@pytest.fixture(autouse=True)
def _no_faults_left(request) -> Iterator[None]:
    yield
    if "faulty" in request.fixturenames:
        request.getfixturevalue("faulty")[0].clear_faults()


def _members_path(srv: MockServer) -> str:
    return f"/lists/{srv.ground_truth(['lists'])['lists'][0]['id']}/members"


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_error_faults_return_that_status_on_both_apis(faulty, kind) -> None:
    srv, client = faulty
    srv.set_faults(kind, rate=1.0, seed=1)
    assert client.mc("/lists").status_code == int(kind)
    assert client.hs("/crm/v3/objects/contacts").status_code == int(kind)


def test_429_with_retry_after_carries_the_header(faulty) -> None:
    srv, client = faulty
    srv.set_faults("429_retry_after", rate=1.0, seed=1, retry_after=3)
    mc = client.mc("/lists")
    assert mc.status_code == 429 and mc.headers["Retry-After"] == "3"
    assert mc.json()["title"] == "TooManyRequests"
    hs = client.hs("/crm/v3/objects/deals")
    assert hs.status_code == 429 and hs.headers["Retry-After"] == "3"
    assert hs.json()["policyName"] == "TEN_SECONDLY_ROLLING"


def test_429_without_retry_after_has_no_header(faulty) -> None:
    srv, client = faulty
    srv.set_faults("429", rate=1.0, seed=1)
    resp = client.hs("/crm/v3/objects/deals")
    assert resp.status_code == 429
    assert "Retry-After" not in resp.headers
    assert resp.json()["category"] == "RATE_LIMITS"


def test_slow_fault_delays_the_response(faulty) -> None:
    srv, client = faulty
    srv.set_faults("slow", rate=1.0, seed=1, ms=300)
    start = time.perf_counter()
    resp = client.mc("/lists")
    assert resp.status_code == 200
    assert time.perf_counter() - start >= 0.3


def test_truncated_json_is_200_with_a_body_that_does_not_parse(faulty) -> None:
    srv, client = faulty
    srv.set_faults("truncated_json", rate=1.0, seed=1)
    resp = client.mc(_members_path(srv), count=100)
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        resp.json()


def test_drop_connection_breaks_the_response_mid_pagination(faulty) -> None:
    srv, client = faulty
    path = _members_path(srv)
    assert client.mc(path, count=50, offset=0).status_code == 200
    srv.set_faults("drop_connection", rate=1.0, seed=1)
    with pytest.raises(requests.exceptions.RequestException):
        client.mc(path, count=50, offset=50)
    srv.clear_faults()
    assert client.mc(path, count=50, offset=50).status_code == 200


def test_faults_hit_the_same_requests_for_the_same_seed(faulty) -> None:
    srv, client = faulty

    def pattern(seed: int) -> list[int]:
        srv.set_faults("503", rate=0.3, seed=seed)
        return [client.hs("/crm/v3/objects/contacts").status_code for _ in range(40)]

    first, again, other = pattern(11), pattern(11), pattern(12)
    assert first == again
    assert 503 in first and 200 in first
    assert first != other


def test_faults_never_touch_the_admin_api(faulty) -> None:
    srv, _ = faulty
    srv.set_faults("500", rate=1.0, seed=1)
    assert srv.state()["now"] > 0
    assert srv.ground_truth(["lists"])["lists"]


def test_path_prefix_limits_a_fault_to_one_endpoint(faulty) -> None:
    srv, client = faulty
    srv.set_faults("503", rate=1.0, seed=1, path_prefix="/crm/v3/objects/deals")
    assert client.hs("/crm/v3/objects/deals").status_code == 503
    assert client.hs("/crm/v3/objects/contacts").status_code == 200


def test_mailchimp_11th_simultaneous_request_gets_429_too_many_requests(faulty) -> None:
    srv, _ = faulty
    srv.set_faults("slow", rate=1.0, seed=1, ms=600)
    auth = ("u", srv.mailchimp_api_key)

    def call(_: int) -> requests.Response:
        return requests.get(f"{srv.base_url}/3.0/lists", auth=auth, timeout=30)

    with ThreadPoolExecutor(max_workers=14) as pool:
        results = list(pool.map(call, range(14)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 10
    assert codes.count(429) == 4
    assert next(r for r in results if r.status_code == 429).json()["title"] == "TooManyRequests"


def test_sequential_client_is_never_throttled_at_default_limits(faulty) -> None:
    _, client = faulty
    codes = {client.hs("/crm/v3/objects/contacts").status_code for _ in range(300)}
    assert codes == {200}


def test_hubspot_rolling_limit_returns_429_with_policy_name() -> None:
    limits = Limits(hubspot_max=5, hubspot_window_s=10)
    with MockServer(seed=1, scale=0.02, limits=limits) as srv:
        headers = {"Authorization": f"Bearer {srv.hubspot_token}"}
        codes = [
            requests.get(f"{srv.base_url}/crm/v3/owners", headers=headers, timeout=10)
            for _ in range(7)
        ]
        assert [r.status_code for r in codes] == [200] * 5 + [429] * 2
        body = codes[-1].json()
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["errorType"] == "RATE_LIMIT"
        srv.set_limits(hubspot_max=None)
        assert requests.get(f"{srv.base_url}/crm/v3/owners", headers=headers, timeout=10).ok


def test_a_5xx_fault_can_echo_the_request_headers_like_a_proxy_debug_page(faulty) -> None:
    """What a careless upstream does; the connectors must never print what it echoes."""
    srv, client = faulty
    srv.set_faults("500", rate=1.0, seed=1, echo_headers=True)
    r = client.hs("/crm/v3/objects/contacts")
    assert r.status_code == 500
    assert f"authorization: Bearer {srv.hubspot_token}" in r.text
