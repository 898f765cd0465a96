"""One typed place for configuration, read from the environment (and `.env`).

Every stage gets its paths, ports, credentials and sizes from here; no other
module reads `os.environ`. Defaults are safe and local: files under `./data`,
servers on 127.0.0.1, credentials that only the mock APIs accept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.registry import SOURCES
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY

REPO_ROOT = Path(__file__).resolve().parent.parent

# Credentials the mock APIs accept by default. They open nothing real.
MOCK_CREDENTIALS = {
    "mailchimp": {"api_key": MOCK_MAILCHIMP_API_KEY},
    "hubspot": {"access_token": MOCK_HUBSPOT_TOKEN},
}
# fields these settings give every source's config (not read per source)
_SHARED = {"start_date", "http_timeout_s", "http_max_retries", "raw_path"}


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _aliases(alias: Any) -> list[str]:
    return list(getattr(alias, "choices", None) or ([alias] if isinstance(alias, str) else []))


def _config_type(source: str) -> type:
    from connectors.registry import load

    return load(source).config_type


class _SourceEnv(BaseSettings):
    """One source's `<SOURCE>_<FIELD>` variables, raw: the config model validates them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


@lru_cache
def _source_env(source: str) -> type[_SourceEnv]:
    fields = {n: (Any, None) for n in _config_type(source).model_fields if n not in _SHARED}
    return create_model(f"{source.title()}Env", __base__=_SourceEnv, **fields)


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

    # --- sources: shared by every connector ------------------------------------
    # Each source's own fields (credentials, page sizes, budgets) are read by
    # `source_config` from `<SOURCE>_<FIELD>` variables, e.g. MAILCHIMP_API_KEY,
    # HUBSPOT_PAGE_SIZE, for every field of the source's config model.
    start_date: datetime = Field(
        datetime(2020, 1, 1, tzinfo=UTC),
        validation_alias=_env("ELT_START_DATE"),
        description="ELT_START_DATE: earliest email activity a first sync reads (entities are "
        "read whole whatever their last-changed date).",
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

    # --- runs: queueing, publishing, retention ----------------------------------
    lock_wait_s: float = Field(
        1800.0,
        ge=0,
        validation_alias=_env("ELT_LOCK_WAIT"),
        description="ELT_LOCK_WAIT: seconds a stage waits for another run's lock, then fails.",
    )
    keep_warehouses: int = Field(
        2,
        ge=0,
        validation_alias=_env("ELT_KEEP_WAREHOUSES"),
        description="ELT_KEEP_WAREHOUSES: earlier published warehouses kept for `elt rollback`.",
    )
    retention_days: int = Field(
        90,
        ge=1,
        validation_alias=_env("ELT_RETENTION_DAYS"),
        description="ELT_RETENTION_DAYS: sync-log, audit and released-quarantine rows older "
        "than this are deleted after a published run.",
    )

    @model_validator(mode="after")
    def _sources_valid(self) -> Settings:
        """Build every source's config now, so a bad variable fails at start-up, named."""
        for name in SOURCES:
            self.source_config(name)
        return self

    def source_config(self, source: str, **overrides: Any) -> Any:
        """The typed config the `source`'s connector gets (`connectors.base.Source.config_type`):
        its own fields from `<SOURCE>_<FIELD>` variables (and `.env`), the shared ones from
        these settings, `overrides` last. The mock APIs' credentials stand in for unset ones."""
        config_type = _config_type(source)
        prefix = f"{source.upper()}_"
        values: dict[str, Any] = {
            **MOCK_CREDENTIALS.get(source, {}),
            "start_date": self.start_date,
            "http_timeout_s": self.http_timeout_s,
            "http_max_retries": self.http_max_retries,
            "raw_path": self.raw_path(source),
            **_source_env(source)(_env_prefix=prefix).model_dump(exclude_unset=True),
            **overrides,
        }
        try:
            return config_type.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{prefix}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"invalid {source} settings: {problems}") from None

    @classmethod
    def env_names(cls) -> set[str]:
        """Every variable the settings read (the shared ones and each source's own)."""
        names = {n for f in cls.model_fields.values() for n in _aliases(f.validation_alias)}
        for source in SOURCES:
            names |= {f"{source.upper()}_{f.upper()}" for f in _source_env(source).model_fields}
        return names

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
    def quality_db(self) -> Path:
        """The quality store (audit, quarantine, volumes): `quality.store`."""
        return self.data_dir / "quality.duckdb"

    @property
    def quality_docs_dir(self) -> Path:
        return self.data_dir / "quality_docs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target/ (artifacts + docs site), kept with the data it describes."""
        return self.data_dir / "dbt" / "target"

    def quality_config(self) -> Any:
        """What the checks read (each source's raw file and the warehouse) and write."""
        from quality import QualityConfig

        return QualityConfig(
            databases={**{s: self.raw_path(s) for s in SOURCES}, "warehouse": self.warehouse},
            gx_dir=self.data_dir / "gx",
            docs_dir=self.quality_docs_dir,
        )

    def dbt_env(self) -> dict[str, str]:
        """Env vars the dbt profile reads (profiles.yml uses env_var())."""
        return {
            "ELT_WAREHOUSE_PATH": str(self.warehouse),
            "ELT_QUALITY_PATH": str(self.quality_db),
            **{f"ELT_RAW_{s.upper()}_PATH": str(self.raw_path(s)) for s in SOURCES},
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()
