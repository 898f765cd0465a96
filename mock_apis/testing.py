"""`MockServer`: the mock APIs on a free loopback port, for tests, the CLI and `elt run`.

    with MockServer(seed=42, scale=0.2, contacts=12000) as server:
        requests.get(f"{server.base_url}/3.0/lists", auth=("any", server.mailchimp_api_key))
        server.advance(days=1, change_rate=0.01)
        truth = server.ground_truth()
        keys = server.inject("invalid_email", "members", count=3)   # ["<list_id>|<id>", ...]
        server.clear_defects()                                        # clean again, cursors bumped

The socket is bound before uvicorn starts, so the port is known at once and no
other process can take it in between.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import orjson
import requests
import uvicorn

from mock_apis.app import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY, Limits, MockApp
from mock_apis.defects import DefectSpec
from mock_apis.world import World, WorldConfig


class MockServer:
    """Runs both mock APIs in a background thread. Use as a context manager or start()/stop().

    `world_overrides` go to `WorldConfig` (overlap_rate, dirty_rate, legacy_rate,
    deal_pipelines, custom_*_properties, empty_streams, per-entity counts such as
    contacts=12000). `limits` sets rate and URL-length limits (see `mock_apis.policy.Limits`).
    `defects` (`DefectSpec`s, dicts or "KIND[:STREAM][,opt=value]" strings; see
    `mock_apis.defects`) are injected into the world before it is served.
    """

    def __init__(
        self,
        seed: int = 42,
        scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        mailchimp_api_key: str = MOCK_MAILCHIMP_API_KEY,
        hubspot_token: str = MOCK_HUBSPOT_TOKEN,
        limits: Limits | None = None,
        log_level: str = "warning",
        defects: Sequence[DefectSpec | dict[str, Any] | str] = (),
        **world_overrides: Any,
    ) -> None:
        self.config = WorldConfig(seed=seed, scale=scale, defects=tuple(defects), **world_overrides)
        self.host, self.port = host, port
        self.mailchimp_api_key = mailchimp_api_key
        self.hubspot_token = hubspot_token
        self.limits = limits
        self.log_level = log_level
        self.app: MockApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._session = requests.Session()

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """Root URL: MailChimp is under `{base_url}/3.0`, HubSpot under `{base_url}/crm/...`."""
        return f"http://{self.host}:{self.port}"

    @property
    def mailchimp_url(self) -> str:
        return f"{self.base_url}/3.0"

    @property
    def world(self) -> World:
        assert self.app is not None, "MockServer is not started"
        return self.app.world

    def start(self, timeout: float = 60.0) -> MockServer:
        self.app = MockApp(
            World(self.config), self.mailchimp_api_key, self.hubspot_token, self.limits
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="mock-apis", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(
                    f"mock APIs failed to start on {self.base_url}; see the log above"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"mock APIs did not start on {self.base_url} within {timeout}s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._session.close()
        self._server = self._thread = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ admin API
    def _admin(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self._session.request(
            method, f"{self.base_url}/_admin/{path}", data=orjson.dumps(body) if body else None,
            params=params or None, timeout=120,
        )  # fmt: skip
        if resp.status_code != 200:
            raise RuntimeError(f"admin {method} /_admin/{path} -> {resp.status_code}: {resp.text}")
        return orjson.loads(resp.content)

    def advance(self, days: float = 1.0, change_rate: float = 0.01) -> dict[str, Any]:
        """Move the world clock forward `days`; change about `change_rate` of records per day."""
        return self._admin("POST", "advance", {"days": days, "change_rate": change_rate})

    def set_faults(
        self, kind: str, rate: float = 1.0, seed: int = 0, **options: Any
    ) -> dict[str, Any]:
        """Inject a fault (kinds in `mock_apis.policy.FAULT_KINDS`); options: ms, retry_after,
        path_prefix, max_count. Replaces an earlier fault of the same kind."""
        return self._admin("POST", "faults", {"kind": kind, "rate": rate, "seed": seed, **options})

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """Change rate limits at run time, e.g. hubspot_max=5, hubspot_window_s=10."""
        return self._admin("POST", "limits", limits)

    def inject(self, kind: str, stream: str = "", **options: Any) -> list[str]:
        """Inject one data defect (kinds and options: `mock_apis.defects`), e.g.
        `inject("type_change", "members", field="last_changed", to="epoch", rate=0.2)`.
        Returns the keys of the records it affected, as the raw layer keys them."""
        return self.inject_defects({"kind": kind, "stream": stream, **options})[0]["keys"]

    def inject_defects(self, *specs: DefectSpec | dict[str, Any] | str) -> list[dict[str, Any]]:
        """Inject several defects; returns each one's description: id, options, keys,
        and `originals` (key -> clean key) where the defect gave a record a new key."""
        body = [s if isinstance(s, dict | str) else s.describe() for s in specs]
        return self._admin("POST", "defects", {"defects": body})["injected"]

    def defects(self) -> list[dict[str, Any]]:
        """The active defects, as `inject_defects` describes them."""
        return self._admin("GET", "defects")["defects"]

    def clear_defects(self, defect_id: int | None = None) -> list[str]:
        """Clear every defect, or the one with `defect_id`: its records are served clean
        again with their cursor at the world's clock. Returns the keys released."""
        params = {"id": defect_id} if defect_id is not None else {}
        cleared = self._admin("DELETE", "defects", **params)["cleared"]
        return list(dict.fromkeys(k for d in cleared for k in d["keys"]))

    def ground_truth(self, streams: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """See `mock_apis.groundtruth` for the shape."""
        if streams:
            return self._admin("GET", "ground-truth", streams=",".join(streams))
        return self._admin("GET", "ground-truth")

    def state(self) -> dict[str, Any]:
        return self._admin("GET", "state")
