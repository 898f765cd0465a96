"""Glue between the settings, the connectors' stream declarations and the quality gates.

`quality` never imports the connectors; this module turns each connector
stream into a `quality.StreamSpec` and the settings into a `QualityConfig`.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from connectors.registry import SOURCES, load
from elt.settings import Settings
from quality import DEFAULT_MAY_BE_EMPTY, ColumnSpec, GateResult, QualityConfig, StreamSpec
from quality import run_gate as _run_gate

#: Settings fields that tune the gates, applied when `elt.settings.Settings` has them.
#: quality_may_be_empty ("hubspot.deals,mailchimp.lists" or a set) adds to the defaults.
SETTINGS_FIELDS = {
    "quality_may_be_empty": "may_be_empty",
    "quality_quarantine_threshold": "quarantine_threshold",
    "quality_volume_drop_threshold": "volume_drop_threshold",
    "quality_future_tolerance_hours": "future_tolerance_hours",
}


@lru_cache
def stream_specs() -> tuple[StreamSpec, ...]:
    """Every source's streams as the quality gates see them."""
    specs = []
    for source in SOURCES:
        for stream in load(source).streams:
            has_properties = any(
                c.name == "properties" and c.type == "JSON" for c in stream.columns
            )
            own_shape = stream.select is None  # else `_raw` is shaped by the stream's SELECT
            specs.append(
                StreamSpec(
                    source=source,
                    stream=stream.name,
                    primary_key=tuple(stream.primary_key),
                    columns=tuple(ColumnSpec(c.name, c.type, c.json_path) for c in stream.columns),
                    cursor_field=stream.cursor_field,
                    record_columns=own_shape,
                    field_paths=(("", "properties") if has_properties else ("",))
                    if own_shape
                    else (),
                )
            )
    return tuple(specs)


def quality_config(
    settings: Settings, *, warehouse: Path | None = None, **overrides: Any
) -> QualityConfig:
    """The gates' config: raw files (our connectors' or Airbyte's: ELT_RAW_FORMAT), the
    store, the docs dir and the warehouse (`warehouse`, e.g. a new build, else the
    published one). `overrides` set other `QualityConfig` fields (may_be_empty,
    quarantine_threshold, all_rows, ...)."""
    config = QualityConfig(
        raw=settings.raw_files(),
        store=settings.quality_db,
        docs_dir=settings.quality_docs_dir,
        warehouse=warehouse or settings.warehouse,
        streams=stream_specs(),
        raw_format=settings.raw_format,
    )
    tuned = {
        field: getattr(settings, name)
        for name, field in SETTINGS_FIELDS.items()
        if getattr(settings, name, None) is not None
    }
    if isinstance(tuned.get("may_be_empty"), str):
        tuned["may_be_empty"] = tuned["may_be_empty"].split(",")
    if "may_be_empty" in tuned:
        extra = {n.strip() for n in tuned["may_be_empty"] if n.strip()}
        tuned["may_be_empty"] = DEFAULT_MAY_BE_EMPTY | extra
    return dataclasses.replace(config, **{**tuned, **overrides})


def run_gate(
    settings: Settings,
    gate: Literal["raw", "marts"],
    *,
    run_id: str,
    warehouse: Path | None = None,
    **overrides: Any,
) -> GateResult:
    """Run one gate with the settings' paths (see `quality.run_gate`)."""
    return _run_gate(
        gate, quality_config(settings, warehouse=warehouse, **overrides), run_id=run_id
    )
