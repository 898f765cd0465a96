"""Serve the mock APIs in the foreground until interrupted (`elt mock-apis`, `python -m
mock_apis`). The socket is bound before the world is served, so the printed URL is
usable at once; `MOCK_APIS_URL=<url>` goes to stdout for scripts to read."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from mock_apis.app import Fault, Limits, MockApp
from mock_apis.world import World, WorldConfig


def parse_fault(spec: str) -> Fault:
    """`KIND:RATE[:SEED]`, e.g. `503:0.05:1`."""
    kind, _, rest = spec.partition(":")
    rate, _, seed = rest.partition(":")
    return Fault(kind=kind, rate=float(rate or 1), seed=int(seed or 0))


def serve(
    config: WorldConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: Limits | None = None,
    faults: Sequence[Fault] = (),
) -> None:
    import uvicorn

    print(f"generating world seed={config.seed} scale={config.scale} ...", file=sys.stderr)
    mock = MockApp(World(config), limits=limits)
    for d in mock.world.defects.active:
        print(f"defect {d.id}: {d.spec.kind} on {d.spec.stream}, {len(d.keys)} records",
              file=sys.stderr)  # fmt: skip
    mock.faults.extend(faults)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections queue from the moment the URL is printed
    url = f"http://{host}:{sock.getsockname()[1]}"
    print(f"MOCK_APIS_URL={url}", flush=True)
    print(
        f"MailChimp: {url}/3.0 (key {mock.mailchimp_api_key})\n"
        f"HubSpot:   {url} (token {mock.hubspot_token})\nadmin:     {url}/_admin/state",
        file=sys.stderr,
    )
    server = uvicorn.Server(
        uvicorn.Config(mock, log_level="warning", access_log=False, lifespan="off")
    )
    server.run(sockets=[sock])
