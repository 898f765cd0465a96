"""`elt airbyte deploy` against the fake Airbyte API (mock_apis.airbyte), real HTTP through
the real SDK: what a first deploy creates, that a second changes nothing, that a changed
setting is patched and named, that a dry run touches nothing, that no secret is ever
printed or logged, and that failures say what and where."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.airbyte import spec_of
from connectors.registry import SOURCES
from connectors.sync import SOURCES as CONNECTORS
from elt import airbyte
from elt.airbyte import AirbyteSettings, project_version, source_configuration
from elt.settings import Settings
from mock_apis.airbyte.testing import fake_airbyte

ELT = str(Path(sys.executable).with_name("elt"))
MAILCHIMP_KEY = "mcKEYdistinct4f9d1c2ab7e64d0c9a1b-us21"
HUBSPOT_TOKEN = "pat-na1-DISTINCT-7c1e9b3d55aa-hubspot"
CLIENT_SECRET = "abSECRETdistinct-0b9e4c7d2f6a"
SECRETS = (MAILCHIMP_KEY, HUBSPOT_TOKEN, CLIENT_SECRET)
KINDS = ("definitions", "sources", "destinations", "connections")


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    """Our settings for both sources (real-looking credentials), data under tmp_path."""
    for name in list(os.environ):
        if name.startswith(("AIRBYTE_", "MAILCHIMP_", "HUBSPOT_", "ELT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MAILCHIMP_API_KEY", MAILCHIMP_KEY)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", HUBSPOT_TOKEN)
    monkeypatch.setenv("ELT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return tmp_path / "data"


@pytest.fixture
def fake(tmp_path):
    with fake_airbyte(tmp_path / "fake", client_secret=CLIENT_SECRET) as server:
        yield server


def deploy(fake, **options):
    """One in-process deploy: (result, every line it printed)."""
    lines: list[str] = []
    values = {"image_tag": options.pop("image_tag", None), "retry_max_s": 1}
    settings = AirbyteSettings(
        _env_file=None,
        server_url=fake.url,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        **values,
    )
    result = airbyte.deploy(Settings(_env_file=None), settings, echo=lines.append, **options)
    return result, lines + result.report_lines()


def stored(fake) -> dict[str, list[dict]]:
    return {kind: fake.objects(kind) for kind in KINDS}


def expected_streams(source: str) -> dict[str, tuple]:
    """What the stream declarations say, independently of elt.airbyte."""
    out = {}
    for s in CONNECTORS[source].streams:
        if s.incremental and s.cursor_field:
            out[s.name] = ("incremental_deduped_history", [s.cursor_field])
        else:
            out[s.name] = ("full_refresh_overwrite", [])
        out[s.name] += ([[k] for k in s.primary_key],)
    return out


def elt(*args: str, env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRBYTE_")}
    return subprocess.run(
        [ELT, *args], capture_output=True, text=True, env={**env, **env_extra}, cwd=cwd,
        timeout=300,
    )  # fmt: skip


def cli_env(fake, **extra: str) -> dict[str, str]:
    return {
        "AIRBYTE_SERVER_URL": fake.url,
        "AIRBYTE_CLIENT_ID": fake.client_id,
        "AIRBYTE_CLIENT_SECRET": fake.client_secret,
        "AIRBYTE_RETRY_MAX_S": "1",
        **extra,
    }


# --------------------------------------------------------------------------- creating
def test_first_deploy_creates_a_definition_source_and_connection_per_source(env, fake):
    result, lines = deploy(fake)

    objects = stored(fake)
    assert sorted((d["dockerRepository"], d["dockerImageTag"]) for d in objects["definitions"]) == [
        (f"saas-elt/source-{s}", project_version()) for s in sorted(SOURCES)
    ]
    assert sorted(s["name"] for s in objects["sources"]) == sorted(f"saas-elt-{s}" for s in SOURCES)
    [dest] = objects["destinations"]
    assert dest["configuration"] == {
        "destination_path": str(env / "airbyte" / "raw.duckdb"),
        "destinationType": "duckdb",
    }
    assert len(objects["connections"]) == len(SOURCES)
    sources = {s["sourceId"]: s for s in objects["sources"]}
    ids = {}
    for conn in objects["connections"]:
        source = sources[conn["sourceId"]]["name"].removeprefix("saas-elt-")
        ids[source] = conn["connectionId"]
        assert conn["destinationId"] == dest["destinationId"]
        assert conn["namespaceDefinition"] == "custom_format"
        assert conn["namespaceFormat"] == f"airbyte_{source}"
        assert conn["schedule"] == {"scheduleType": "manual"}
        got = {
            s["name"]: (s["syncMode"], s["cursorField"], s["primaryKey"])
            for s in conn["configurations"]["streams"]
        }
        assert got == expected_streams(source)
    assert json.loads((env / "airbyte" / "connections.json").read_text()) == ids
    assert result.connections == ids
    assert sum(line.startswith("  create ") for line in lines) == 7
    assert lines[-1] == "deployed: 7 created, 0 updated, 0 unchanged."
    for source, cid in ids.items():  # the DAG's ids are printed
        assert any(source in line and cid in line for line in lines)


def test_the_server_receives_our_source_configuration_exactly(env, fake):
    """The SDK would coerce a plain dict into a built-in source model (PostHog's, say):
    what is stored must be our config, field for field, secrets included."""
    deploy(fake)
    settings = Settings(_env_file=None)
    by_name = {s["name"]: s for s in fake.objects("sources")}
    for source in SOURCES:
        want = source_configuration(settings.source_config(source), spec_of(source))
        got = by_name[f"saas-elt-{source}"]["configuration"]
        assert got == want
        assert "sourceType" not in got
    assert by_name["saas-elt-mailchimp"]["configuration"]["api_key"] == MAILCHIMP_KEY


# --------------------------------------------------------------------------- idempotence
def test_second_deploy_changes_nothing_and_says_so(env, fake):
    deploy(fake)
    before = stored(fake)
    catalogs = fake.objects("catalogs")  # a PATCH of a source, even a no-op, drops its own
    written = (env / "airbyte" / "connections.json").stat().st_mtime_ns

    result, lines = deploy(fake)

    assert stored(fake) == before
    assert fake.objects("catalogs") == catalogs
    assert (env / "airbyte" / "connections.json").stat().st_mtime_ns == written
    assert [s.action for s in result.steps] == ["unchanged"] * 7
    assert lines[-1] == "unchanged: all 7 objects already match; nothing was changed."


def test_a_changed_setting_is_patched_and_named(env, fake, monkeypatch):
    deploy(fake)
    monkeypatch.setenv("MAILCHIMP_PAGE_SIZE", "500")

    result, lines = deploy(fake, image_tag="0.1.1")

    actions = {(s.kind, s.name): (s.action, s.changes) for s in result.steps}
    assert actions[("source", "saas-elt-mailchimp")] == ("update", ["page_size"])
    assert actions[("source", "saas-elt-hubspot")] == ("unchanged", [])
    for source in SOURCES:
        key = ("source definition", f"{source} (saas-elt)")
        assert actions[key] == ("update", ["dockerImageTag"])
    assert any("update" in line and "changed: page_size" in line for line in lines)
    [mailchimp] = [s for s in fake.objects("sources") if s["name"] == "saas-elt-mailchimp"]
    assert mailchimp["configuration"]["page_size"] == 500
    assert mailchimp["configuration"]["api_key"] == MAILCHIMP_KEY
    assert {d["dockerImageTag"] for d in fake.objects("definitions")} == {"0.1.1"}
    assert lines[-1] == "deployed: 0 created, 3 updated, 4 unchanged."


def test_a_connection_changed_in_airbyte_is_put_back(env, fake):
    from airbyte_api import api, models

    result, _ = deploy(fake)
    cid = result.connections["mailchimp"]
    fake.sdk().connections.patch_connection(
        request=api.PatchConnectionRequest(
            connection_id=cid,
            connection_patch_request=models.ConnectionPatchRequest(namespace_format="other"),
        )
    )

    result, _ = deploy(fake)

    step = next(s for s in result.steps if s.id == cid)
    assert (step.action, step.changes) == ("update", ["namespaceFormat"])
    [conn] = [c for c in fake.objects("connections") if c["connectionId"] == cid]
    assert conn["namespaceFormat"] == "airbyte_mailchimp"


def test_dry_run_prints_the_plan_and_touches_nothing(env, fake, monkeypatch):
    result, lines = deploy(fake, dry_run=True)

    assert stored(fake) == {kind: [] for kind in KINDS}
    assert not (env / "airbyte" / "connections.json").exists()
    assert [s.action for s in result.steps] == ["create"] * 7
    assert lines[-1].startswith("dry run: would create 7, update 0")

    deploy(fake)
    monkeypatch.setenv("MAILCHIMP_PAGE_SIZE", "500")
    before = stored(fake)
    result, lines = deploy(fake, dry_run=True)
    assert stored(fake) == before
    assert any("update" in line and "saas-elt-mailchimp" in line for line in lines)
    assert "Nothing was changed." in lines[-1]


# --------------------------------------------------------------------------- secrets
def test_secrets_never_reach_stdout_stderr_logs_or_warnings(env, fake, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:  # pydantic's print values
        warnings.simplefilter("always")
        deploy(fake, dry_run=True)
        deploy(fake)
        monkeypatch.setenv("HUBSPOT_PAGE_SIZE", "50")
        _, lines = deploy(fake, resend_secrets=True)
        with pytest.raises(airbyte.AirbyteError) as bad:
            settings = AirbyteSettings(
                _env_file=None,
                server_url=fake.url,
                client_id=fake.client_id,
                client_secret=CLIENT_SECRET[::-1],
            )
            airbyte.deploy(Settings(_env_file=None), settings, echo=print)
    out, err = capsys.readouterr()
    texts = [out, err, caplog.text, "\n".join(lines), str(bad.value)]
    texts += [str(w.message) for w in caught]
    for secret in (*SECRETS, CLIENT_SECRET[::-1]):
        for text in texts:
            assert secret[:12] not in text
    # ...while they did reach Airbyte: the test watched something real
    configs = [s["configuration"] for s in fake.objects("sources")]
    assert {MAILCHIMP_KEY, HUBSPOT_TOKEN} <= {v for c in configs for v in c.values()}
    assert "api_key (secret)" in "\n".join(lines)  # --resend-secrets names, never shows


# --------------------------------------------------------------------------- the CLI
def test_cli_deploys_then_finds_nothing_to_change(env, fake, tmp_path):
    first = elt("airbyte", "deploy", env_extra=cli_env(fake), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "deployed: 7 created" in first.stdout
    second = elt("airbyte", "deploy", env_extra=cli_env(fake), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "unchanged: all 7 objects already match" in second.stdout
    ids = json.loads((env / "airbyte" / "connections.json").read_text())
    assert sorted(ids) == sorted(SOURCES)
    for cid in ids.values():
        assert cid in second.stdout


def test_bad_credentials_fail_naming_the_token_url_and_the_variables(env, fake, tmp_path):
    wrong = "wrong-secret-" + CLIENT_SECRET[::-1]
    out = elt("airbyte", "deploy", env_extra=cli_env(fake, AIRBYTE_CLIENT_SECRET=wrong),
              cwd=tmp_path)  # fmt: skip
    assert out.returncode == 3
    assert f"{fake.url}/applications/token refused the client credentials" in out.stderr
    assert "AIRBYTE_CLIENT_ID" in out.stderr and "AIRBYTE_CLIENT_SECRET" in out.stderr
    assert wrong[:12] not in out.stdout + out.stderr
    assert fake.objects("sources") == []


def test_an_unreachable_server_is_named(env, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}/api/public/v1"
    extra = {"AIRBYTE_SERVER_URL": url, "AIRBYTE_CLIENT_ID": "x", "AIRBYTE_CLIENT_SECRET": "y"}
    out = elt("airbyte", "deploy", env_extra={**extra, "AIRBYTE_RETRY_MAX_S": "0.5"}, cwd=tmp_path)
    assert out.returncode == 3
    assert f"cannot reach Airbyte at http://127.0.0.1:{port}/api/public/v1" in out.stderr
    assert "AIRBYTE_SERVER_URL" in out.stderr


def test_an_unknown_workspace_is_named_with_the_ones_there_are(env, fake, tmp_path):
    missing = "00000000-0000-4000-8000-000000000000"
    out = elt("airbyte", "deploy", env_extra=cli_env(fake, AIRBYTE_WORKSPACE_ID=missing),
              cwd=tmp_path)  # fmt: skip
    assert out.returncode == 2
    assert f"AIRBYTE_WORKSPACE_ID={missing}: no such workspace" in out.stderr
    assert f"'Default Workspace' ({fake.workspace_id})" in out.stderr


def test_missing_client_credentials_are_named_before_any_request(env, tmp_path):
    out = elt("airbyte", "deploy", "--dry-run", env_extra={}, cwd=tmp_path)
    assert out.returncode == 2
    assert "AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET are not set" in out.stderr


# --------------------------------------------------------------------------- SDK setup
def test_the_token_url_defaults_under_the_servers_path():
    settings = AirbyteSettings(_env_file=None, server_url="http://airbyte:8000/api/public/v1/")
    assert settings.token_endpoint == "http://airbyte:8000/api/public/v1/applications/token"


def test_a_transient_503_is_retried():
    """The SDK retries nothing unless configured: the client configures backoff."""
    hits: list[str] = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self):  # the token endpoint
            self.rfile.read(int(self.headers["Content-Length"]))
            self._reply(200, {"access_token": "t", "token_type": "Bearer", "expires_in": 600})

        def do_GET(self):
            hits.append(self.path)
            if len(hits) == 1:
                return self._reply(503, {"title": "try-again-later"})
            ws = {"workspaceId": "w1", "name": "Default Workspace", "dataResidency": "auto",
                  "notifications": {}}  # fmt: skip
            return self._reply(200, {"data": [ws]})

        def _reply(self, status, body):
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/public/v1"
        settings = AirbyteSettings(
            _env_file=None, server_url=url, client_id="id-flaky", client_secret="secret-flaky"
        )
        client = airbyte.AirbyteClient(settings)
        assert airbyte.resolve_workspace(client, None) == ("w1", "Default Workspace")
        client.close()
    finally:
        server.shutdown()
    assert len(hits) == 2
