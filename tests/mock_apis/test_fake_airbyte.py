"""The fake Airbyte API (`mock_apis.airbyte`) driven by the real clients: the
`airbyte-api` SDK and Airflow's `AirbyteHook`, over HTTP on loopback."""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from airbyte_api import AirbyteAPI, api, errors, models

from mock_apis.airbyte.testing import FakeAirbyte, fake_airbyte
from mock_apis.testing import MockServer

MAILCHIMP_IMAGE = "saas-elt/source-mailchimp"
META = [
    ("_airbyte_raw_id", "VARCHAR"),
    ("_airbyte_extracted_at", "TIMESTAMP WITH TIME ZONE"),
    ("_airbyte_meta", "JSON"),
    ("_airbyte_generation_id", "BIGINT"),
]


@pytest.fixture(scope="module")
def mailchimp():
    """A tiny MailChimp world, read-only for this module's tests."""
    with MockServer(seed=4, scale=0.02) as server:
        yield server


def _mc_config(server: MockServer) -> dict[str, Any]:
    return {"api_key": server.mailchimp_api_key, "base_url": server.mailchimp_url}


def _raw(fake: FakeAirbyte, method: str, path: str, auth: bool = True, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {fake.token()}"} if auth else {}
    return requests.request(method, fake.url + path, headers=headers, timeout=60, **kw)


def _create_source_unchanged(sdk: AirbyteAPI, **fields: Any) -> models.SourceResponse:
    """The SDK's way to send a custom connector's configuration as is: build the request
    without parsing it, and mute pydantic's serializer warnings (they print the config)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        request = models.SourceCreateRequest.model_construct(**fields)
        return sdk.sources.create_source(request=request).source_response


def _definition(sdk: AirbyteAPI, fake: FakeAirbyte, image: str = MAILCHIMP_IMAGE):
    request = api.CreateSourceDefinitionRequest(
        workspace_id=fake.workspace_id,
        create_definition_request=models.CreateDefinitionRequest(
            name="MailChimp (saas-elt)", docker_repository=image, docker_image_tag="dev"
        ),
    )
    return sdk.source_definitions.create_source_definition(request=request).definition_response


def _duckdb(sdk: AirbyteAPI, fake: FakeAirbyte, path: Path, schema: str = "mailchimp"):
    config = models.DestinationDuckdb(destination_path=str(path), schema_=schema)
    request = models.DestinationCreateRequest(
        name="warehouse", workspace_id=fake.workspace_id, configuration=config
    )
    return sdk.destinations.create_destination(request=request).destination_response


def _setup(fake: FakeAirbyte, server: MockServer, db: Path, **connection: Any) -> dict[str, str]:
    """Definition, source, DuckDB destination and a connection syncing every stream,
    deduped where the stream is incremental, all through the SDK."""
    sdk = fake.sdk()
    definition = _definition(sdk, fake)
    source = _create_source_unchanged(
        sdk,
        name="mailchimp",
        workspace_id=fake.workspace_id,
        definition_id=definition.id,
        configuration=_mc_config(server),
    )
    ids = _connect(fake, source.source_id, db, **connection)
    return {"definition": definition.id, "source": source.source_id, **ids}


def _connect(fake: FakeAirbyte, source_id: str, db: Path, schema: str = "mailchimp", **kw: Any):
    sdk = fake.sdk()
    dest = _duckdb(sdk, fake, db, schema)
    props = sdk.streams.get_stream_properties(
        request=api.GetStreamPropertiesRequest(
            source_id=source_id, destination_id=dest.destination_id
        )
    ).stream_properties_response
    dedup = models.ConnectionSyncModeEnum.INCREMENTAL_DEDUPED_HISTORY
    streams = [
        models.StreamConfiguration(
            name=p.stream_name,
            sync_mode=dedup
            if dedup in p.sync_modes
            else models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE,
        )
        for p in props
    ]
    created = sdk.connections.create_connection(
        request=models.ConnectionCreateRequest(
            source_id=source_id,
            destination_id=dest.destination_id,
            configurations=models.StreamConfigurations(streams=streams),
            **kw,
        )
    ).connection_response
    return {"destination": dest.destination_id, "connection": created.connection_id}


def _sync(fake: FakeAirbyte, connection_id: str) -> dict[str, Any]:
    job = (
        fake.sdk()
        .jobs.create_job(
            request=models.JobCreateRequest(
                connection_id=connection_id, job_type=models.JobTypeEnum.SYNC
            )
        )
        .job_response
    )
    assert job.status == models.JobStatusEnum.PENDING
    return fake.wait_for_job(job.job_id)


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _counts(db: Path, schema: str) -> dict[str, int]:
    tables = _query(
        db, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'"
    )
    return {t: _query(db, f'SELECT count(*) FROM "{schema}"."{t}"')[0][0] for (t,) in tables}


# ---------------------------------------------------------------------- auth


def test_token_only_at_the_public_path_and_every_endpoint_but_health_wants_it(tmp_path):
    with fake_airbyte(tmp_path / "airbyte") as fake:
        form = {
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        }
        token = requests.post(fake.token_url, data=form, timeout=30)
        assert token.status_code == 200
        body = token.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 180
        as_json = requests.post(fake.token_url, json=form, timeout=30)
        assert as_json.status_code == 200

        wrong = requests.post(
            fake.token_url, data={**form, "client_secret": "wrong-secret-123"}, timeout=30
        )
        assert wrong.status_code == 401
        assert wrong.json()["title"] == "invalid-api-key"
        assert "wrong-secret-123" not in wrong.text

        # the SDK's default token URL drops the server URL's path: not served there
        root_token = requests.post(fake.base_url + "/applications/token", data=form, timeout=30)
        assert root_token.status_code == 404
        assert "/api/public/v1/applications/token" in root_token.json()["detail"]

        assert _raw(fake, "GET", "/health", auth=False).status_code == 200
        anonymous = _raw(fake, "GET", "/workspaces", auth=False)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.json()["status"] == 401
        forged = requests.get(
            fake.url + "/workspaces",
            headers={"Authorization": f"Bearer {body['access_token'][:-4]}AAAA"},
            timeout=30,
        )
        assert forged.status_code == 401
        assert _raw(fake, "GET", "/workspaces").status_code == 200

        default_url_sdk = AirbyteAPI(
            server_url=fake.url,
            security=models.Security(
                client_credentials=models.SchemeClientCredentials(
                    client_id=fake.client_id, client_secret="another-secret-for-a-new-session"
                )
            ),
        )
        with pytest.raises(Exception, match="404 from token endpoint"):
            default_url_sdk.workspaces.list_workspaces(request=api.ListWorkspacesRequest())
        listed = fake.sdk().workspaces.list_workspaces(request=api.ListWorkspacesRequest())
        (workspace,) = listed.workspaces_response.data
        assert (workspace.name, workspace.workspace_id) == ("Default Workspace", fake.workspace_id)


def test_expired_tokens_are_refused(tmp_path):
    with fake_airbyte(tmp_path / "airbyte", token_ttl_s=1) as fake:
        token = fake.token()
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(fake.url + "/workspaces", headers=headers, timeout=30).ok
        time.sleep(1.1)
        late = requests.get(fake.url + "/workspaces", headers=headers, timeout=30)
        assert late.status_code == 401
        assert "expired" in late.json()["detail"]


# ---------------------------------------------------------------------- objects


def _rename_with_members_incremental(sdk, connection_id: str):
    return sdk.connections.patch_connection(
        request=api.PatchConnectionRequest(
            connection_id=connection_id,
            connection_patch_request=models.ConnectionPatchRequest(
                name="renamed",
                configurations=models.StreamConfigurations(
                    streams=[
                        models.StreamConfiguration(
                            name="members",
                            sync_mode=models.ConnectionSyncModeEnum.INCREMENTAL_APPEND,
                        )
                    ]
                ),
            ),
        )
    ).connection_response


def test_sdk_creates_definition_source_destination_and_connection(tmp_path, mailchimp):
    with fake_airbyte(tmp_path / "airbyte") as fake:
        sdk = fake.sdk()
        definition = _definition(sdk, fake)
        (stored_def,) = fake.objects("definitions")
        assert stored_def["spec"]["connectionSpecification"]["required"] == ["api_key"]
        config = _mc_config(mailchimp)

        # the SDK's trap: a plain dict is parsed into a built-in source model on the way
        coerced = sdk.sources.create_source(
            request=models.SourceCreateRequest(
                name="coerced",
                workspace_id=fake.workspace_id,
                definition_id=definition.id,
                configuration=config,
            )
        ).source_response
        # sent unchanged, the fake stores exactly what was sent
        source = _create_source_unchanged(
            sdk,
            name="mailchimp",
            workspace_id=fake.workspace_id,
            definition_id=definition.id,
            configuration=config,
        )
        stored = {s["sourceId"]: s["configuration"] for s in fake.objects("sources")}
        assert stored[source.source_id] == config
        assert stored[coerced.source_id] != config
        assert "sourceType" in stored[coerced.source_id]

        got = sdk.sources.get_source(request=api.GetSourceRequest(source_id=source.source_id))
        on_wire = got.raw_response.json()
        assert on_wire["configuration"]["api_key"] == "**********"
        assert on_wire["definitionId"] == definition.id and on_wire["name"] == "mailchimp"

        dest = _duckdb(sdk, fake, tmp_path / "out.duckdb")
        assert dest.destination_type == "duckdb"
        connection = sdk.connections.create_connection(
            request=models.ConnectionCreateRequest(
                source_id=source.source_id, destination_id=dest.destination_id
            )
        ).connection_response
        assert connection.workspace_id == fake.workspace_id
        assert connection.schedule.schedule_type == models.ScheduleTypeWithBasicEnum.MANUAL
        # no configurations: every stream, full refresh overwrite (the API's default)
        modes = {s.name: s.sync_mode for s in connection.configurations.streams}
        assert "members" in modes
        assert set(modes.values()) == {models.ConnectionSyncModeEnum.FULL_REFRESH_OVERWRITE}

        patched = _rename_with_members_incremental(sdk, connection.connection_id)
        (members,) = patched.configurations.streams
        assert patched.name == "renamed"
        assert members.cursor_field == ["last_changed"]  # the source-defined cursor
        assert members.primary_key == [["list_id"], ["id"]]
        first_page = sdk.sources.list_sources(
            request=api.ListSourcesRequest(workspace_ids=[fake.workspace_id], limit=1)
        ).sources_response
        assert len(first_page.data) == 1 and "offset=1" in first_page.next
        listed = sdk.connections.list_connections(request=api.ListConnectionsRequest())
        assert [c.connection_id for c in listed.connections_response.data] == [
            connection.connection_id
        ]

        sdk.sources.delete_source(request=api.DeleteSourceRequest(source_id=coerced.source_id))
        with pytest.raises(errors.SDKError) as gone:
            sdk.sources.get_source(request=api.GetSourceRequest(source_id=coerced.source_id))
        assert gone.value.status_code == 404


def test_invalid_requests_are_rejected_naming_the_field_without_echoing_secrets(tmp_path):
    secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0-us21"
    with fake_airbyte(tmp_path / "airbyte") as fake:
        definition = _definition(fake.sdk(), fake)
        base = {"workspaceId": fake.workspace_id, "definitionId": definition.id, "name": "s"}

        def post(path: str, body: dict) -> requests.Response:
            return _raw(fake, "POST", path, json=body)

        def fields(resp: requests.Response) -> set[str]:
            assert resp.status_code == 400, resp.text
            assert secret not in resp.text
            return {e["field"] for e in resp.json()["data"]["errors"]}

        no_name = post(
            "/sources",
            {k: v for k, v in base.items() if k != "name"} | {"configuration": {"api_key": secret}},
        )
        assert fields(no_name) == {"name"}
        wrong_type = post("/sources", {**base, "workspaceId": 7, "configuration": {}})
        assert "workspaceId" in fields(wrong_type)
        missing_key = post("/sources", {**base, "configuration": {"base_url": "http://x"}})
        assert fields(missing_key) == {"$.api_key"}
        bad_values = post(
            "/sources",
            {
                **base,
                "configuration": {
                    "api_key": secret,
                    "http_timeout_s": "soon",
                    "http_max_retries": -1,
                },
            },
        )
        assert fields(bad_values) == {"$.http_timeout_s", "$.http_max_retries"}
        secret_wrong_type = post("/sources", {**base, "configuration": {"api_key": 12345678}})
        assert fields(secret_wrong_type) == {"$.api_key"}
        assert "12345678" not in secret_wrong_type.text

        no_path = post(
            "/destinations",
            {
                "name": "d",
                "workspaceId": fake.workspace_id,
                "configuration": {"destinationType": "duckdb"},
            },
        )
        assert fields(no_path) == {"configuration.destination_path"}
        bad_job = post("/jobs", {"connectionId": "x", "jobType": "everything"})
        assert fields(bad_job) == {"jobType"}

        unknown_image = post(
            f"/workspaces/{fake.workspace_id}/definitions/sources",
            {"name": "x", "dockerRepository": "acme/source-nope", "dockerImageTag": "1.0"},
        )
        assert unknown_image.status_code == 400
        assert "acme/source-nope:1.0" in unknown_image.json()["detail"]
        unknown_def = post(
            "/sources",
            {
                **base,
                "definitionId": "00000000-0000-0000-0000-000000000000",
                "configuration": {"api_key": secret},
            },
        )
        assert unknown_def.status_code == 404 and secret not in unknown_def.text
        assert _raw(fake, "GET", "/sources/nope").status_code == 404
        assert _raw(fake, "GET", "/jobs/12345").status_code == 404


def test_connection_stream_rules_match_the_public_api(tmp_path, mailchimp):
    with fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, mailchimp, tmp_path / "out.duckdb")

        def create(*streams: dict) -> requests.Response:
            return _raw(
                fake,
                "POST",
                "/connections",
                json={
                    "sourceId": ids["source"],
                    "destinationId": ids["destination"],
                    "configurations": {"streams": list(streams)},
                },
            )

        unknown = create({"name": "no_such_stream"})
        assert unknown.status_code == 400 and "Invalid stream found" in unknown.json()["detail"]
        twice = create({"name": "lists"}, {"name": "lists"})
        assert "Duplicate stream" in twice.json()["detail"]
        full_only = create({"name": "lists", "syncMode": "incremental_append"})
        assert "Cannot set sync mode to incremental_append" in full_only.json()["detail"]
        other_cursor = create(
            {"name": "members", "syncMode": "incremental_append", "cursorField": ["email_address"]}
        )
        assert "already defined by source" in other_cursor.json()["detail"]
        other_key = create(
            {
                "name": "members",
                "syncMode": "incremental_deduped_history",
                "primaryKey": [["email_address"]],
            }
        )
        assert "already pre-defined" in other_key.json()["detail"]
        assert (
            create(
                {"name": "members", "mappers": [{"type": "hashing", "mapperConfiguration": {}}]}
            ).status_code
            == 400
        )
        assert create({"name": "members", "syncMode": "incremental_append"}).status_code == 200


# ---------------------------------------------------------------------- jobs


def test_sync_job_writes_airbyte_shaped_tables_matching_the_native_connector(tmp_path, mailchimp):
    from connectors.mailchimp import MailchimpConfig
    from connectors.sync import SOURCES, run_sync

    db = tmp_path / "airbyte.duckdb"
    with fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, mailchimp, db)
        view = _sync(fake, ids["connection"])
        sdk_job = fake.sdk().jobs.get_job(request=api.GetJobRequest(job_id=view["job"]["jobId"]))
    assert [status for status, _ in view["history"]] == ["pending", "running", "succeeded"]
    job = sdk_job.job_response
    assert job.status == models.JobStatusEnum.SUCCEEDED
    assert job.duration and job.last_updated_at and job.start_time
    counts = _counts(db, "mailchimp")
    assert job.rows_synced == sum(counts.values()) > 0
    assert job.bytes_synced > 0

    native = run_sync(
        "mailchimp",
        config=MailchimpConfig(**_mc_config(mailchimp), raw_path=tmp_path / "native.duckdb"),
    )
    native_counts = {
        s.name: _query(tmp_path / "native.duckdb", f"SELECT count(*) FROM raw_mailchimp.{s.name}")[
            0
        ][0]
        for s in SOURCES["mailchimp"].streams
    }
    assert native.ok
    assert counts == native_counts

    columns = _query(
        db,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'mailchimp' AND table_name = 'members' "
        "ORDER BY ordinal_position",
    )
    assert columns[:4] == META
    typed = dict(columns)
    assert typed["last_changed"] == "TIMESTAMP WITH TIME ZONE"
    assert typed["member_rating"] == "BIGINT" and typed["email_address"] == "VARCHAR"
    assert typed["_raw"] == "JSON" and typed["tags"] == "JSON"
    rows, ids_, keys, metas, generations = _query(
        db,
        """
        SELECT count(*), count(DISTINCT _airbyte_raw_id), count(DISTINCT (list_id, id)),
               list(DISTINCT _airbyte_meta::VARCHAR), list(DISTINCT _airbyte_generation_id)
        FROM mailchimp.members""",
    )[0]
    assert rows == ids_ == keys
    assert [json.loads(m) for m in metas] == [{"sync_id": job.job_id, "changes": []}]
    assert generations == [0]
    (null_extracted,) = _query(
        db, "SELECT count(*) FROM mailchimp.members WHERE _airbyte_extracted_at IS NULL"
    )[0]
    assert null_extracted == 0


def test_a_second_incremental_job_reads_from_the_saved_state(tmp_path):
    db = tmp_path / "airbyte.duckdb"
    with MockServer(seed=6, scale=0.02) as server, fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, server, db)
        first = _sync(fake, ids["connection"])
        saved = fake.state(ids["connection"])["streams"]
        assert {"members", "email_activity"} <= set(saved)
        server.advance(days=2, change_rate=0.05)
        second = _sync(fake, ids["connection"])
        truth = server.ground_truth()
    assert second["job"]["status"] == "succeeded", second["reason"]
    assert any("state for 4" in line for line in second["log"])
    first_rows, second_rows = (
        first["streams"]["members"]["rows"],
        second["streams"]["members"]["rows"],
    )
    assert 0 < second_rows < first_rows  # only what changed since the saved cursor
    keys = {(r["list_id"], r["id"]) for r in truth["members"]}
    rows = _query(db, "SELECT list_id, id, last_changed FROM mailchimp.members")
    assert len(rows) == len({(a, b) for a, b, _ in rows}) == len(keys)
    assert {(a, b) for a, b, _ in rows} == keys
    synced_again = _query(
        db,
        "SELECT count(*) FROM mailchimp.members WHERE "
        f"_airbyte_meta->>'sync_id' = '{second['job']['jobId']}'",
    )[0][0]
    assert synced_again == second_rows


def test_a_failed_job_keeps_its_reason_and_commits_only_checkpoints(tmp_path, mailchimp):
    db = tmp_path / "airbyte.duckdb"
    truth = mailchimp.ground_truth(["lists", "members"])

    def raw_ids(path: Path, table: str) -> list[str]:
        sql = f"SELECT list(_airbyte_raw_id ORDER BY _airbyte_raw_id) FROM {table}"
        return _query(path, sql)[0][0]

    with fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, mailchimp, db)
        _sync(fake, ids["connection"])
        before = {t: raw_ids(db, f"mailchimp.{t}") for t in ("lists", "members", "campaigns")}
        state_before = fake.state(ids["connection"])

        # dies at its first record (lists, an overwrite stream): nothing is committed
        fake.fail_next_job(ids["connection"], "injected: worker lost", after_records=1)
        failed = _sync(fake, ids["connection"])
        assert failed["job"]["status"] == "failed"
        assert failed["reason"] == "injected: worker lost"
        assert failed["streams"] == {} and failed["job"]["rowsSynced"] == 0
        assert {t: raw_ids(db, f"mailchimp.{t}") for t in before} == before
        assert fake.state(ids["connection"]) == state_before

        # a first sync dying at the first campaigns record: members (dedup) was
        # checkpointed by its STATE and is committed with it; lists (overwrite) never was
        fresh = _connect(fake, ids["source"], tmp_path / "second.duckdb", schema="fresh")
        cut = len(truth["lists"]) + len(truth["members"]) + 1
        fake.fail_next_job(fresh["connection"], "injected: node evicted", after_records=cut)
        partial = _sync(fake, fresh["connection"])
        assert partial["job"]["status"] == "failed"
        assert set(partial["streams"]) == {"members"}, (partial["reason"], partial["log"])
        assert set(fake.state(fresh["connection"])["streams"]) == {"members"}
        assert _counts(tmp_path / "second.duckdb", "fresh") == {"members": len(truth["members"])}

        # a real connector failure: the TRACE error is the reason, the key never shows
        bad_key = "0000deadbeef0000deadbeef00000000-us21"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            patch = models.SourcePatchRequest.model_construct(configuration={"api_key": bad_key})
            fake.sdk().sources.patch_source(
                request=api.PatchSourceRequest(source_id=ids["source"], source_patch_request=patch)
            )
        refused = _sync(fake, ids["connection"])
        refused_info = fake.job_info(refused["job"]["jobId"])
    assert refused["job"]["status"] == "failed"
    (refused_failure,) = refused_info["attempts"][0]["attempt"]["failureSummary"]["failures"]
    assert refused_failure["failureOrigin"] == "source"
    # the TRACE's failure_type (our connectors say system_error for a read-time error)
    assert f"(failure_type: {refused_failure['failureType']})" in refused["reason"]
    assert "AuthError" in refused_failure["externalMessage"]
    assert bad_key not in json.dumps(refused_info)
    assert "AuthError" in refused["reason"], refused["reason"]
    assert bad_key not in refused["reason"] and bad_key not in "\n".join(refused["log"])
    assert refused["job"]["rowsSynced"] == 0


def test_cancel_stops_a_running_job_and_frees_the_connection(tmp_path, mailchimp):
    with fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, mailchimp, tmp_path / "out.duckdb")
        sdk = fake.sdk()
        fake.hang_next_job(ids["connection"])
        sync = models.JobCreateRequest(
            connection_id=ids["connection"], job_type=models.JobTypeEnum.SYNC
        )
        job = sdk.jobs.create_job(request=sync).job_response
        deadline = time.monotonic() + 30
        while fake.job(job.job_id)["job"]["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(errors.SDKError) as busy:
            sdk.jobs.create_job(request=sync)
        assert busy.value.status_code == 409
        assert "already running" in busy.value.body

        cancelled = sdk.jobs.cancel_job(request=api.CancelJobRequest(job_id=job.job_id))
        assert cancelled.job_response.status == models.JobStatusEnum.CANCELLED
        listed = sdk.jobs.list_jobs(
            request=api.ListJobsRequest(connection_id=ids["connection"])
        ).jobs_response.data
        assert [(j.job_id, j.status) for j in listed] == [
            (job.job_id, models.JobStatusEnum.CANCELLED)
        ]
        again = _sync(fake, ids["connection"])
    assert again["job"]["status"] == "succeeded"


def test_objects_state_and_jobs_survive_a_restart_of_the_server_process(tmp_path, mailchimp):
    with fake_airbyte(tmp_path / "airbyte", separate_process=True) as fake:
        ids = _setup(fake, mailchimp, tmp_path / "out.duckdb")
        done = _sync(fake, ids["connection"])
        fake.hang_next_job(ids["connection"])
        hung = (
            fake.sdk()
            .jobs.create_job(
                request=models.JobCreateRequest(
                    connection_id=ids["connection"], job_type=models.JobTypeEnum.SYNC
                )
            )
            .job_response
        )
        state = fake.state(ids["connection"])
        old_port = fake.port
        fake.restart()
        assert fake.port == old_port
        sdk = fake.sdk()
        sources = sdk.sources.list_sources(request=api.ListSourcesRequest()).sources_response
        assert [s.source_id for s in sources.data] == [ids["source"]]
        connection = sdk.connections.get_connection(
            request=api.GetConnectionRequest(connection_id=ids["connection"])
        ).connection_response
        assert connection.source_id == ids["source"]
        assert fake.state(ids["connection"]) == state
        assert (
            sdk.jobs.get_job(
                request=api.GetJobRequest(job_id=done["job"]["jobId"])
            ).job_response.status
            == models.JobStatusEnum.SUCCEEDED
        )
        orphan = fake.job(hung.job_id)
        assert orphan["job"]["status"] == "failed" and "stopped" in orphan["reason"]
        assert [
            d.id
            for d in sdk.source_definitions.list_source_definitions(
                request=api.ListSourceDefinitionsRequest(workspace_id=fake.workspace_id)
            ).definitions_response.data
        ] == [ids["definition"]]


def test_airflow_hook_submits_a_sync_and_follows_it(tmp_path, mailchimp, monkeypatch):
    from airflow.providers.airbyte.hooks.airbyte import AirbyteHook

    with fake_airbyte(tmp_path / "airbyte") as fake:
        ids = _setup(fake, mailchimp, tmp_path / "out.duckdb")
        monkeypatch.setenv(
            "AIRFLOW_CONN_FAKE_AIRBYTE",
            json.dumps(
                {
                    "conn_type": "airbyte",
                    "host": fake.url,
                    "login": fake.client_id,
                    "password": fake.client_secret,
                    "schema": fake.token_url,
                }
            ),
        )
        hook = AirbyteHook(airbyte_conn_id="fake_airbyte")
        assert hook.test_connection()[0] is True
        job = hook.submit_sync_connection(connection_id=ids["connection"])
        hook.wait_for_job(job.job_id, wait_seconds=0.2, timeout=120)
        assert hook.get_job_status(job.job_id) == models.JobStatusEnum.SUCCEEDED
        assert hook.get_job_details(job.job_id).rows_synced > 0


THINGS_SOURCE = """
import json, sys
command = sys.argv[1]
if command == "spec":
    spec = {"type": "object", "required": ["mode"], "properties": {"mode": {"type": "string"}}}
    print(json.dumps({"type": "SPEC", "spec": {"connectionSpecification": spec}}))
elif command == "discover":
    props = {"id": {"type": "integer"}, "n": {"type": ["null", "number"]},
             "day": {"type": "string", "format": "date"}, "ok": {"type": "boolean"},
             "tags": {"type": "array"}}
    stream = {"name": "things", "json_schema": {"type": "object", "properties": props},
              "supported_sync_modes": ["full_refresh"], "source_defined_primary_key": [["id"]]}
    print(json.dumps({"type": "CATALOG", "catalog": {"streams": [stream]}}))
elif command == "read":
    mode = json.load(open(sys.argv[sys.argv.index("--config") + 1]))["mode"]
    for data in ({"id": 1, "n": 1.5, "day": "2024-01-02", "ok": True, "tags": ["a"]},
                 {"id": "x", "n": "lots", "day": "soon", "ok": False, "tags": None}):
        record = {"stream": "things", "data": data, "emitted_at": 1700000000000}
        print(json.dumps({"type": "RECORD", "record": record}))
    if mode == "garbage":
        print("this is not a protocol message")
    if mode == "crash":
        sys.stderr.write("Traceback (most recent call last):\\nRuntimeError: boom\\n")
        sys.exit(3)
    if mode == "trace":
        error = {"message": "Things refused the key", "internal_message": "HTTP 401 from /things",
                 "failure_type": "config_error", "stack_trace": "Traceback: AuthError"}
        trace = {"type": "ERROR", "emitted_at": 1700000001234.0, "error": error}
        print(json.dumps({"type": "TRACE", "trace": trace}))
        sys.exit(1)
"""


def test_mapped_image_typed_columns_bad_output_and_reset(tmp_path):
    script = tmp_path / "source_things.py"
    script.write_text(THINGS_SOURCE)
    images = {"acme/source-things": [sys.executable, str(script)]}
    db = tmp_path / "things.duckdb"
    with fake_airbyte(tmp_path / "airbyte", images=images) as fake:
        sdk = fake.sdk()
        definition = _definition(sdk, fake, image="acme/source-things")
        source = _create_source_unchanged(
            sdk,
            name="things",
            workspace_id=fake.workspace_id,
            definition_id=definition.id,
            configuration={"mode": "ok"},
        )
        ids = _connect(
            fake,
            source.source_id,
            db,
            prefix="acme_",
            namespace_definition=models.NamespaceDefinitionEnum.CUSTOM_FORMAT,
            namespace_format="things_${SOURCE_NAMESPACE}raw",
        )
        good = _sync(fake, ids["connection"])
        assert good["job"]["status"] == "succeeded", good["reason"]
        rows = _query(
            db,
            "SELECT id, n, day::VARCHAR, ok, tags::VARCHAR, _airbyte_meta::VARCHAR "
            "FROM things_raw.acme_things ORDER BY id NULLS LAST",
        )
        assert rows[0][:5] == (1, 1.5, "2024-01-02", True, '["a"]')
        assert rows[1][:5] == (None, None, None, False, None)
        changes = json.loads(rows[1][5])["changes"]
        assert {c["field"] for c in changes} == {"id", "n", "day"}
        assert {(c["change"], c["reason"]) for c in changes} == {
            ("NULLED", "DESTINATION_TYPECAST_ERROR")
        }

        outcomes = {}
        for mode in ("garbage", "crash"):
            patch = models.SourcePatchRequest.model_construct(configuration={"mode": mode})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sdk.sources.patch_source(
                    request=api.PatchSourceRequest(
                        source_id=source.source_id, source_patch_request=patch
                    )
                )
            outcomes[mode] = _sync(fake, ids["connection"])
        assert _query(db, "SELECT count(*) FROM things_raw.acme_things")[0][0] == 2  # kept whole
        reset = fake.sdk().jobs.create_job(
            request=models.JobCreateRequest(
                connection_id=ids["connection"], job_type=models.JobTypeEnum.RESET
            )
        )
        cleared = fake.wait_for_job(reset.job_response.job_id)
        patch = models.SourcePatchRequest.model_construct(configuration={"mode": "ok"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdk.sources.patch_source(
                request=api.PatchSourceRequest(
                    source_id=source.source_id, source_patch_request=patch
                )
            )
        emptied = _query(db, "SELECT count(*) FROM things_raw.acme_things")[0][0]
        _sync(fake, ids["connection"])
    garbage, crash = outcomes["garbage"], outcomes["crash"]
    assert garbage["job"]["status"] == crash["job"]["status"] == "failed"
    assert "invalid Airbyte message on stdout line 3: not JSON" in garbage["reason"]
    assert "exited with code 3" in crash["reason"] and "RuntimeError: boom" in crash["reason"]
    assert cleared["job"]["status"] == "succeeded" and emptied == 0
    assert _query(
        db, "SELECT list(DISTINCT _airbyte_generation_id) FROM things_raw.acme_things"
    ) == [([1],)]


# ---------------------------------------------------------------------- Config API


def _things(fake: FakeAirbyte, tmp_path: Path, mode: str = "ok") -> dict[str, str]:
    """The THINGS_SOURCE connector (mapped in `images`) and a connection into DuckDB."""
    sdk = fake.sdk()
    definition = _definition(sdk, fake, image="acme/source-things")
    source = _create_source_unchanged(
        sdk,
        name="things",
        workspace_id=fake.workspace_id,
        definition_id=definition.id,
        configuration={"mode": mode},
    )
    return {"source": source.source_id, **_connect(fake, source.source_id, tmp_path / "t.duckdb")}


def _set_mode(fake: FakeAirbyte, source_id: str, mode: str) -> None:
    patch = models.SourcePatchRequest.model_construct(configuration={"mode": mode})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fake.sdk().sources.patch_source(
            request=api.PatchSourceRequest(source_id=source_id, source_patch_request=patch)
        )


def _start(fake: FakeAirbyte, connection_id: str, job_type=models.JobTypeEnum.SYNC) -> int:
    request = models.JobCreateRequest(connection_id=connection_id, job_type=job_type)
    return fake.sdk().jobs.create_job(request=request).job_response.job_id


def _airflow_conn(fake: FakeAirbyte, **changes: Any) -> Any:
    """What `job_failure_reason` reads of an Airflow connection of type airbyte."""
    from types import SimpleNamespace

    fields = {
        "host": fake.url,
        "login": fake.client_id,
        "password": fake.client_secret,
        "schema": fake.token_url,
    }
    return SimpleNamespace(**{**fields, **changes})


def _failures(info: dict[str, Any]) -> list[dict[str, Any]]:
    (attempt,) = info["attempts"]
    return attempt["attempt"]["failureSummary"]["failures"]


@pytest.fixture(scope="module")
def things(tmp_path_factory):
    """A fake whose `acme/source-things` image is THINGS_SOURCE, a connection into DuckDB,
    and the Airflow connection `job_failure_reason` reads; the tests below run its jobs
    one after the other (one job at a time per connection)."""
    tmp_path = tmp_path_factory.mktemp("config-api")
    script = tmp_path / "source_things.py"
    script.write_text(THINGS_SOURCE)
    images = {"acme/source-things": [sys.executable, str(script)]}
    with fake_airbyte(tmp_path / "airbyte", images=images, hang_s=60) as fake:
        ids = _things(fake, tmp_path)
        yield fake, ids, _airflow_conn(fake)


def test_config_api_a_succeeded_job_has_one_attempt_and_no_failure(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    _set_mode(fake, ids["source"], "ok")
    good = _sync(fake, ids["connection"])
    good_id = good["job"]["jobId"]
    info = fake.job_info(good_id)
    job = info["job"]
    assert job["id"] == good_id and job["configId"] == ids["connection"]
    assert (job["configType"], job["status"]) == ("sync", "succeeded")
    assert job["createdAt"] <= job["startedAt"] <= job["updatedAt"] < 10**11  # seconds
    (attempt,) = info["attempts"]
    assert attempt["logType"] == "formatted"
    assert attempt["logs"]["logLines"] == good["log"]
    read = attempt["attempt"]
    assert (read["id"], read["status"], read["recordsSynced"]) == (0, "succeeded", 2)
    assert read["endedAt"] == read["updatedAt"] == job["updatedAt"]
    assert read["totalStats"]["recordsEmitted"] == read["totalStats"]["recordsCommitted"] == 2
    assert "failureSummary" not in read
    assert job_failure_reason(conn, good_id).startswith("Airbyte's public API gives no reason")


def test_config_api_an_injected_failure_is_the_sources_with_its_reason(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    _set_mode(fake, ids["source"], "ok")
    # an injected failure: its reason is the external message, the source its origin
    fake.fail_next_job(ids["connection"], "boom")
    failed = _sync(fake, ids["connection"])
    failed_id = failed["job"]["jobId"]
    assert (failed["job"]["status"], failed["reason"]) == ("failed", "boom")
    info = fake.job_info(failed_id)
    assert info["job"]["status"] == "failed"
    assert info["attempts"][0]["attempt"]["status"] == "failed"
    assert info["attempts"][0]["attempt"]["failureSummary"]["partialSuccess"] is False
    (failure,) = _failures(info)
    stamp = failure.pop("timestamp")  # milliseconds, unlike the job's seconds
    assert info["job"]["createdAt"] * 1000 <= stamp <= (info["job"]["updatedAt"] + 1) * 1000
    assert failure == {
        "failureOrigin": "source",
        "failureType": "system_error",
        "externalMessage": "boom",
    }
    assert job_failure_reason(conn, failed_id) == "boom (origin: source)"
    # the provider's relative default token URL ("v1/applications/token") works too
    relative = _airflow_conn(fake, schema="v1/applications/token")
    assert job_failure_reason(relative, failed_id) == "boom (origin: source)"


def test_config_api_a_trace_error_keeps_its_messages_and_failure_type(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    # a TRACE ERROR: its message, internal message, stack trace and failure_type
    _set_mode(fake, ids["source"], "trace")
    traced_id = _sync(fake, ids["connection"])["job"]["jobId"]
    (failure,) = _failures(fake.job_info(traced_id))
    assert failure == {
        "failureOrigin": "source",
        "failureType": "config_error",
        "externalMessage": "Things refused the key",
        "internalMessage": "HTTP 401 from /things",
        "stacktrace": "Traceback: AuthError",
        "timestamp": 1700000001234,
    }
    assert job_failure_reason(conn, traced_id) == (
        "Things refused the key / HTTP 401 from /things (origin: source)"
    )  # the internal message too, where it says more


def test_config_api_a_crash_without_a_trace_is_a_source_system_error(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    # a source that dies without a TRACE: the source's system_error, exit code and stderr
    _set_mode(fake, ids["source"], "crash")
    crashed_id = _sync(fake, ids["connection"])["job"]["jobId"]
    (failure,) = _failures(fake.job_info(crashed_id))
    assert (failure["failureOrigin"], failure["failureType"]) == ("source", "system_error")
    assert "exited with code 3" in failure["externalMessage"]
    assert "RuntimeError: boom" in job_failure_reason(conn, crashed_id)


def test_config_api_a_cancelled_job_and_a_reset(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    # a cancelled job: its attempt failed with the platform's cancellation failure
    _set_mode(fake, ids["source"], "ok")
    fake.hang_next_job(ids["connection"])
    hung_id = _start(fake, ids["connection"])
    deadline = time.monotonic() + 30
    while fake.job_info(hung_id)["job"]["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    running = fake.job_info(hung_id)["attempts"][0]["attempt"]
    assert running["status"] == "running" and "endedAt" not in running
    fake.sdk().jobs.cancel_job(request=api.CancelJobRequest(job_id=hung_id))
    info = fake.job_info(hung_id)
    assert info["job"]["status"] == "cancelled"
    assert info["attempts"][0]["attempt"]["status"] == "failed"
    (failure,) = _failures(info)
    assert failure["failureType"] == "manual_cancellation" and "failureOrigin" not in failure
    assert job_failure_reason(conn, hung_id).startswith("This attempt was cancelled")

    reset_id = _start(fake, ids["connection"], models.JobTypeEnum.RESET)
    fake.wait_for_job(reset_id)
    assert fake.job_info(reset_id)["job"]["configType"] == "reset_connection"


def test_config_api_errors_in_its_own_shapes_and_the_reason_falls_back(things):
    from elt.airbyte import job_failure_reason

    fake, ids, conn = things
    _set_mode(fake, ids["source"], "ok")
    good_id = _sync(fake, ids["connection"])["job"]["jobId"]
    fake.fail_next_job(ids["connection"], "boom")
    failed_id = _sync(fake, ids["connection"])["job"]["jobId"]
    # errors, in the Config API's shapes; the reason falls back without raising
    token = {"Authorization": f"Bearer {fake.token()}"}
    url = fake.config_api_url + "/jobs/get"
    unknown = requests.post(url, json={"id": 999}, headers=token, timeout=30)
    assert unknown.status_code == 404
    assert "Could not find job with id: 999" in unknown.json()["message"]
    for body in ({}, {"id": "x"}, {"id": True}, {"jobId": 1}, [1]):
        bad = requests.post(url, json=body, headers=token, timeout=30)
        assert bad.status_code == 400, body
        (error,) = bad.json()["validationErrors"]
        assert error["propertyPath"].endswith(".id")
    assert requests.post(url, data=b"{", headers=token, timeout=30).status_code == 400
    anonymous = requests.post(url, json={"id": good_id}, timeout=30)
    assert anonymous.status_code == 401
    other = requests.post(fake.config_api_url + "/jobs/list", json={}, timeout=30)
    assert other.status_code == 404 and "/api/v1/jobs/get" in other.json()["detail"]
    assert job_failure_reason(conn, 999) == (
        "Airbyte's public API gives no reason; see the job's log in the Airbyte UI "
        "(job 999) (Config API: HTTPError)"
    )
    wrong = _airflow_conn(fake, password="not-the-secret")
    assert "(Config API: HTTPError)" in job_failure_reason(wrong, failed_id)


def test_config_api_job_info_of_pending_and_older_stored_jobs():
    from mock_apis.airbyte.config_api import job_info

    stored = {
        "jobId": 3,
        "status": "pending",
        "jobType": "sync",
        "connectionId": "c-1",
        "rowsSynced": 0,
        "bytesSynced": 0,
        "_createdAt": 1700000000.5,
        "_updatedAt": 1700000000.5,
    }
    assert job_info(stored, []) == {
        "job": {
            "id": 3,
            "configType": "sync",
            "configId": "c-1",
            "createdAt": 1700000000,
            "updatedAt": 1700000000,
            "status": "pending",
        },
        "attempts": [],
    }
    # a failed job stored before failures were kept: its reason, replication's
    older = {**stored, "status": "failed", "_reason": "gone", "_updatedAt": 1700000009.0}
    (attempt,) = job_info(older, ["a line"])["attempts"]
    assert attempt["logs"] == {"logLines": ["a line"]}
    summary = attempt["attempt"]["failureSummary"]
    assert summary["partialSuccess"] is False
    (failure,) = summary["failures"]
    assert (failure["failureOrigin"], failure["failureType"], failure["externalMessage"]) == (
        "replication",
        "system_error",
        "gone",
    )
