"""A fake of Airbyte's public API (self-hosted layout), for tests of code that drives
Airbyte through the real `airbyte-api` SDK or Airflow's Airbyte provider. No Airbyte
server runs here (it needs Docker); this one answers the calls they make, validates
bodies with the SDK's own models, runs custom connectors through the Airbyte protocol
and writes DuckDB tables shaped like Airbyte's DuckDB destination.

    python -m mock_apis.airbyte --port 8006 --data-dir /tmp/fake-airbyte \
        [--client-id X --client-secret Y] [--images '{"repo": ["argv", ...]}']

    from mock_apis.airbyte.testing import fake_airbyte
    with fake_airbyte(tmp_path) as fake:        # background thread, free port
        sdk = fake.sdk()                        # airbyte_api.AirbyteAPI, absolute token URL
        ...; fake.objects("sources"); fake.job(job_id)["reason"]

URLs. The API is under `http://127.0.0.1:PORT/api/public/v1`; the token under
`.../api/public/v1/applications/token` and nowhere else. The SDK's trap: its default
`token_url` is "/applications/token", which `urljoin` resolves against the host root,
dropping `/api/public/v1`; the fake answers that path 404 (naming the right one).
Give the SDK the absolute token URL. (Airflow's provider defaults to
"v1/applications/token", which does resolve to the right place from a server URL
ending in `/v1`; set the connection's schema to the absolute URL anyway.)

The SDK's other trap: `SourceCreateRequest(configuration={...})` with a plain dict is
parsed into the first built-in source model it fits (e.g. `SourcePosthog`), which adds
that source's defaults and `sourceType` and drops unknown keys, before it is sent. To
send a custom connector's configuration unchanged, build the request with
`model_construct` (no parsing) and silence pydantic's serializer warnings (they print
the configuration, secrets included); the fake stores what arrives, as the server would.

Beside it, one endpoint of the server's Config API: `POST /api/v1/jobs/get` (same
token), the JobInfoRead whose attempts carry the failure reason the public API's
JobResponse lacks (`config_api`).

Modules: `app` (routing, auth, `FakeConfig`), `resources` (workspaces, definitions,
sources, destinations), `connections` (connections, streams, jobs endpoints),
`config_api` (`POST /api/v1/jobs/get`),
`catalog` (stream configuration rules), `jobs` + `attempt` (running a sync),
`destination` (the DuckDB tables), `images` (image -> command), `validation`,
`auth`, `problems`, `store`, `admin` (`/_admin/`), `testing` (`fake_airbyte`).
"""

API_PREFIX = "/api/public/v1"
CONFIG_API_PREFIX = "/api/v1"  # the Config API, of which the fake serves POST /jobs/get
MOCK_CLIENT_ID = "fake-airbyte-client-id"
MOCK_CLIENT_SECRET = "fake-airbyte-client-secret-0000"
# self-hosted seeds one workspace; the fake's has this id in every data dir
DEFAULT_WORKSPACE_ID = "5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6"
DUCKDB_DEFINITION_ID = "94bd199c-2ff0-4aa2-b98e-17f0acb72610"  # airbyte/destination-duckdb
