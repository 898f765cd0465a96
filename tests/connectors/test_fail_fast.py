"""What retrying cannot fix fails in seconds, saying where and why; what it can fix
(5xx, 429, timeouts, dropped connections) is still retried with the full budget."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import HubspotConfig, MailchimpConfig, run_sync
from connectors.errors import ClientError, ServerError, Unreachable
from connectors.http import HttpClient


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(source: str, url: str, tmp_path: Path) -> MailchimpConfig | HubspotConfig:
    raw = tmp_path / f"{source}.duckdb"
    # the retry settings a real run has (8 retries, 0.5 s doubling up to 30 s)
    if source == "mailchimp":
        return MailchimpConfig(api_key="5f3c9a0b1d2e4f60-us6", base_url=f"{url}/3.0", raw_path=raw)
    return HubspotConfig(access_token="pat-na1-fail-fast", base_url=url, raw_path=raw)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("source", ["mailchimp", "hubspot"])
def test_a_closed_port_fails_within_seconds_naming_host_port_and_connection_refused(
    tmp_path, source
):
    port = _closed_port()
    t0 = time.monotonic()
    with pytest.raises(Unreachable) as err:
        run_sync(source, config=_config(source, f"http://127.0.0.1:{port}", tmp_path))
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"took {elapsed:.1f}s to give up on a closed port"
    assert f"127.0.0.1:{port}" in str(err.value) and "connection refused" in str(err.value)
    assert (err.value.host, err.value.port, err.value.reason) == (
        "127.0.0.1",
        port,
        "connection refused",
    )
    assert "gave up after 3 attempts" in str(err.value)  # 2 short retries, not 8 long ones


@pytest.mark.timeout(60)
def test_a_host_name_that_does_not_resolve_fails_within_seconds_saying_so(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(Unreachable) as err:
        run_sync("hubspot", config=_config("hubspot", "http://no-such-host.invalid:8443", tmp_path))
    assert time.monotonic() - t0 < 5
    assert "no-such-host.invalid:8443" in str(err.value) and "name not known" in str(err.value)


@pytest.mark.parametrize(("retries", "attempts"), [(0, 1), (1, 2), (3, 4)])
def test_connect_retries_are_configurable(retries, attempts):
    client = HttpClient(
        f"http://127.0.0.1:{_closed_port()}", connect_retries=retries, connect_backoff_s=0.01
    )
    with pytest.raises(Unreachable):
        client.get("/ping")
    assert client.requests == attempts
    assert client.retries == retries


def test_the_sources_pass_their_connect_retries_to_the_client(tmp_path):
    port = _closed_port()
    cfg = _config("mailchimp", f"http://127.0.0.1:{port}", tmp_path).model_copy(
        update={"connect_retries": 0}
    )
    with pytest.raises(Unreachable, match="gave up after 1 attempts"):
        run_sync("mailchimp", config=cfg)


def test_a_url_no_client_can_use_fails_at_once_without_retries():
    client = HttpClient("http://127.0.0.1:99999", backoff_base_s=0.01)
    with pytest.raises(ClientError, match="the URL cannot be used"):
        client.get("/ping")
    assert client.retries == 0


# --------------------------------------------------------------------------- still retried
class _Flaky(socketserver.ThreadingTCPServer):
    """Answers each request (one per connection) by the next entry of `script`, then 200:
    `drop` closes the connection without a response, `cut` sends half a body and closes,
    `slow` waits past the client's timeout, a number answers with that status."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        self.script = list(script)
        self.lock = threading.Lock()
        self.seen = 0


class _FlakyHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request head
        server: _Flaky = self.server  # type: ignore[assignment]
        with server.lock:
            server.seen += 1
            step = server.script.pop(0) if server.script else "200"
        if step == "drop":
            return
        if step == "slow":
            time.sleep(1.0)
            return
        body = b'{"ok": true}'
        status = "200 OK" if step in ("200", "cut") else f"{step} Failing"
        length = len(body) * (2 if step == "cut" else 1)
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        self.wfile.write(head.encode() + body)


@pytest.fixture
def flaky() -> Iterator[_Flaky]:
    servers: list[_Flaky] = []

    def start(script: list[str]) -> _Flaky:
        server = _Flaky(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "script",
    [
        ["drop"] * 4,
        ["cut"] * 4,
        ["slow"] * 3,
        ["503", "502", "500", "429"],
    ],
    ids=["dropped-connections", "truncated-bodies", "read-timeouts", "5xx-and-429"],
)
def test_transient_failures_are_still_retried_past_the_connect_retries(flaky, script):
    server = flaky(script)
    client = HttpClient(
        f"http://127.0.0.1:{server.server_address[1]}",
        timeout_s=0.3,
        max_retries=8,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        connect_retries=0,
    )
    assert client.get("/ping").data == {"ok": True}
    assert client.retries == len(script) == server.seen - 1


def test_a_transient_failure_that_outlives_the_retries_is_still_a_server_error(flaky):
    server = flaky(["drop"] * 10)
    client = HttpClient(
        f"http://127.0.0.1:{server.server_address[1]}", max_retries=2, backoff_base_s=0.01
    )
    with pytest.raises(ServerError) as err:
        client.get("/ping")
    assert not isinstance(err.value, Unreachable)
    assert server.seen == 3
