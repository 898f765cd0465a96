"""Airflow assets of the pipeline: each source's raw layer and the published marts.

The pipeline DAG emits an event on each (row counts in the event's metadata);
`saas_elt_report` is scheduled on `MARTS`. The URIs name data, not files, so they
are the same on every machine.
"""

from __future__ import annotations

from airflow.sdk import Asset

from connectors.registry import SOURCES

RAW = {s: Asset(name=f"raw_{s}", uri=f"elt://raw/{s}", group="raw") for s in SOURCES}
MARTS = Asset(name="marts", uri="elt://warehouse/marts", group="warehouse")
