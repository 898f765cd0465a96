"""Shared fixtures: mock servers on loopback, and a client that pages like a connector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_apis.testing import MockServer


class Client:
    """Just enough of a connector to walk every page: real HTTP, vendor auth."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.base = server.base_url

    def mc(self, path: str, **params: Any) -> requests.Response:
        auth = ("anyuser", self.server.mailchimp_api_key)
        return self.session.get(f"{self.base}/3.0{path}", params=params, auth=auth, timeout=30)

    def hs(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(
            f"{self.base}{path}", params=params, headers=self._bearer(), timeout=30
        )

    def hs_post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(
            f"{self.base}{path}", json=body, headers=self._bearer(), timeout=30
        )

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.hubspot_token}"}

    def mc_walk(self, path: str, key: str, count: int = 1000, **params: Any) -> tuple[list, int]:
        """Every record of a MailChimp collection via offset/count; returns (records, pages)."""
        out: list = []
        offset = pages = 0
        while True:
            resp = self.mc(path, count=count, offset=offset, **params)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            pages += 1
            out.extend(body[key])
            offset += count
            if offset >= body["total_items"]:
                assert len(out) == body["total_items"]
                return out, pages

    def hs_walk(self, kind: str, **params: Any) -> list[dict]:
        out: list[dict] = []
        after = None
        while True:
            extra = {"after": after} if after else {}
            resp = self.hs(f"/crm/v3/objects/{kind}", limit=100, **params, **extra)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            out.extend(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out

    def search_walk(self, kind: str, body: dict) -> Iterator[dict]:
        after = None
        while True:
            resp = self.hs_post(
                f"/crm/v3/objects/{kind}/search", {**body, **({"after": after} if after else {})}
            )
            assert resp.status_code == 200, resp.text
            data = resp.json()
            yield from data["results"]
            after = data.get("paging", {}).get("next", {}).get("after")
            if not after:
                return

    def search_walk_capped(self, kind: str, body: dict) -> list[dict]:
        """One search query paged up to the 10,000 cap (never asks past it)."""
        out: list[dict] = []
        after = 0
        while True:
            page = self.hs_post(f"/crm/v3/objects/{kind}/search", {**body, "after": after})
            assert page.status_code == 200, page.text
            data = page.json()
            out += data["results"]
            nxt = data.get("paging", {}).get("next", {}).get("after")
            if not nxt or int(nxt) >= 10_000:
                return out
            after = int(nxt)


@pytest.fixture(scope="session")
def client_for():
    """Build a Client for a server a test module starts itself."""
    return Client


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """A read-only world shared by the whole session: tests here must not advance it."""
    with MockServer(seed=42, scale=0.25) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: MockServer) -> Client:
    return Client(server)


@pytest.fixture(scope="session")
def truth(server: MockServer) -> dict[str, list[dict]]:
    return server.ground_truth()
