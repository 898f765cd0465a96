"""What every source's connector configuration holds: explicit, typed, independent of
the environment. Each source module subclasses `SourceConfig` with its own fields
(credentials, page sizes). The top (`elt`) builds it from its settings; the Airbyte
entry point from the platform's JSON config (`model_validate`). Secrets are
`SecretStr`, so they print as `**********`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_START = datetime(2020, 1, 1, tzinfo=UTC)


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
