"""Custom extract-load connectors: MailChimp and HubSpot -> raw DuckDB (no Airflow here).

Public API (used by the `elt` CLI and the Airflow DAG)::

    from connectors import MailchimpConfig, run_sync
    result = run_sync("mailchimp", config=MailchimpConfig(api_key=..., raw_path=...))
    result = run_sync("hubspot", config=cfg, full_refresh=True, streams=["contacts"])
    result.ok, result.rows_per_stream, result.streams["members"].records_read

The package reads no environment: its caller (`elt`) builds each source's config
(`Source.config_type`, a pydantic model) and passes it down. `registry.SOURCES`
names the sources, one line each.

`run_syncs(configs, *, streams=None, **run_sync_kwargs)` runs several sources at
once (one thread each) and returns each one's `SyncResult` or the exception it
raised; `elt extract` uses it.

`run_sync(source, *, config, full_refresh=False, streams=None, progress=None) ->
SyncResult` syncs one source into `config.raw_path` (schema `raw_<source>`). It
raises `SourceLocked` when another extract of the same source runs, `AuthError`
(bad credentials, before anything is written) and `SyncFailed` (carrying
`.result`) when a stream failed (a DuckDB statement that fails is `LoadFailed`,
naming the stream and the first error); all derive from `ConnectorError`.
`progress` receives start/advance/finish callbacks per stream.

Design, in the order data flows (see docs/contracts.md §1-2):
- `http.HttpClient`: keep-alive session, auth, timeouts, retries with exponential
  backoff + full jitter honouring `Retry-After`, typed errors, secrets redacted.
- `paginators`: MailChimp offset/count, HubSpot `after`, HubSpot search re-anchored
  on the cursor past the 10,000-result cap. msgspec decodes each body into the
  paging fields plus one `Raw` slice (the JSON text) per record: no Python object
  per record; readers decode only the one field they need (a cursor) per record.
- `mailchimp` / `hubspot`: streams declared as data (`streams.Stream`) + readers.
- `loader.Loader`: records stay JSON text until DuckDB parses them, at most
  `statement_bytes` per SQL statement (typed columns + `_raw`), merged on the
  primary key. `loader.StreamWriter` owns one stream's write path: batches,
  commits, the cursor written to `_state` in the same transaction as its rows,
  its restore after a failed statement, and the stream's `_sync_log` row.
- Lanes: a source's streams load in lanes (`Source.lanes`), each with its own
  thread, HTTP session and DuckDB connection to the source's file, so the large
  streams (MailChimp sent_to and email_activity) load at the same time. Within a
  lane, a producer thread fetches while the lane's thread loads.
- Concurrency: one DuckDB file per source, so both sources run in parallel; a
  non-blocking `flock` on `<raw_dir>/<source>.lock` refuses a second run of the
  same source, naming the lock file and the holder's pid.
- Incremental correctness: reads start at `cursor - lookback` with `>=`/`>` filters
  and merge on the key, so ties and late writers are re-read, never doubled.
  Campaign children (sent_to, email_activity, unsubscribes) keep per-campaign
  state (a fingerprint of the report counters, and the newest activity time).
  HubSpot associations are replaced whole on a first or --full-refresh sync;
  later syncs delete and re-read only the from-side records that changed (or
  are linked to a to-side record that changed) since the marks in `_state`.
- `airbyte`: the same sources as Airbyte-protocol connectors
  (`python -m connectors.airbyte <source> spec|check|discover|read ...`).
"""

from typing import TYPE_CHECKING, Any

# Importing `connectors` (or `connectors.registry`, as a DAG file does) stays cheap:
# the names below load their modules on first use.
_LAZY = {
    "HubspotConfig": "connectors.hubspot",
    "MailchimpConfig": "connectors.mailchimp",
    "SourceConfig": "connectors.config",
    "SOURCES": "connectors.sync",
    "StreamResult": "connectors.loader",
    "SyncResult": "connectors.sync",
    "run_sync": "connectors.sync",
    "run_syncs": "connectors.sync",
    **{
        name: "connectors.errors"
        for name in (
            "AuthError",
            "ClientError",
            "ConfigError",
            "ConnectorError",
            "HttpError",
            "LoadFailed",
            "RateLimited",
            "ServerError",
            "SourceLocked",
            "SyncFailed",
            "UnexpectedResponse",
        )
    },
}

if TYPE_CHECKING:
    from connectors.config import SourceConfig
    from connectors.errors import (
        AuthError,
        ClientError,
        ConfigError,
        ConnectorError,
        HttpError,
        LoadFailed,
        RateLimited,
        ServerError,
        SourceLocked,
        SyncFailed,
        UnexpectedResponse,
    )
    from connectors.hubspot import HubspotConfig
    from connectors.loader import StreamResult
    from connectors.mailchimp import MailchimpConfig
    from connectors.sync import SOURCES, SyncResult, run_sync, run_syncs


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")


__all__ = [
    "SOURCES",
    "AuthError",
    "ClientError",
    "ConfigError",
    "ConnectorError",
    "HttpError",
    "HubspotConfig",
    "LoadFailed",
    "MailchimpConfig",
    "RateLimited",
    "ServerError",
    "SourceConfig",
    "SourceLocked",
    "StreamResult",
    "SyncFailed",
    "SyncResult",
    "UnexpectedResponse",
    "run_sync",
    "run_syncs",
]
