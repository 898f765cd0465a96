"""`elt airbyte deploy`: our connectors as custom sources in an Airbyte the team runs.

Per source in the registry it keeps one workspace-scoped source definition (the image
`<AIRBYTE_IMAGE_PREFIX>/source-<name>:<tag>`, see docker/airbyte-source/Dockerfile), one
source configured from our settings (`Settings.source_config`, the fields of
`connectors.airbyte.spec_of`) and one connection into a shared DuckDB destination:
namespace `airbyte_<name>`, every stream as its declaration says (incremental ->
incremental_deduped_history on its cursor, others full_refresh_overwrite, both on the
primary key), manual schedule (Airflow triggers it). Objects are found by name and
compared: a second run changes nothing, a changed setting is patched and named (field
names only, never a secret). The connection ids go to `connections.json` for the DAG.

Built on the airbyte-api SDK (1.0.1): every request goes through its HTTP client, its
client-credentials hook and its retries. Its traps, and what is done about them:
- A source's `configuration` is typed as a union of the built-in sources, so a dict is
  coerced into one of them both ways (PostHog, say: our fields dropped, theirs added,
  `sourceType` set; on output, serializer warnings that print the dict, secrets and
  all). Sources and destinations are therefore sent as our JSON through `AirbyteClient.send`
  and read back as plain JSON; only their bodies' other fields come from SDK models.
- The credentials' default token URL `/applications/token` is joined onto the host,
  dropping the server URL's path (/api/public/v1 on a self-hosted Airbyte), so the
  token URL given to the SDK is always absolute (AIRBYTE_TOKEN_URL).
- It retries nothing unless told to: an explicit backoff `RetryConfig` is given.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.config import check_base_url, is_loopback
from connectors.redact import redact, register_secret
from connectors.registry import SOURCES
from elt import errors
from elt.errors import ExpectedError, SettingsError
from elt.settings import REPO_ROOT

if TYPE_CHECKING:  # the SDK takes ~1.5 s to import: only when deploying
    from airbyte_api import AirbyteAPI

    from elt.settings import Settings

log = logging.getLogger("elt.airbyte")

DEFAULT_SERVER_URL = "http://localhost:8000/api/public/v1"
DESTINATION_NAME = "saas-elt-duckdb"
MASKED = re.compile(r"^\*+$")  # how Airbyte returns a stored secret
RETRY_STATUSES = ["429", "500", "502", "503", "504"]
PAGE = 100


class AirbyteError(ExpectedError):
    """Airbyte refused us or could not be reached (after retries); says what and where."""

    exit_code = errors.SOURCE

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None):
        super().__init__(redact(message), hint=hint)
        self.status = status


def project_version() -> str:
    """The project's version: pyproject.toml when run from the repo, else the installed one."""
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.is_file():
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    try:
        return version("saas-elt")
    except PackageNotFoundError:  # pragma: no cover - neither a checkout nor installed
        return "dev"


class AirbyteSettings(BaseSettings):
    """Which Airbyte to deploy to and how: `AIRBYTE_<FIELD>` variables (and `.env`)."""

    model_config = SettingsConfigDict(
        env_prefix="AIRBYTE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    server_url: str = Field(
        DEFAULT_SERVER_URL,
        description="The public API root: .../api/public/v1 (self-hosted) or "
        "https://api.airbyte.com/v1 (Cloud).",
    )
    client_id: str | None = Field(None, description="An application's client id.")
    client_secret: SecretStr | None = Field(None, description="That application's secret.")
    token_url: str | None = Field(None, description="Default: <server_url>/applications/token.")
    workspace_id: str | None = Field(
        None, description="Default: the only workspace, or the one named 'Default Workspace'."
    )
    destination_path: str | None = Field(
        None,
        description="The DuckDB file the destination writes (default <ELT_DATA_DIR>/airbyte/"
        "raw.duckdb; a relative path is under ELT_DATA_DIR; `md:<db>` is MotherDuck).",
    )
    image_prefix: str = Field(
        "saas-elt", description="Source images are <image_prefix>/source-<name>."
    )
    image_tag: str | None = Field(None, description="Default: the project's version.")
    connections_file: Path | None = Field(
        None,
        description="Where the connection ids go (default <ELT_DATA_DIR>/airbyte/"
        "connections.json).",
    )
    timeout_s: float = Field(30.0, gt=0, description="Per request.")
    retry_max_s: float = Field(
        60.0, ge=0, description="How long a request is retried (backoff) before failing."
    )
    poll_s: float = Field(3.0, gt=0, description="The airbyte_elt DAG: seconds between job polls.")
    job_timeout_s: float = Field(
        3600.0,
        gt=0,
        description="The airbyte_elt DAG: how long a sync may run before it is "
        "cancelled and its task fails.",
    )

    @field_validator(
        "client_id", "token_url", "workspace_id", "destination_path", "image_tag", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("server_url", "token_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_base_url(v)

    def model_post_init(self, context: Any, /) -> None:
        register_secret(self.client_secret)

    @property
    def token_endpoint(self) -> str:
        return self.token_url or f"{self.server_url}/applications/token"

    @property
    def tag(self) -> str:
        return self.image_tag or project_version()


def load_settings(**values: Any) -> AirbyteSettings:
    """`AirbyteSettings` from the environment, or a `SettingsError` naming each variable."""
    try:
        return AirbyteSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"AIRBYTE_{str(e['loc'][0]).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise SettingsError(
            f"invalid Airbyte settings: {problems}",
            hint="fix the variable in the environment or .env (see docs/airbyte.md)",
        ) from None


# --------------------------------------------------------------------------- naming
def docker_repository(settings: AirbyteSettings, source: str) -> str:
    return f"{settings.image_prefix}/source-{source}"


def definition_name(source: str) -> str:
    return f"{source} (saas-elt)"  # the title of the source's spec


def source_name(source: str) -> str:
    return f"saas-elt-{source}"


def connection_name(source: str) -> str:
    return f"saas-elt-{source}-to-duckdb"


def namespace(source: str) -> str:
    return f"airbyte_{source}"


def destination_path(settings: Settings, airbyte: AirbyteSettings) -> str:
    chosen = airbyte.destination_path
    if chosen and (chosen.startswith("md:") or Path(chosen).is_absolute()):
        return chosen
    return str(settings.data_dir / (chosen or "airbyte/raw.duckdb"))


def connections_file(settings: Settings, airbyte: AirbyteSettings) -> Path:
    return airbyte.connections_file or settings.data_dir / "airbyte" / "connections.json"


# --------------------------------------------------------------------------- desired state
def source_configuration(config: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """The source's config as Airbyte stores it: every field of its spec, secrets in clear
    (they go to Airbyte's secret store; nothing here prints them)."""
    props = spec["properties"]
    out = config.model_dump(mode="json", include=set(props))
    for name, prop in props.items():
        value = getattr(config, name, None)
        if prop.get("airbyte_secret") and isinstance(value, SecretStr):
            out[name] = value.get_secret_value()
    return out


def secret_fields(spec: dict[str, Any]) -> set[str]:
    return {k for k, v in spec["properties"].items() if v.get("airbyte_secret")}


def stream_configurations(source: str) -> list[dict[str, Any]]:
    """Each stream as its declaration says, as the API's `StreamConfiguration`s."""
    from airbyte_api import models

    from connectors.sync import SOURCES as CONNECTORS

    out = []
    for stream in CONNECTORS[source].streams:
        incremental = stream.incremental and stream.cursor_field
        out.append(
            models.StreamConfiguration(
                name=stream.name,
                sync_mode=models.ConnectionSyncModeEnum.INCREMENTAL_DEDUPED_HISTORY
                if incremental
                else models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE,
                cursor_field=[stream.cursor_field] if incremental else None,
                primary_key=[[k] for k in stream.primary_key],
            )
        )
    return [_body(s) for s in out]


def _body(model: Any) -> dict[str, Any]:
    """An SDK model as the JSON it sends."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _stream_key(s: dict[str, Any]) -> tuple:
    pk = tuple(tuple(p) for p in s.get("primaryKey") or ())
    return (s.get("syncMode"), tuple(s.get("cursorField") or ()), pk)


def stream_changes(desired: list[dict], existing: list[dict]) -> list[str]:
    want = {s["name"]: _stream_key(s) for s in desired}
    have = {s["name"]: _stream_key(s) for s in existing}
    changes = [f"streams.{n} (added)" for n in want if n not in have]
    changes += [f"streams.{n} (removed)" for n in have if n not in want]
    fields = ("syncMode", "cursorField", "primaryKey")
    for name in want.keys() & have.keys():
        changes += [
            f"streams.{name}.{f}"
            for f, a, b in zip(fields, want[name], have[name], strict=True)
            if a != b
        ]
    return sorted(changes)


def config_changes(
    desired: dict[str, Any], existing: dict[str, Any], secrets: set[str], resend: bool
) -> list[str]:
    """The fields whose value differs. A secret Airbyte returns masked cannot be compared:
    it counts as changed only with `resend` (`--resend-secrets`)."""
    changed = []
    for key in sorted(desired):
        old = existing.get(key)
        if key in secrets:
            masked = isinstance(old, str) and bool(MASKED.match(old))
            if resend or (not masked and old != desired[key]):
                changed.append(f"{key} (secret)")
        elif key not in existing or old != desired[key]:
            changed.append(key)
    return changed


# --------------------------------------------------------------------------- the API
class AirbyteClient:
    """The Airbyte public API through the SDK; failures become `AirbyteError`s."""

    def __init__(self, cfg: AirbyteSettings) -> None:
        import airbyte_api
        from airbyte_api import models
        from airbyte_api.utils import BackoffStrategy, RetryConfig

        missing = [n for n in ("client_id", "client_secret") if not getattr(cfg, n)]
        if missing:
            names = " and ".join(f"AIRBYTE_{n.upper()}" for n in missing)
            raise SettingsError(
                f"{names} {'is' if len(missing) == 1 else 'are'} not set: Airbyte's API "
                "needs an application's client id and secret",
                hint="`abctl local credentials` prints them for a local Airbyte; in Cloud, "
                "create an application under Settings -> Applications",
            )
        self.cfg = cfg
        self.retry = RetryConfig(
            "backoff",
            BackoffStrategy(
                initial_interval=500,
                max_interval=8_000,
                exponent=2,
                max_elapsed_time=int(cfg.retry_max_s * 1000),
                jitter_ms=250,
            ),
            retry_connection_errors=True,
        )
        credentials = models.SchemeClientCredentials(
            client_id=cfg.client_id,
            client_secret=cfg.client_secret.get_secret_value(),
            token_url=cfg.token_endpoint,  # absolute: see the module docstring
        )
        self.sdk: AirbyteAPI = airbyte_api.AirbyteAPI(
            security=models.Security(client_credentials=credentials),
            server_url=cfg.server_url,
            retry_config=self.retry,
            timeout_ms=int(cfg.timeout_s * 1000),
        )

    def close(self) -> None:
        self.sdk.sdk_configuration.client.close()

    def call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """A typed SDK call; `what` names it in the error."""
        try:
            return fn(**kwargs)
        except Exception as exc:
            raise self._error(what, exc) from None

    def send(
        self,
        what: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request with `body` sent as is and the answer as plain JSON, through the
        SDK's client, credentials hook and retries (for the bodies its models coerce)."""
        from airbyte_api import utils
        from airbyte_api._hooks import HookContext

        conf = self.sdk.sdk_configuration
        base = conf.get_server_details()[0]
        request = conf.client.build_request(
            method,
            base + path,
            params=params,
            json=body,
            headers={"Accept": "application/json", "user-agent": conf.user_agent},
            timeout=self.cfg.timeout_s,
        )
        ctx = HookContext(
            config=conf,
            base_url=base,
            operation_id=what,
            oauth2_scopes=[],  # [] turns the client-credentials hook on
            security_source=conf.security,
        )
        response = self.call(
            what,
            self.sdk.do_request,
            hook_ctx=ctx,
            request=request,
            is_error_status_code=lambda c: utils.match_status_codes(["4XX", "5XX"], c),
            retry_config=(self.retry, RETRY_STATUSES),
        )
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise AirbyteError(
                f"Airbyte at {base}: {what} answered with something that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})",
                hint="check that AIRBYTE_SERVER_URL is the public API root, e.g. "
                f"{DEFAULT_SERVER_URL}",
            ) from None

    def pages(self, what: str, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            data = self.send(
                what, "GET", path, params={**params, "limit": PAGE, "offset": len(out)}
            )
            batch = data.get("data") or []
            out += batch
            if len(batch) < PAGE:
                return out

    def _error(self, what: str, exc: Exception) -> Exception:
        import httpx
        from airbyte_api.errors import AirbyteAPIError

        where = self.cfg.server_url
        if isinstance(exc, AirbyteError):
            return exc
        if isinstance(exc, AirbyteAPIError):
            return self._http_error(what, exc.status_code, exc.body or "", exc)
        if isinstance(exc, httpx.TransportError):
            with contextlib.suppress(RuntimeError):  # no request attached
                where = str(exc.request.url.copy_with(query=None))
            return AirbyteError(
                f"cannot reach Airbyte at {where} ({what}): {type(exc).__name__}: {exc} "
                f"(retried for {self.cfg.retry_max_s:g} s)",
                hint="is Airbyte running (`abctl local status`)? check AIRBYTE_SERVER_URL "
                "and AIRBYTE_TOKEN_URL",
            )
        token = re.search(r"Unexpected status code (\d+) from token endpoint", str(exc))
        if token:
            return self._token_error(int(token[1]))
        if "token endpoint" in str(exc) or isinstance(exc, ValueError):
            return AirbyteError(
                f"the token endpoint {self.cfg.token_endpoint} did not answer with a bearer "
                f"token ({type(exc).__name__}: {exc})",
                hint="set AIRBYTE_TOKEN_URL to the API's /applications/token",
            )
        return exc  # a bug: keep its traceback

    def _token_error(self, status: int) -> AirbyteError:
        url = self.cfg.token_endpoint
        if status in (400, 401, 403):
            return AirbyteError(
                f"Airbyte's token endpoint {url} refused the client credentials (HTTP {status})",
                hint="check AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (`abctl local "
                "credentials` prints a local Airbyte's)",
                status=status,
            )
        return AirbyteError(
            f"Airbyte's token endpoint {url} answered HTTP {status}",
            hint="check AIRBYTE_TOKEN_URL, or AIRBYTE_SERVER_URL: the public API root, "
            f"e.g. {DEFAULT_SERVER_URL} (the token URL defaults to <it>/applications/token)",
            status=status,
        )

    def _http_error(self, what: str, status: int, body: str, exc: Exception) -> AirbyteError:
        where = self.cfg.server_url
        text = " ".join(body.split())[:500]
        if status == 200:  # the SDK could not read a success
            return AirbyteError(f"Airbyte at {where}: {what}: {exc}"[:800])
        if status in (401, 403):
            return AirbyteError(
                f"Airbyte at {where} refused {what} (HTTP {status}): {text}",
                hint="the application of AIRBYTE_CLIENT_ID needs access to the workspace "
                "(and the token must be valid: check AIRBYTE_CLIENT_ID / _SECRET)",
                status=status,
            )
        if status == 404:
            hint = (
                f"check that AIRBYTE_SERVER_URL is the public API root, e.g. {DEFAULT_SERVER_URL}"
            )
        elif status >= 500:
            hint = (
                f"Airbyte failed (retried for {self.cfg.retry_max_s:g} s): see its server "
                "logs, then deploy again (a deploy only does what is still missing)"
            )
        else:
            hint = "the message names what Airbyte refused: fix that setting, then deploy again"
        return AirbyteError(
            f"Airbyte at {where}: {what} failed (HTTP {status}): {text}", hint=hint, status=status
        )


# --------------------------------------------------------------------------- the plan
@dataclass
class Step:
    """One object and what a deploy does (or did) to it."""

    kind: str
    name: str
    action: str  # create | update | unchanged
    changes: list[str] = field(default_factory=list)
    detail: str = ""
    id: str | None = None

    def line(self) -> str:
        what = f"changed: {', '.join(self.changes)}" if self.changes else self.detail
        return f"  {self.action:<10} {self.kind:<18} {self.name:<30} {what}".rstrip()


@dataclass
class DeployResult:
    server_url: str
    workspace: str
    dry_run: bool
    steps: list[Step] = field(default_factory=list)
    connections: dict[str, str | None] = field(default_factory=dict)
    connections_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(s.action == action for s in self.steps)

    def summary(self) -> str:
        created, updated, same = self.count("create"), self.count("update"), self.count("unchanged")
        if self.dry_run:
            return (
                f"dry run: would create {created}, update {updated}; {same} unchanged. "
                "Nothing was changed."
            )
        if created == updated == 0:
            return f"unchanged: all {same} objects already match; nothing was changed."
        return f"deployed: {created} created, {updated} updated, {same} unchanged."

    def report_lines(self) -> list[str]:
        """What follows the plan's lines: notes, the connection ids, the summary."""
        notes = [f"note: {n}" for n in self.notes]
        return [*notes, *self.connection_lines(), self.summary()]

    def connection_lines(self) -> list[str]:
        where = (
            f"written to {self.connections_file}"
            if self.connections_file
            else "not written: dry run"
        )
        lines = [f"connection ids for the DAG ({where}):"]
        for source, cid in self.connections.items():
            lines.append(f"  {source:<10} {cid or '(created by the deploy)'}")
        return lines


class _Deploy:
    """One run: reads what exists, decides per object, applies unless dry."""

    def __init__(
        self,
        api: AirbyteClient,
        airbyte: AirbyteSettings,
        result: DeployResult,
        workspace_id: str,
        echo: Callable[[str], None],
    ) -> None:
        self.api, self.airbyte, self.result = api, airbyte, result
        self.ws, self.echo = workspace_id, echo

    @property
    def dry(self) -> bool:
        return self.result.dry_run

    def record(self, step: Step) -> Step:
        self.result.steps.append(step)
        self.echo(step.line())
        log.info("airbyte %s %s %s %s", step.action, step.kind, step.name, step.changes or "")
        return step

    # --- source definitions (typed SDK calls: their models are faithful)
    def definitions(self) -> dict[str, str | None]:
        from airbyte_api import api

        res = self.api.call(
            "listing source definitions",
            self.api.sdk.source_definitions.list_source_definitions,
            request=api.ListSourceDefinitionsRequest(workspace_id=self.ws),
        )
        existing = res.definitions_response.data if res.definitions_response else []
        ids: dict[str, str | None] = {}
        tag = self.airbyte.tag
        for source in SOURCES:
            repo, name = docker_repository(self.airbyte, source), definition_name(source)
            found = next((d for d in existing if d.docker_repository == repo), None)
            step = Step("source definition", name, "create", detail=f"{repo}:{tag}")
            if found:
                step.id = found.id
                pairs = (
                    ("name", found.name, name),
                    ("dockerImageTag", found.docker_image_tag, tag),
                )
                step.changes = [f for f, have, want in pairs if have != want]
                step.action = "update" if step.changes else "unchanged"
            if not self.dry:
                self._apply_definition(step, repo, tag)
            ids[source] = self.record(step).id
        return ids

    def _apply_definition(self, step: Step, repo: str, tag: str) -> None:
        from airbyte_api import api, models

        if step.action == "create":
            made = self.api.call(
                f"creating source definition {step.name}",
                self.api.sdk.source_definitions.create_source_definition,
                request=api.CreateSourceDefinitionRequest(
                    workspace_id=self.ws,
                    create_definition_request=models.CreateDefinitionRequest(
                        name=step.name, docker_repository=repo, docker_image_tag=tag
                    ),
                ),
            )
            step.id = made.definition_response.id
        elif step.action == "update":
            self.api.call(
                f"updating source definition {step.name}",
                self.api.sdk.source_definitions.update_source_definition,
                request=api.UpdateSourceDefinitionRequest(
                    workspace_id=self.ws,
                    definition_id=step.id,
                    update_definition_request=models.UpdateDefinitionRequest(
                        name=step.name, docker_image_tag=tag
                    ),
                ),
            )

    # --- sources (raw JSON: the SDK's union would coerce our configuration)
    def sources(
        self, configs: dict[str, Any], definitions: dict[str, str | None], resend: bool
    ) -> dict[str, str | None]:
        from connectors.airbyte import spec_of

        existing = self.api.pages("listing sources", "/sources", {"workspaceIds": self.ws})
        ids: dict[str, str | None] = {}
        for source, config in configs.items():
            spec = spec_of(source)
            desired = source_configuration(config, spec)
            name, def_id = source_name(source), definitions[source]
            found = _by_name(existing, name, "source", self.result)
            step = Step("source", name, "create", detail=f"{len(desired)} settings")
            if found:
                step.id = found["sourceId"]
                if def_id and found.get("definitionId") != def_id:
                    raise AirbyteError(
                        f"source {name} ({step.id}) in Airbyte uses definition "
                        f"{found.get('definitionId')}, not {def_id} "
                        f"({docker_repository(self.airbyte, source)})",
                        hint=f"delete the source {name} in Airbyte (its connection goes "
                        "with it), then deploy again",
                    )
                have = found.get("configuration") or {}
                step.changes = config_changes(desired, have, secret_fields(spec), resend)
                step.action = "update" if step.changes else "unchanged"
            if not self.dry:
                self._apply_source(step, def_id, desired)
            ids[source] = self.record(step).id
        return ids

    def _apply_source(self, step: Step, def_id: str | None, config: dict[str, Any]) -> None:
        if step.action == "create":
            body = {"name": step.name, "workspaceId": self.ws, "definitionId": def_id,
                    "configuration": config}  # fmt: skip
            made = self.api.send(f"creating source {step.name}", "POST", "/sources", body)
            step.id = made["sourceId"]
        elif step.action == "update":
            body = {"name": step.name, "configuration": config}
            self.api.send(f"updating source {step.name}", "PATCH", f"/sources/{step.id}", body)

    # --- the destination (raw JSON read: the SDK needs destinationType to parse one)
    def destination(self, path: str) -> str | None:
        from airbyte_api import models

        existing = self.api.pages(
            "listing destinations", "/destinations", {"workspaceIds": self.ws}
        )
        config = models.DestinationDuckdb(destination_path=path)
        desired = _body(config)
        found = _by_name(existing, DESTINATION_NAME, "destination", self.result)
        step = Step("destination", DESTINATION_NAME, "create", detail=f"duckdb {path}")
        if found:
            step.id = found["destinationId"]
            have = found.get("configuration") or {}
            step.changes = [
                k for k in sorted(desired) if k != "destinationType" and have.get(k) != desired[k]
            ]
            step.action = "update" if step.changes else "unchanged"
        if not self.dry:
            self._apply_destination(step, config)
        return self.record(step).id

    def _apply_destination(self, step: Step, config: Any) -> None:
        from airbyte_api import models

        what = f"{'creating' if step.action == 'create' else 'updating'} destination {step.name}"
        if step.action == "create":
            request = models.DestinationCreateRequest(
                name=step.name, workspace_id=self.ws, configuration=config
            )
            step.id = self.api.send(what, "POST", "/destinations", _body(request))["destinationId"]
        elif step.action == "update":
            request = models.DestinationPatchRequest(configuration=config)
            self.api.send(what, "PATCH", f"/destinations/{step.id}", _body(request))

    # --- connections (typed SDK calls)
    def connections(self, sources: dict[str, str | None], dest: str | None) -> None:
        existing = self._list_connections()
        for source, source_id in sources.items():
            name = connection_name(source)
            streams = stream_configurations(source)
            found = next((c for c in existing if c.name == name), None)
            incremental = sum(s["syncMode"].startswith("incremental") for s in streams)
            detail = (
                f"{len(streams)} streams ({incremental} incremental) -> {namespace(source)}, manual"
            )
            step = Step("connection", name, "create", detail=detail)
            if found:
                step.id = found.connection_id
                self._check_ends(found, source_id, dest, name)
                step.changes = _connection_changes(found, source, streams)
                step.action = "update" if step.changes else "unchanged"
            if not self.dry:
                self._apply_connection(step, source, streams, source_id, dest)
            self.result.connections[source] = self.record(step).id

    def _list_connections(self) -> list[Any]:
        from airbyte_api import api

        existing: list[Any] = []
        while True:
            res = self.api.call(
                "listing connections",
                self.api.sdk.connections.list_connections,
                request=api.ListConnectionsRequest(
                    workspace_ids=[self.ws], limit=PAGE, offset=len(existing)
                ),
            )
            batch = res.connections_response.data if res.connections_response else []
            existing += batch
            if len(batch) < PAGE:
                return existing

    def _apply_connection(
        self, step: Step, source: str, streams: list[dict], source_id: str | None, dest: str | None
    ) -> None:
        from airbyte_api import api, models

        if step.action == "create":
            made = self.api.call(
                f"creating connection {step.name}",
                self.api.sdk.connections.create_connection,
                request=models.ConnectionCreateRequest(
                    name=step.name,
                    source_id=source_id,
                    destination_id=dest,
                    status=models.ConnectionStatusEnum.ACTIVE,
                    **_connection_fields(source, streams),
                ),
            )
            step.id = made.connection_response.connection_id
        elif step.action == "update":
            self.api.call(
                f"updating connection {step.name}",
                self.api.sdk.connections.patch_connection,
                request=api.PatchConnectionRequest(
                    connection_id=step.id,
                    connection_patch_request=models.ConnectionPatchRequest(
                        **_connection_fields(source, streams)
                    ),
                ),
            )

    def _check_ends(self, found: Any, source_id: str | None, dest: str | None, name: str) -> None:
        for what, have, want in (
            ("source", found.source_id, source_id),
            ("destination", found.destination_id, dest),
        ):
            if want and have != want:
                raise AirbyteError(
                    f"connection {name} ({found.connection_id}) in Airbyte reads another "
                    f"{what} ({have}, not {want})",
                    hint=f"delete the connection {name} in Airbyte, then deploy again",
                )


def _connection_fields(source: str, streams: list[dict[str, Any]]) -> dict[str, Any]:
    from airbyte_api import models

    return {
        "namespace_definition": "custom_format",
        "namespace_format": namespace(source),
        "prefix": "",
        "schedule": models.AirbyteAPIConnectionSchedule(
            schedule_type=models.ScheduleTypeEnum.MANUAL
        ),
        "configurations": models.StreamConfigurations(
            streams=[models.StreamConfiguration.model_validate(s) for s in streams]
        ),
    }


def _connection_changes(found: Any, source: str, streams: list[dict[str, Any]]) -> list[str]:
    changes = []
    if _value(found.namespace_definition) != "custom_format":
        changes.append("namespaceDefinition")
    if found.namespace_format != namespace(source):
        changes.append("namespaceFormat")
    if found.prefix:
        changes.append("prefix")
    if _value(found.schedule.schedule_type) != "manual":
        changes.append("schedule")
    have = [_body(s) for s in (found.configurations.streams or [])]
    return changes + stream_changes(streams, have)


def _value(enum: Any) -> Any:
    return getattr(enum, "value", enum)


def _by_name(objects: list[dict], name: str, kind: str, result: DeployResult) -> dict | None:
    found = [o for o in objects if o.get("name") == name]
    if len(found) > 1:
        result.notes.append(
            f"{len(found)} {kind}s are named {name}; the first ({found[0].get(kind + 'Id')}) "
            "is the one deployed to: delete the others in Airbyte"
        )
    return found[0] if found else None


# --------------------------------------------------------------------------- entry point
def resolve_workspace(api: AirbyteClient, wanted: str | None) -> tuple[str, str]:
    """(id, name) of AIRBYTE_WORKSPACE_ID, or of the only / 'Default Workspace'."""
    from airbyte_api import api as ops

    listed = api.call(
        "listing workspaces",
        api.sdk.workspaces.list_workspaces,
        request=ops.ListWorkspacesRequest(limit=PAGE),
    )
    spaces = listed.workspaces_response.data if listed.workspaces_response else []
    known = ", ".join(f"{w.name!r} ({w.workspace_id})" for w in spaces) or "none"
    if wanted:
        match = [w for w in spaces if w.workspace_id == wanted]
        if not match:
            raise SettingsError(
                f"AIRBYTE_WORKSPACE_ID={wanted}: no such workspace at {api.cfg.server_url} "
                f"(the application sees: {known})",
                hint="set AIRBYTE_WORKSPACE_ID to one of those ids, or unset it",
            )
        return match[0].workspace_id, match[0].name
    if len(spaces) == 1:
        return spaces[0].workspace_id, spaces[0].name
    default = [w for w in spaces if w.name == "Default Workspace"]
    if len(default) == 1:
        return default[0].workspace_id, default[0].name
    raise SettingsError(
        f"Airbyte at {api.cfg.server_url} has {len(spaces)} workspaces and none is the only "
        f"one or named 'Default Workspace': {known}",
        hint="set AIRBYTE_WORKSPACE_ID to the one to deploy to",
    )


def deploy(
    settings: Settings,
    airbyte: AirbyteSettings,
    *,
    dry_run: bool = False,
    resend_secrets: bool = False,
    echo: Callable[[str], None] = print,
) -> DeployResult:
    """Make Airbyte match our sources (see the module docstring); `echo` gets each line."""
    configs = {s: settings.source_config(s) for s in SOURCES}  # bad settings fail first
    path = destination_path(settings, airbyte)
    api = AirbyteClient(airbyte)
    try:
        ws_id, ws_name = resolve_workspace(api, airbyte.workspace_id)
        result = DeployResult(airbyte.server_url, f"{ws_name} ({ws_id})", dry_run)
        echo(
            f"Airbyte {airbyte.server_url}, workspace {result.workspace}"
            + (" -- plan (dry run):" if dry_run else ":")
        )
        run = _Deploy(api, airbyte, result, ws_id, echo)
        definitions = run.definitions()
        sources = run.sources(configs, definitions, resend_secrets)
        dest = run.destination(path)
        run.connections(sources, dest)
    finally:
        api.close()
    result.notes += _notes(configs, path)
    if not dry_run:
        result.connections_file = _write_connections(
            connections_file(settings, airbyte), result.connections
        )
    return result


def _notes(configs: dict[str, Any], path: str) -> list[str]:
    notes = [
        f"{source}'s base URL {config.base_url} is this machine's loopback: the connector "
        "runs inside Airbyte, where it is not (use a host name Airbyte's containers reach)"
        for source, config in configs.items()
        if getattr(config, "base_url", None) and is_loopback(config.base_url)
    ]
    if not (path.startswith("md:") or path.startswith("/local/")):
        notes.append(
            f"Airbyte's DuckDB destination writes {path} inside its /local mount "
            "(LOCAL_ROOT on the Airbyte host): docs/airbyte.md says where to read it"
        )
    return notes


def _write_connections(path: Path, ids: dict[str, str | None]) -> Path:
    """{source: connection_id} for the DAG; rewritten only when it changes."""
    text = json.dumps(ids, indent=2, sort_keys=True) + "\n"
    if path.is_file() and path.read_text() == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- orchestration
# What the airbyte_elt DAG needs beyond the provider: the ids `deploy` wrote, a wait
# that ends on every terminal state, and the reason a job failed.
RUNNING = ("pending", "running", "incomplete")


def read_connections(path: Path) -> dict[str, str]:
    """{source: connection_id} as `deploy` wrote it; {} when there is no such file."""
    if not path.is_file():
        return {}
    try:
        found = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise AirbyteError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return {k: v for k, v in found.items() if isinstance(v, str) and v}


def status_name(status: Any) -> str:
    return str(_value(status)).lower()


def wait_for_job(hook: Any, job_id: int, *, poll_s: float, timeout_s: float, log: Any) -> Any:
    """Poll `hook.get_job_details` (the provider's AirbyteHook) until the job leaves
    pending/running; a job still running after `timeout_s` is cancelled. Returns Airbyte's
    JobResponse. A poll that fails (5xx, network) is logged and tried again."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            job = hook.get_job_details(job_id=job_id)
        except Exception as exc:  # the hook wraps every SDK error in AirflowException
            log.warning("Airbyte job %s: polling failed (%s); trying again", job_id, exc)
        else:
            status = status_name(job.status)
            if status not in RUNNING:
                return job
            if status != last:
                log.info("Airbyte job %s: %s", job_id, status)
                last = status
        if time.monotonic() > deadline:
            hook.cancel_job(job_id=job_id)
            raise AirbyteError(
                f"Airbyte job {job_id} still running after {timeout_s:.0f}s: cancelled"
            )
        time.sleep(poll_s)


class AirbyteJobFailed(AirbyteError):
    """A sync job that ended failed or cancelled (its id and Airbyte's reason in the text)."""


def sync_outcome(
    hook: Any, conn: Any, job_id: int, source: str, cfg: AirbyteSettings, log: Any
) -> dict[str, Any]:
    """Wait for `job_id` (the provider's AirbyteHook `hook`, the Airflow connection `conn`);
    its figures when it succeeded, else `AirbyteJobFailed` naming the job and the reason."""
    job = wait_for_job(hook, job_id, poll_s=cfg.poll_s, timeout_s=cfg.job_timeout_s, log=log)
    status = status_name(job.status)
    if status != "succeeded":
        reason = job_failure_reason(conn, job_id)
        raise AirbyteJobFailed(f"{source}: Airbyte job {job_id} {status}: {reason}")
    return {
        "job_id": job.job_id,
        "rows": job.rows_synced,
        "bytes": job.bytes_synced,
        "summary": f"{source}: Airbyte job {job_id} succeeded: {job.rows_synced} rows, "
        f"{job.bytes_synced} bytes in {job.duration}",
    }


def job_failure_reason(conn: Any, job_id: int) -> str:
    """Why a job failed, from Airbyte's Config API (`POST <api root>/v1/jobs/get`: the last
    attempt's failure summary) on the same server as the public API of the Airflow
    connection `conn`; the public API's JobResponse carries no reason. Never raises."""
    import requests

    server = (conn.host or "").rstrip("/")
    fallback = (
        f"Airbyte's public API gives no reason; see the job's log in the Airbyte UI (job {job_id})"
    )
    token_url = conn.schema if (conn.schema or "").startswith("http") else None
    # self-hosted: <root>/api/public/v1 beside <root>/api/v1 (Config API), any prefix kept
    config_api = re.sub(r"/public/v1$", "/v1", server) + "/jobs/get"
    try:
        token = requests.post(
            token_url or f"{server}/applications/token",
            json={
                "client_id": conn.login,
                "client_secret": conn.password,
                "grant-type": "client_credentials",
            },
            timeout=30,
        )
        token.raise_for_status()
        got = requests.post(
            config_api,
            json={"id": job_id},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )
        got.raise_for_status()
        messages = _failure_messages(got.json())
    except (requests.RequestException, KeyError, ValueError, TypeError, AttributeError) as exc:
        return f"{fallback} (Config API: {type(exc).__name__})"
    return redact(messages[-1]) if messages else fallback


def _failure_messages(info: Any) -> list[str]:
    """Each failure of a JobInfoRead, oldest first: the external message (what Airbyte
    shows), the internal one where it says more, and the origin."""
    out = []
    attempts = info.get("attempts") if isinstance(info, dict) else None
    for attempt in attempts if isinstance(attempts, list) else []:
        read = attempt.get("attempt") if isinstance(attempt, dict) else None
        summary = read.get("failureSummary") if isinstance(read, dict) else None
        failures = summary.get("failures") if isinstance(summary, dict) else None
        for failure in failures if isinstance(failures, list) else []:
            if not isinstance(failure, dict):
                continue
            external, internal = failure.get("externalMessage"), failure.get("internalMessage")
            text = " / ".join(str(m) for m in dict.fromkeys((external, internal)) if m)
            if text:
                origin = failure.get("failureOrigin")
                out.append(f"{text} (origin: {origin})" if origin else text)
    return out
