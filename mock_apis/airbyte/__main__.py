"""`python -m mock_apis.airbyte --port N --data-dir DIR [--host H] [--client-id X
--client-secret Y] [--images JSON] [--token-ttl S]`: serve the fake Airbyte API in the
foreground until interrupted.

Defaults come from the environment: AIRBYTE_CLIENT_ID / AIRBYTE_CLIENT_SECRET (else the
mock values in `mock_apis.airbyte`) and FAKE_AIRBYTE_IMAGES (JSON {repository[:tag]:
[argv...]}). The socket is bound before serving; `FAKE_AIRBYTE_URL=<api url>` goes to
stdout for scripts to read (with --port 0 the port is chosen free).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

import uvicorn

from mock_apis.airbyte import API_PREFIX, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET
from mock_apis.airbyte.app import FakeConfig, create_app


def _images(text: str) -> dict[str, list[str]]:
    try:
        images = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(images, dict) or not all(
        isinstance(v, list) and v and all(isinstance(a, str) for a in v) for v in images.values()
    ):
        raise argparse.ArgumentTypeError('want {"repository[:tag]": ["argv", ...], ...}')
    return images


def main() -> None:
    env = os.environ
    ap = argparse.ArgumentParser(prog="python -m mock_apis.airbyte", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--client-id", default=env.get("AIRBYTE_CLIENT_ID") or MOCK_CLIENT_ID)
    ap.add_argument(
        "--client-secret", default=env.get("AIRBYTE_CLIENT_SECRET") or MOCK_CLIENT_SECRET
    )
    ap.add_argument(
        "--images",
        type=_images,
        default=env.get("FAKE_AIRBYTE_IMAGES", ""),
        help="JSON {repository[:tag]: [argv...]}; default $FAKE_AIRBYTE_IMAGES",
    )
    ap.add_argument("--token-ttl", type=int, default=180, help="access token lifetime, s")
    args = ap.parse_args()
    config = FakeConfig(
        data_dir=args.data_dir,
        client_id=args.client_id,
        client_secret=args.client_secret,
        images=args.images,
        token_ttl_s=args.token_ttl,
    )
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(256)
    url = f"http://{args.host}:{sock.getsockname()[1]}{API_PREFIX}"
    print(f"FAKE_AIRBYTE_URL={url}", flush=True)
    print(
        f"fake Airbyte: {url} (token: {url}/applications/token, client id "
        f"{args.client_id}), data in {args.data_dir}",
        file=sys.stderr,
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
