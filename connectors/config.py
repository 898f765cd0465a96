"""Per-source connector configuration: explicit, typed, independent of the environment.

The CLI builds it from `elt.settings.Settings` (`from_settings`); the Airbyte entry
point builds it from the platform's JSON config (`model_validate`). Secrets are
`SecretStr`, so they print as `**********`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.errors import ConfigError

DEFAULT_START = datetime(2020, 1, 1, tzinfo=UTC)


class _Base(BaseModel):
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


class MailchimpConfig(_Base):
    api_key: SecretStr
    base_url: str | None = Field(
        None, description="Defaults to https://<dc>.api.mailchimp.com/3.0 from the key's suffix."
    )
    page_size: int = Field(1000, ge=1, le=1000)
    child_lookback_days: int = Field(
        0,
        ge=0,
        description="Campaign children (sent_to, email_activity, unsubscribes) are re-read "
        "for any campaign whose report counters changed since the last sync (the report "
        "is read once per sync and decides), and also for campaigns sent within this many "
        "days of the newest send (0: counters alone decide; raise it if the account's "
        "report counters lag behind its activity).",
    )

    @property
    def url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        key = self.api_key.get_secret_value()
        if "-" not in key:
            raise ConfigError(
                "MAILCHIMP_API_KEY must end in '-<dc>' (e.g. '...-us21') when "
                "MAILCHIMP_BASE_URL is not set"
            )
        return f"https://{key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> MailchimpConfig:
        return cls(
            api_key=settings.mailchimp_api_key,
            base_url=settings.mailchimp_base_url,
            start_date=settings.start_date,
            page_size=settings.mailchimp_page_size,
            raw_path=settings.raw_path("mailchimp"),
            http_timeout_s=settings.http_timeout_s,
            http_max_retries=settings.http_max_retries,
            **overrides,
        )


class HubspotConfig(_Base):
    access_token: SecretStr
    base_url: str = "https://api.hubapi.com"
    page_size: int = Field(100, ge=1, le=100)
    search_page_size: int = Field(200, ge=1, le=200)
    search_cap: int = Field(10_000, ge=1, description="Results one search query can page through.")
    association_batch: int = Field(1000, ge=1, le=1000)
    object_batch: int = Field(100, ge=1, le=100, description="Ids per objects batch read.")
    requests_per_10s: int = Field(
        100,
        ge=0,
        description="Client-side budget: requests in any 10 s, shared by every stream of the "
        "app (HubSpot allows private apps 100 per 10 s on Free/Starter, 190 on Professional/"
        "Enterprise). 0: no budget (a local mock, or a raised limit).",
    )
    search_requests_per_s: int = Field(
        4, ge=0, description="Search requests per second (HubSpot allows 5). 0: no budget."
    )

    @field_validator("base_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> HubspotConfig:
        return cls(
            access_token=settings.hubspot_access_token,
            base_url=settings.hubspot_base_url,
            start_date=settings.start_date,
            page_size=settings.hubspot_page_size,
            search_page_size=settings.hubspot_search_page_size,
            requests_per_10s=settings.hubspot_requests_per_10s,
            search_requests_per_s=settings.hubspot_search_requests_per_s,
            raw_path=settings.raw_path("hubspot"),
            http_timeout_s=settings.http_timeout_s,
            http_max_retries=settings.http_max_retries,
            **overrides,
        )


SourceConfig = MailchimpConfig | HubspotConfig
CONFIG_TYPES: dict[str, type[_Base]] = {"mailchimp": MailchimpConfig, "hubspot": HubspotConfig}


def config_from_settings(source: str, settings: Any) -> SourceConfig:
    if source not in CONFIG_TYPES:
        raise ConfigError(f"unknown source {source!r}; choose one of {sorted(CONFIG_TYPES)}")
    return CONFIG_TYPES[source].from_settings(settings)  # type: ignore[attr-defined]
