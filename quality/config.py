"""What the gates are given: files, thresholds and the streams the connectors declare.

`quality` never imports the connectors: `elt.gates` turns each connector stream
into a `StreamSpec` (keys, typed columns and the JSON path each is read from)
and passes them in `QualityConfig.streams`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from quality.spec import TableSuite

#: Streams that may legitimately hold nothing: a shrinking or empty one is a warning,
#: not a critical failure. Core entities (lists, members, campaigns, contacts,
#: companies, deals, owners, pipelines and their stages) may not.
DEFAULT_MAY_BE_EMPTY = frozenset(
    {
        "mailchimp.reports",  # an account that has only drafts
        "mailchimp.sent_to",
        "mailchimp.email_activity",
        "mailchimp.unsubscribes",
        "hubspot.contact_companies",
        "hubspot.deal_contacts",
        "hubspot.deal_companies",
    }
)


@dataclass(frozen=True)
class ColumnSpec:
    """A typed raw column: its DuckDB type and the dotted JSON path it is read from."""

    name: str
    type: str
    path: str


@dataclass(frozen=True)
class StreamSpec:
    """One raw table as its connector declares it."""

    source: str
    stream: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...] = ()
    cursor_field: str | None = None
    may_be_empty: bool = False
    #: The columns' JSON paths read `_raw` (False when a custom SELECT shapes the rows,
    #: e.g. one row per email action or per association: `_raw` is then not one record).
    record_columns: bool = True
    #: Where the stream's fields are, for schema drift: "" is the top-level keys of
    #: `_raw`, "properties" the keys of `_raw.properties` (HubSpot objects), reported as
    #: `properties.<key>`. Empty: no field drift (a `_raw` shaped by our own SELECT).
    field_paths: tuple[str, ...] = ("",)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.stream}"

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"


@dataclass(frozen=True)
class QualityConfig:
    """Where the gates read and write, and how strict they are.

    `raw` maps each source to its raw DuckDB file; `warehouse` is the file the
    marts gate reads (a new build before it is published); `store` is the
    quality store (`quality.store`); `docs_dir` receives the static data docs.
    `raw_format` says who wrote the raw files: `native` (our loader: schema
    `raw_<source>`, one file per source) or `airbyte` (Airbyte's DuckDB
    destination: schema `airbyte_<source>`; every source maps to that one file,
    read through `quality.airbyte`).
    """

    raw: Mapping[str, Path]
    store: Path
    docs_dir: Path
    warehouse: Path | None = None
    streams: Sequence[StreamSpec] = ()
    raw_format: Literal["native", "airbyte"] = "native"
    #: "source.stream" names that may be empty (see DEFAULT_MAY_BE_EMPTY).
    may_be_empty: frozenset[str] = DEFAULT_MAY_BE_EMPTY
    #: Share of a stream's rows in quarantine above which the raw gate fails.
    quarantine_threshold: float = 0.05
    #: Share a stream's row count may drop by since the last passing raw gate.
    volume_drop_threshold: float = 0.05
    #: A timestamp later than its reference (extraction time) plus this is "future".
    future_tolerance_hours: float = 24.0
    #: Offending keys kept per failed check.
    sample_size: int = 5
    #: Raw gate: validate every row, not only the rows of syncs no passing raw gate saw.
    all_rows: bool = False
    #: The suites to run (default: `quality.suites.SUITES`).
    suites: Sequence[TableSuite] | None = None
    #: Gate runs listed on the data docs index.
    docs_runs: int = 50

    def stream(self, source: str, stream: str) -> StreamSpec | None:
        for spec in self.streams:
            if spec.source == source and spec.stream == stream:
                return spec
        return None

    def may_be_empty_stream(self, source: str, stream: str) -> bool:
        spec = self.stream(source, stream)
        return f"{source}.{stream}" in self.may_be_empty or bool(spec and spec.may_be_empty)
