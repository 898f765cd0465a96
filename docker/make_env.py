"""Write .env for the compose stack: .env.example with every empty secret filled.

    python3 docker/make_env.py [--output .env]

Refuses to overwrite an existing file. The values are random and stay on this
machine (.env is git-ignored, mode 0600).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GENERATORS = {
    "POSTGRES_PASSWORD": lambda: secrets.token_hex(16),
    "AIRFLOW_FERNET_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "AIRFLOW_JWT_SECRET": lambda: secrets.token_hex(32),
    "AIRFLOW_API_SECRET_KEY": lambda: secrets.token_hex(32),
    "_AIRFLOW_WWW_USER_PASSWORD": lambda: secrets.token_urlsafe(12),
}


def fill(example: str) -> str:
    lines = []
    for line in example.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#") and key in GENERATORS and not value.strip():
            line = f"{key}={GENERATORS[key]()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / ".env")
    parser.add_argument("--example", type=Path, default=ROOT / ".env.example")
    args = parser.parse_args()
    if args.output.exists():
        print(f"{args.output} exists; not overwritten (delete it to start over)", file=sys.stderr)
        return 1
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(fill(args.example.read_text()))
    print(f"wrote {args.output}; the admin login is in it (_AIRFLOW_WWW_USER_*)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
