"""`fake_airbyte`: the fake Airbyte API on a free loopback port, for tests.

    with fake_airbyte(tmp_path / "airbyte") as fake:
        sdk = fake.sdk()                       # the real SDK, pointed at the fake
        ...
        fake.fail_next_job(connection_id, "boom", after_records=10)
        fake.hang_next_job(connection_id)      # runs until DELETE /jobs/{id}
        view = fake.wait_for_job(job_id)       # {"job", "reason", "history", "streams", "log"}
        fake.job_info(job_id)                  # Config API JobInfoRead (/api/v1/jobs/get)
        fake.objects("sources")                # stored objects, configurations unmasked

`fake_airbyte(data_dir, separate_process=True)` runs `python -m mock_apis.airbyte` instead of
a thread (a separate process, as a deployed server is). Everything the handle does goes
through HTTP (`/_admin/`), so both modes behave alike. Starting again on the same
`data_dir` finds every object stored before (`FakeAirbyte.restart`).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import requests
import uvicorn

from mock_apis.airbyte import (
    API_PREFIX,
    CONFIG_API_PREFIX,
    DEFAULT_WORKSPACE_ID,
    MOCK_CLIENT_ID,
    MOCK_CLIENT_SECRET,
)
from mock_apis.airbyte.app import FakeConfig, create_app

TERMINAL = ("succeeded", "failed", "cancelled")


class FakeAirbyte:
    """A running fake: its URLs, credentials and test helpers."""

    def __init__(
        self,
        data_dir: Path,
        *,
        client_id: str = MOCK_CLIENT_ID,
        client_secret: str = MOCK_CLIENT_SECRET,
        images: Mapping[str, Sequence[str]] | None = None,
        token_ttl_s: int = 180,
        hang_s: float = 600.0,
        separate_process: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.client_id, self.client_secret = client_id, client_secret
        self.images = dict(images or {})
        self.token_ttl_s, self.hang_s = token_ttl_s, hang_s
        self.use_subprocess = separate_process
        self.host, self.port = host, 0
        self.workspace_id = DEFAULT_WORKSPACE_ID
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._proc: Any = None
        self._http = requests.Session()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The server URL to give the SDK or the Airflow connection's host."""
        return self.base_url + API_PREFIX

    @property
    def config_api_url(self) -> str:
        """The Config API's root (`/api/v1`), on the same server and token."""
        return self.base_url + CONFIG_API_PREFIX

    @property
    def token_url(self) -> str:
        """Absolute: the SDK's relative default would drop `/api/public/v1`."""
        return self.url + "/applications/token"

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 60.0) -> FakeAirbyte:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.use_subprocess:
            self._start_process(timeout)
        else:
            self._start_thread(timeout)
        return self

    def _start_thread(self, timeout: float) -> None:
        config = FakeConfig(
            data_dir=self.data_dir,
            client_id=self.client_id,
            client_secret=self.client_secret,
            images=self.images,
            token_ttl_s=self.token_ttl_s,
            hang_s=self.hang_s,
        )
        app = create_app(config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=30)
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-airbyte", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake Airbyte did not start on {self.base_url}")
            time.sleep(0.01)

    def _start_process(self, timeout: float) -> None:
        argv = [
            sys.executable,
            "-m",
            "mock_apis.airbyte",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--client-id",
            self.client_id,
            "--client-secret",
            self.client_secret,
            "--images",
            orjson.dumps(self.images).decode(),
            "--token-ttl",
            str(self.token_ttl_s),
        ]
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline()  # FAKE_AIRBYTE_URL=... once the socket is bound
        if not line.startswith("FAKE_AIRBYTE_URL="):
            self._proc.kill()
            raise RuntimeError(f"the fake Airbyte process did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1].split("/", 1)[0])
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if self._http.get(f"{self.base_url}/_admin/health", timeout=5).ok:
                    return
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the fake Airbyte process did not answer on {self.base_url}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server; running jobs end failed, as on a server restart."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc.stdout.close()
        self._server = self._thread = self._proc = None

    def restart(self) -> FakeAirbyte:
        """Stop, then start a new server on the same data dir (and port)."""
        self.stop()
        return self.start()

    def __enter__(self) -> FakeAirbyte:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._http.close()

    # ------------------------------------------------------------------ clients
    def sdk(self, **kwargs: Any) -> Any:
        """An `airbyte_api.AirbyteAPI` on this fake, with client credentials and the
        absolute token URL."""
        import airbyte_api
        from airbyte_api import models

        credentials = models.SchemeClientCredentials(
            client_id=self.client_id, client_secret=self.client_secret, token_url=self.token_url
        )
        return airbyte_api.AirbyteAPI(
            server_url=self.url, security=models.Security(client_credentials=credentials), **kwargs
        )

    def token(self) -> str:
        resp = self._http.post(
            self.token_url,
            timeout=30,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        resp.raise_for_status()
        return resp.json()["access_token"]

    def job_info(self, job_id: int) -> dict[str, Any]:
        """The Config API's JobInfoRead of a job (`POST /api/v1/jobs/get`), as a client of
        the real server reads it; raises `requests.HTTPError` on an error answer."""
        resp = self._http.post(
            self.config_api_url + "/jobs/get",
            json={"id": int(job_id)},
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.json()

    # ------------------------------------------------------------------ admin helpers
    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        resp = self._http.request(
            method,
            f"{self.base_url}/_admin/{path}",
            timeout=60,
            data=orjson.dumps(body) if body is not None else None,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"admin {method} /_admin/{path} -> {resp.status_code}: {resp.text}")
        return resp.json()

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Stored objects of `kind` (workspaces, definitions, sources, destinations,
        connections, jobs, states, catalogs), as kept: configurations unmasked."""
        return self._admin("GET", f"objects/{kind}")

    def job(self, job_id: int) -> dict[str, Any]:
        """{"job": JobResponse, "reason", "history", "streams", "log"}."""
        return self._admin("GET", f"jobs/{int(job_id)}")

    def job_reason(self, job_id: int) -> str | None:
        return self.job(job_id)["reason"]

    def state(self, connection_id: str) -> dict[str, Any]:
        return self._admin("GET", f"connections/{connection_id}/state")

    def fail_next_job(
        self, connection_id: str, reason: str = "injected failure", after_records: int = 0
    ) -> None:
        """The connection's next job fails with `reason` after `after_records` records
        (0: before the source starts); what was checkpointed by then is committed."""
        body = {"fail": reason, "after_records": after_records}
        self._admin("POST", f"connections/{connection_id}/next-job", body)

    def hang_next_job(self, connection_id: str) -> None:
        """The connection's next job runs, doing nothing, until cancelled."""
        self._admin("POST", f"connections/{connection_id}/next-job", {"hang": True})

    def wait_for_job(self, job_id: int, timeout: float = 120.0) -> dict[str, Any]:
        """The job's admin view once it is succeeded, failed or cancelled."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.job(job_id)
            if view["job"]["status"] in TERMINAL:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {view['job']['status']} after {timeout}s")
            time.sleep(0.05)


@contextlib.contextmanager
def fake_airbyte(data_dir: Path, **opts: Any) -> Iterator[FakeAirbyte]:
    """Run the fake on a free port for the block; `opts` are `FakeAirbyte`'s (client_id,
    client_secret, images, token_ttl_s, hang_s, separate_process)."""
    with FakeAirbyte(data_dir, **opts) as fake:
        yield fake
