"""One typed place for configuration, read from the environment (and `.env`).

Every stage gets its paths, ports, credentials and sizes from here; no other
module reads `os.environ`. Defaults are safe and local: files under `./data`,
servers on 127.0.0.1, credentials that only the mock APIs accept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

# Credentials the mock APIs accept by default. They open nothing real.
MOCK_MAILCHIMP_API_KEY = "0123456789abcdef0123456789abcdef-us21"
MOCK_HUBSPOT_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Configuration for the whole pipeline. Field docs name the env var."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- storage -------------------------------------------------------------
    data_dir: Path = Field(
        REPO_ROOT / "data",
        validation_alias=_env("ELT_DATA_DIR"),
        description="ELT_DATA_DIR: root of every file the pipeline writes.",
    )
    warehouse_path: Path | None = Field(
        None,
        validation_alias=_env("ELT_WAREHOUSE_PATH"),
        description="ELT_WAREHOUSE_PATH: the dbt-built DuckDB file "
        "(default <data>/warehouse.duckdb).",
    )

    # --- sources -------------------------------------------------------------
    mailchimp_api_key: SecretStr = Field(
        SecretStr(MOCK_MAILCHIMP_API_KEY), validation_alias=_env("MAILCHIMP_API_KEY")
    )
    mailchimp_base_url: str | None = Field(
        None,
        validation_alias=_env("MAILCHIMP_BASE_URL"),
        description="MAILCHIMP_BASE_URL: defaults to https://<dc>.api.mailchimp.com/3.0 "
        "from the key's data centre.",
    )
    hubspot_access_token: SecretStr = Field(
        SecretStr(MOCK_HUBSPOT_TOKEN), validation_alias=_env("HUBSPOT_ACCESS_TOKEN")
    )
    hubspot_base_url: str = Field(
        "https://api.hubapi.com", validation_alias=_env("HUBSPOT_BASE_URL")
    )
    start_date: datetime = Field(
        datetime(2020, 1, 1, tzinfo=UTC),
        validation_alias=_env("ELT_START_DATE"),
        description="ELT_START_DATE: earliest email activity a first sync reads (entities are "
        "read whole whatever their last-changed date).",
    )
    mailchimp_page_size: int = Field(
        1000, ge=1, le=1000, validation_alias=_env("MAILCHIMP_PAGE_SIZE", "ELT_PAGE_SIZE")
    )
    hubspot_page_size: int = Field(100, ge=1, le=100, validation_alias=_env("HUBSPOT_PAGE_SIZE"))
    hubspot_search_page_size: int = Field(
        200, ge=1, le=200, validation_alias=_env("HUBSPOT_SEARCH_PAGE_SIZE")
    )
    hubspot_requests_per_10s: int = Field(
        100,
        ge=0,
        validation_alias=_env("HUBSPOT_REQUESTS_PER_10S"),
        description="HUBSPOT_REQUESTS_PER_10S: client-side request budget per 10 s (0: none).",
    )
    hubspot_search_requests_per_s: int = Field(
        4,
        ge=0,
        validation_alias=_env("HUBSPOT_SEARCH_REQUESTS_PER_S"),
        description="HUBSPOT_SEARCH_REQUESTS_PER_S: search requests per second (0: none).",
    )
    http_timeout_s: float = Field(30.0, gt=0, validation_alias=_env("ELT_HTTP_TIMEOUT"))
    http_max_retries: int = Field(8, ge=0, validation_alias=_env("ELT_HTTP_MAX_RETRIES"))

    # --- mock APIs -----------------------------------------------------------
    mock_host: str = Field("127.0.0.1", validation_alias=_env("MOCK_HOST"))
    mock_port: int = Field(
        0, ge=0, le=65535, validation_alias=_env("MOCK_PORT"), description="0 = a free port."
    )
    mock_seed: int = Field(42, validation_alias=_env("MOCK_SEED"))
    mock_scale: float = Field(1.0, gt=0, validation_alias=_env("MOCK_SCALE"))
    mock_overlap_rate: float = Field(0.3, ge=0, le=1, validation_alias=_env("MOCK_OVERLAP_RATE"))
    mock_dirty_rate: float = Field(0.03, ge=0, le=1, validation_alias=_env("MOCK_DIRTY_RATE"))

    # --- transform / checks / orchestration ----------------------------------
    dbt_project_dir: Path = Field(
        REPO_ROOT / "dbt_project", validation_alias=_env("DBT_PROJECT_DIR")
    )
    dbt_target: str = Field("dev", validation_alias=_env("DBT_TARGET"))

    airflow_api_host: str = Field(
        "127.0.0.1",
        validation_alias=_env("AIRFLOW__API__HOST"),
        description="Where `make airflow` serves the UI (0.0.0.0 only inside a container).",
    )
    airflow_api_port: int = Field(8080, validation_alias=_env("AIRFLOW__API__PORT"))

    @field_validator("mailchimp_base_url", "hubspot_base_url")
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    # --- derived paths -------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    def raw_path(self, source: str) -> Path:
        """The DuckDB file a source's connector owns (see docs/contracts.md)."""
        return self.raw_dir / f"{source}.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_path or self.data_dir / "warehouse.duckdb"

    @property
    def quality_docs_dir(self) -> Path:
        return self.data_dir / "quality_docs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target/ (artifacts + docs site), kept with the data it describes."""
        return self.data_dir / "dbt" / "target"

    @property
    def mailchimp_url(self) -> str:
        """Explicit MAILCHIMP_BASE_URL, else the real API for the key's data centre."""
        if self.mailchimp_base_url:
            return self.mailchimp_base_url
        key = self.mailchimp_api_key.get_secret_value()
        if "-" not in key:
            raise ValueError(
                "MAILCHIMP_API_KEY must end in '-<dc>' (e.g. '...-us21') when "
                "MAILCHIMP_BASE_URL is not set"
            )
        return f"https://{key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"

    def dbt_env(self) -> dict[str, str]:
        """Env vars the dbt profile reads (profiles.yml uses env_var())."""
        return {
            "ELT_WAREHOUSE_PATH": str(self.warehouse),
            "ELT_RAW_MAILCHIMP_PATH": str(self.raw_path("mailchimp")),
            "ELT_RAW_HUBSPOT_PATH": str(self.raw_path("hubspot")),
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()
