"""One typed place for configuration, read from the environment (and `.env`).

Every stage gets its paths, ports, credentials and sizes from here; no other
module reads `os.environ`. Defaults are safe and local: files under `./data`,
servers on 127.0.0.1, and credentials that only the mock APIs accept, used only when
a source's base URL is the local mock (a loopback host).

What can never work fails when the settings load, as one `SettingsError` naming the
variable: a `.env` line that does not parse, an empty path, a start date in the
future, a base URL no client can reach (scheme, host, port), a missing credential
for a real (non-loopback) base URL. A variable with our prefixes that no setting
reads (a typo) is reported as a warning naming the closest known one.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from dotenv.parser import parse_stream
from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL

from connectors.config import is_loopback
from connectors.redact import redact
from connectors.registry import SOURCES
from elt.errors import SettingsError
from mock_apis.credentials import MOCK_HUBSPOT_TOKEN, MOCK_MAILCHIMP_API_KEY

log = logging.getLogger("elt.settings")

REPO_ROOT = Path(__file__).resolve().parent.parent

# Credentials the mock APIs accept by default. They open nothing real.
MOCK_CREDENTIALS = {
    "mailchimp": {"api_key": MOCK_MAILCHIMP_API_KEY},
    "hubspot": {"access_token": MOCK_HUBSPOT_TOKEN},
}
# fields these settings give every source's config (not read per source)
_SHARED = {"start_date", "http_timeout_s", "http_max_retries", "raw_path"}
# A variable with one of these prefixes that no setting reads is probably a typo.
_PREFIXES = ("ELT_", "MAILCHIMP_", "HUBSPOT_", "MOCK_", "DBT_")
# ...unless something else reads it: CI, the compose file, scripts, dbt.
_NOT_SETTINGS = {
    "ELT_REQUIRE_STACK",  # CI: the stack tests fail instead of skipping
    "ELT_IMAGE",  # docker-compose.yml
    "MOCK_APIS_PORT",  # docker-compose.yml
    "MOCK_APIS_URL",  # `elt mock-apis` prints it for scripts
    "ELT_QUALITY_PATH",  # `Settings.dbt_env` (the dbt profile)
    *(f"ELT_RAW_{s.upper()}_PATH" for s in SOURCES),
    # dbt's own variables
    "DBT_PROFILES_DIR",
    "DBT_PROFILE",
    "DBT_TARGET_PATH",
    "DBT_LOG_PATH",
    "DBT_THREADS",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
}
_warned: set[str] = set()


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _aliases(alias: Any) -> list[str]:
    return list(getattr(alias, "choices", None) or ([alias] if isinstance(alias, str) else []))


def _config_type(source: str) -> type:
    from connectors.registry import load

    return load(source).config_type


def _env_files(env_file: Any) -> list[Path]:
    """pydantic-settings' `env_file` (None, a path or several) as a list of paths."""
    if env_file is None:
        return []
    files = [env_file] if isinstance(env_file, str | os.PathLike) else list(env_file)
    return [Path(f).expanduser() for f in files]


def _read_env_file(path: Path) -> set[str]:
    """The names `path` sets; a `SettingsError` naming the file and line for a line that
    python-dotenv cannot parse (it would only warn and skip it, and an unclosed quote
    takes the lines after it too)."""
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8") as stream:
        bindings = list(parse_stream(stream))
    for b in bindings:
        if b.error:
            first = b.original.string.lstrip().splitlines()[0] if b.original.string else ""
            name = re.match(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", first)
            what = f" ({name.group(1)}=...)" if name else ""
            raise SettingsError(
                f"{path.absolute()}, line {b.original.line}{what}: this line cannot be parsed, "
                "so the settings would miss it (and the lines an unclosed quote takes in)",
                hint="write it as NAME=value; quote a value holding spaces, # or quotes, and "
                "close every quote",
            )
    return {b.key for b in bindings if b.key}


def _warn_unknown(names: Iterable[str], known: set[str]) -> None:
    """Warn once per name about a variable with our prefixes that no setting reads."""
    for name in sorted({n.upper() for n in names}):
        if not name.startswith(_PREFIXES) or name in known or name in _NOT_SETTINGS:
            continue
        prefix = name.split("_", 1)[0] + "_"
        same = [k for k in known if k.startswith(prefix)]
        close = difflib.get_close_matches(name, same, 1, 0.6) or difflib.get_close_matches(
            name, known, 1, 0.6
        )
        if prefix == "DBT_" and not difflib.get_close_matches(name, same, 1, 0.8):
            continue  # dbt reads many DBT_ variables of its own
        if name in _warned:
            continue
        _warned.add(name)
        guess = f"did you mean {close[0]}?" if close else "see .env.example for the known ones"
        log.warning("%s is set but no setting reads it (ignored): %s", name, guess)


def _problems(exc: ValidationError, name_of: Any, secret: set[str] = frozenset()) -> str:
    """A ValidationError as `VARIABLE='value': problem; ...` (secret values not shown)."""
    out = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        msg = e["msg"].removeprefix("Value error, ")
        shown = "" if field in secret or isinstance(e.get("input"), dict) else e.get("input")
        text = re.sub(r"//[^/@\s]*@", "//***@", str(shown))  # user:password@ in a URL
        value = f"={redact(text)[:80]!r}" if shown not in ("", None) else ""
        out.append(f"{name_of(field)}{value}: {msg}")
    return "; ".join(out)


def _unset(value: Any) -> bool:
    text = _plain(value)
    return text is None or (isinstance(text, str) and not text.strip())


class _MissingCredential(SettingsError):
    """A credential is unset (or the mock's) while the base URL is not the local mock."""


def _credentials(
    source: str, config_type: type, values: dict[str, Any]
) -> tuple[dict[str, Any], _MissingCredential | None]:
    """What to fill in for the source's credentials, and what is wrong with them. The mock
    APIs' credentials stand in for unset ones only when the base URL is a loopback host;
    against any other URL an unset credential, or the mock's, can never work."""
    mock = MOCK_CREDENTIALS.get(source, {})
    base = config_type.model_fields.get("base_url")
    target = values.get("base_url", base.default if base else None)
    unset = [f for f in mock if _unset(values.get(f))]
    if is_loopback(target):
        return {f: mock[f] for f in unset}, None
    prefix = f"{source.upper()}_"
    default = "" if "base_url" in values else "default "
    where = f"the {default}base URL {target!r}" if target else "the default base URL (the real API)"
    hint = (
        f"set {prefix}{(unset or list(mock))[0].upper()} to your own credential, or point "
        f"{prefix}BASE_URL at the mock APIs (http://127.0.0.1:<port>...)"
    )
    if unset:
        names = " and ".join(f"{prefix}{f.upper()}" for f in unset)
        verb = "is" if len(unset) == 1 else "are"
        problem = f"{names} {verb} not set, and {where} is not the local mock"
        return dict.fromkeys(unset, "x"), _MissingCredential(problem, hint=hint)
    used = [f for f in mock if _plain(values[f]) == mock[f]]
    if used:
        names = " and ".join(f"{prefix}{f.upper()}" for f in used)
        problem = f"{names}: the mock APIs' built-in credential, which {where} never accepts"
        return {}, _MissingCredential(problem, hint=hint)
    return {}, None


def _plain(value: Any) -> Any:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def _validate(source: str, config_type: type, values: dict[str, Any]) -> Any:
    """`config_type` from `values`, or a `SettingsError` naming each bad variable."""
    try:
        return config_type.model_validate(values)
    except ValidationError as exc:
        secret = {n for n, f in config_type.model_fields.items() if "Secret" in str(f.annotation)}

        def name_of(field: str) -> str:
            if field == "raw_path":
                return "ELT_DATA_DIR"
            if field in _SHARED:
                return Settings._env_name(field)
            return f"{source.upper()}_{field.upper()}"

        raise SettingsError(
            f"invalid {source} settings: {_problems(exc, name_of, secret)}",
            hint="fix the variable in the environment or .env (see .env.example)",
        ) from None


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
    raw_format: Literal["native", "airbyte"] = Field(
        "native",
        validation_alias=_env("ELT_RAW_FORMAT"),
        description="ELT_RAW_FORMAT: who writes the raw layer the raw gate and dbt read: "
        "`native` (our connectors, <data>/raw/<source>.duckdb) or `airbyte` (Airbyte's DuckDB "
        "destination, ELT_AIRBYTE_RAW_PATH).",
    )
    airbyte_raw_path: Path | None = Field(
        None,
        validation_alias=_env("ELT_AIRBYTE_RAW_PATH"),
        description="ELT_AIRBYTE_RAW_PATH: the file Airbyte's DuckDB destination writes, "
        "schemas airbyte_<source> (default <data>/airbyte/raw.duckdb; read when "
        "ELT_RAW_FORMAT=airbyte).",
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

    # --- quality gates (quality.QualityConfig) --------------------------------
    quality_may_be_empty: str | None = Field(
        None,
        validation_alias=_env("ELT_MAY_BE_EMPTY"),
        description="ELT_MAY_BE_EMPTY: comma-separated source.stream names that may be empty "
        "(added to quality.DEFAULT_MAY_BE_EMPTY), e.g. hubspot.deals.",
    )
    quality_quarantine_threshold: float | None = Field(
        None,
        gt=0,
        le=1,
        validation_alias=_env("ELT_QUARANTINE_THRESHOLD"),
        description="ELT_QUARANTINE_THRESHOLD: share of a stream's rows in quarantine above "
        "which the raw gate fails (default 0.05).",
    )
    quality_volume_drop_threshold: float | None = Field(
        None,
        gt=0,
        le=1,
        validation_alias=_env("ELT_VOLUME_DROP_THRESHOLD"),
        description="ELT_VOLUME_DROP_THRESHOLD: share a stream's table total may drop since "
        "the last passing raw gate before the gate fails (default 0.05).",
    )

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

    # --- Airflow ----------------------------------------------------------------
    airflow_schedule: str | None = Field(
        "@hourly",
        validation_alias=_env("ELT_SCHEDULE"),
        description="ELT_SCHEDULE: the pipeline DAG's schedule (cron or preset); `none` = "
        "manual runs only.",
    )
    airbyte_dag_schedule: str | None = Field(
        None,
        validation_alias=_env("AIRBYTE_DAG_SCHEDULE"),
        description="AIRBYTE_DAG_SCHEDULE: the airbyte_elt DAG's schedule (cron or preset); "
        "default none: manual runs (run one of the two pipelines on a schedule, not both).",
    )
    retry_delay_s: float = Field(
        30.0,
        ge=0,
        validation_alias=_env("ELT_RETRY_DELAY"),
        description="ELT_RETRY_DELAY: seconds before Airflow retries a failed task (doubling).",
    )
    dbt_tasks: Literal["per_node", "single"] = Field(
        "per_node",
        validation_alias=_env("ELT_DBT_TASKS"),
        description="ELT_DBT_TASKS: `per_node` (a task per dbt model, seed and snapshot) or "
        "`single` (one `dbt build` task).",
    )
    alert_webhook: str | None = Field(
        None,
        validation_alias=_env("ELT_ALERT_WEBHOOK"),
        description="ELT_ALERT_WEBHOOK: URL a failed Airflow task POSTs a JSON alert to "
        "(nothing is sent when unset).",
    )

    # the `.env` files these settings read, for the sources' own variables too
    _env_file: Any = PrivateAttr(default=ENV_FILE_SENTINEL)

    def __init__(self, **values: Any) -> None:
        """Read and validate; `SettingsError` (never a pydantic dump) for what can never work."""
        env_file = values.get("_env_file", ENV_FILE_SENTINEL)
        in_files: set[str] = set()
        chosen = self.model_config.get("env_file") if env_file is ENV_FILE_SENTINEL else env_file
        for path in _env_files(chosen):
            in_files |= _read_env_file(path)
        _warn_unknown({*os.environ, *in_files}, type(self).env_names())
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(
                f"invalid settings: {_problems(exc, type(self)._env_name)}",
                hint="fix the variable in the environment or .env (see .env.example)",
            ) from None
        self._env_file = env_file
        self._check_sources()

    @field_validator(
        "data_dir", "warehouse_path", "airbyte_raw_path", "dbt_project_dir", mode="before"
    )
    @classmethod
    def _not_empty(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            raise ValueError(
                "is empty, which would mean the current directory; set a path, or unset "
                "the variable for the default"
            )
        return v

    @field_validator("raw_format", mode="before")
    @classmethod
    def _raw_format(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("airflow_schedule", "airbyte_dag_schedule", mode="before")
    @classmethod
    def _schedule(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in ("", "none", "null", "manual"):
            return None
        if isinstance(v, str) and not (v.startswith("@") or len(v.split()) in (5, 6)):
            raise ValueError(
                f"{v!r} is neither a preset (@hourly, @daily) nor a cron expression "
                "(5 fields), nor `none`"
            )
        return v

    @field_validator("alert_webhook", mode="before")
    @classmethod
    def _webhook(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            return None
        if isinstance(v, str) and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("start_date")
    @classmethod
    def _in_the_past(cls, v: datetime) -> datetime:
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        if v > datetime.now(UTC):
            raise ValueError(
                f"{v:%Y-%m-%d} is in the future, so a first sync would read no activity; "
                "use a past date (default 2020-01-01)"
            )
        return v

    @classmethod
    def _env_name(cls, field: str) -> str:
        info = cls.model_fields.get(field)
        names = _aliases(info.validation_alias) if info else []
        return names[0] if names else field

    def _check_sources(self) -> None:
        """Build every source's config now, so a bad variable fails at start-up, named. A
        missing credential fails now only when the source's base URL is set; with the
        default (real) URL it fails when the source is used (`source_config`), so the
        stages that need no source (transform, check, the mock) still run."""
        for name in SOURCES:
            try:
                self.source_config(name)
            except _MissingCredential:
                if "base_url" in self._source_env_values(name):
                    raise

    def _source_env_values(self, source: str) -> dict[str, Any]:
        """The `<SOURCE>_<FIELD>` variables set (environment, then `.env`)."""
        env = _source_env(source)(_env_prefix=f"{source.upper()}_", _env_file=self._env_file)
        return env.model_dump(exclude_unset=True)

    def source_config(self, source: str, **overrides: Any) -> Any:
        """The typed config the `source`'s connector gets (`connectors.base.Source.config_type`):
        its own fields from `<SOURCE>_<FIELD>` variables (and `.env`), the shared ones from
        these settings, `overrides` last. The mock APIs' credentials stand in for unset ones
        only when the base URL is the local mock (loopback); a real one needs real ones."""
        config_type = _config_type(source)
        values: dict[str, Any] = {
            "start_date": self.start_date,
            "http_timeout_s": self.http_timeout_s,
            "http_max_retries": self.http_max_retries,
            "raw_path": self.raw_path(source),
            **self._source_env_values(source),
            **overrides,
        }
        fill, problem = _credentials(source, config_type, values)
        config = _validate(source, config_type, {**values, **fill})  # a bad URL, size first
        if problem:
            raise problem
        return config

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
    def airbyte_raw(self) -> Path:
        """The file Airbyte's DuckDB destination writes (every source's final tables)."""
        return self.airbyte_raw_path or self.data_dir / "airbyte" / "raw.duckdb"

    def raw_files(self) -> dict[str, Path]:
        """The file the raw gate and dbt read each source's raw tables from
        (ELT_RAW_FORMAT): its connector's own, or the one Airbyte file for all."""
        if self.raw_format == "airbyte":
            return dict.fromkeys(SOURCES, self.airbyte_raw)
        return {s: self.raw_path(s) for s in SOURCES}

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

    def dbt_env(self) -> dict[str, str]:
        """Env vars the dbt profile reads (profiles.yml uses env_var())."""
        return {
            "ELT_WAREHOUSE_PATH": str(self.warehouse),
            "ELT_QUALITY_PATH": str(self.quality_db),
            **{f"ELT_RAW_{s.upper()}_PATH": str(self.raw_path(s)) for s in SOURCES},
            "ELT_AIRBYTE_RAW_PATH": str(self.airbyte_raw),
        }

    def dbt_vars(self) -> dict[str, str]:
        """dbt's `--vars`: `raw_format` points the sources (and the profile's ATTACH) at
        our connectors' raw files or at Airbyte's (dbt_project/macros/raw_source.sql). A
        var, not an env var: dbt renders the sources yml with vars, not the environment."""
        return {"raw_format": self.raw_format}


@lru_cache
def get_settings() -> Settings:
    return Settings()
