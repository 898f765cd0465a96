"""What every source's connector configuration holds: explicit, typed, independent of
the environment. Each source module subclasses `SourceConfig` with its own fields
(credentials, page sizes). The top (`elt`) builds it from its settings; the Airbyte
entry point from the platform's JSON config (`model_validate`). Secrets are
`SecretStr`, so they print as `**********`, and every config registers them with
`connectors.redact` when it is made, so no message or log line can carry them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.redact import register_config

DEFAULT_START = datetime(2020, 1, 1, tzinfo=UTC)
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$"
)


def check_base_url(url: str) -> str:
    """`url` without its trailing slash if an HTTP client can ever reach it; else a
    ValueError saying what is wrong with it (scheme, host or port)."""
    text = url.strip()
    if not text:
        raise ValueError("is empty; give an http(s):// URL, or leave it unset")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        found = f"the scheme {parts.scheme!r}" if parts.scheme and parts.netloc else "no scheme"
        raise ValueError(f"has {found}; a base URL starts with http:// or https://")
    host = parts.hostname or ""
    if not host or not _valid_host(host):
        raise ValueError(f"has no valid host name (got {host!r})")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        bad = parts.netloc.rsplit(":", 1)[-1]
        raise ValueError(f"has a bad port {bad!r}; a port is a number from 1 to 65535")
    return text.rstrip("/")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host))


def is_loopback(url: str | None) -> bool:
    """Whether `url` points at this machine (127.0.0.0/8, ::1, localhost): the local mock."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    start_date: datetime = Field(
        DEFAULT_START,
        description="Earliest event (email activity) a first sync reads; entities (members, "
        "contacts, companies, deals, ...) are read whole whatever their last-changed date.",
    )
    raw_path: Path | None = Field(None, description="The source's DuckDB file (loader only).")
    http_timeout_s: float = Field(30.0, gt=0)
    http_max_retries: int = Field(8, ge=0)
    connect_retries: int = Field(
        2,
        ge=0,
        description="Retries when the host refuses the connection or its name does not "
        "resolve: a wrong URL or a stopped server, which waiting rarely fixes.",
    )
    connect_backoff_s: float = Field(0.5, ge=0, description="Delay before each such retry.")
    backoff_base_s: float = Field(0.5, gt=0, description="First retry delay; doubles each try.")
    backoff_max_s: float = Field(30.0, gt=0)
    lookback: timedelta = Field(
        timedelta(minutes=5),
        description="Incremental reads start this long before the saved cursor (>= + merge), "
        "so ties and records changed while the previous sync ran are never missed.",
    )
    batch_pages: int = Field(25, ge=1, description="Pages merged as one batch, at most.")
    batch_bytes: int = Field(
        4_000_000,
        ge=1,
        description="A batch is merged once its page bodies reach this many bytes.",
    )
    statement_bytes: int = Field(
        1_000_000,
        ge=1,
        description="JSON bytes DuckDB parses in one statement: the memory a load needs grows "
        "with it (~25-50x), whatever the record or page size.",
    )
    prefetch_bytes: int = Field(
        16_000_000,
        ge=1,
        description="Page bytes the fetch thread may hold ahead of the load.",
    )
    duckdb_threads: int = Field(
        1,
        ge=1,
        description="DuckDB threads for the load. One measured fastest on 2 cores: the "
        "load shares them with the HTTP fetch and the other source's load.",
    )
    memory_limit: str = Field(
        "160MB",
        description="DuckDB's memory_limit for the load (spills to <raw file>.tmp beyond it). "
        "A statement that still needs more fails the stream with LoadFailed (OutOfMemory).",
    )

    @field_validator("start_date")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v if v.tzinfo else v.replace(tzinfo=UTC)

    def model_post_init(self, context: Any, /) -> None:
        register_config(self)
