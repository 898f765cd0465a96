"""The connectors as Airbyte sources: protocol-valid output and nothing else on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from airbyte_protocol.models import AirbyteMessage, Type

from mock_apis.testing import MockServer


def _run(source: str, *args: str, files: dict[str, object], tmp_path) -> list[AirbyteMessage]:
    argv = [sys.executable, "-m", "connectors.airbyte", source, *args]
    for flag, content in files.items():
        path = tmp_path / f"{source}-{flag}.json"
        path.write_text(json.dumps(content))
        argv += [f"--{flag}", str(path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=os.getcwd())
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, proc.stderr[-2000:]
    # every stdout line is one valid protocol message
    return [AirbyteMessage.model_validate_json(ln) for ln in lines]


@pytest.fixture(scope="module")
def server():
    with MockServer(seed=4, scale=0.02) as s:
        yield s


def _config(server, source):
    if source == "mailchimp":
        return {"api_key": server.mailchimp_api_key, "base_url": server.mailchimp_url}
    return {"access_token": server.hubspot_token, "base_url": server.base_url}


@pytest.mark.parametrize("source", ["mailchimp", "hubspot"])
def test_spec_check_discover_emit_valid_protocol_messages(server, source, tmp_path):
    (spec,) = _run(source, "spec", files={}, tmp_path=tmp_path)
    assert spec.type == Type.SPEC
    assert spec.spec.connectionSpecification["required"]
    (status,) = _run(source, "check", files={"config": _config(server, source)}, tmp_path=tmp_path)
    assert status.connectionStatus.status.value == "SUCCEEDED"
    bad = {**_config(server, source), "api_key": "x-us1", "access_token": "nope"}
    (failed,) = _run(source, "check", files={"config": bad}, tmp_path=tmp_path)
    assert failed.connectionStatus.status.value == "FAILED"
    assert "nope" not in (failed.connectionStatus.message or "")
    (catalog,) = _run(
        source, "discover", files={"config": _config(server, source)}, tmp_path=tmp_path
    )
    streams = catalog.catalog.streams
    assert streams and all(s.json_schema.get("properties") for s in streams)
    assert all(s.source_defined_primary_key for s in streams)


@pytest.mark.parametrize("source", ["mailchimp", "hubspot"])
def test_read_emits_records_in_schema_and_resumable_per_stream_state(server, source, tmp_path):
    (catalog,) = _run(
        source, "discover", files={"config": _config(server, source)}, tmp_path=tmp_path
    )
    configured = {
        "streams": [
            {
                "stream": s.model_dump(mode="json", exclude_none=True),
                "sync_mode": "incremental" if len(s.supported_sync_modes) > 1 else "full_refresh",
                "destination_sync_mode": "append_dedup",
                "cursor_field": s.default_cursor_field or [],
                "primary_key": s.source_defined_primary_key,
            }
            for s in catalog.catalog.streams
        ]
    }
    schemas = {s.name: s.json_schema["properties"] for s in catalog.catalog.streams}
    files = {"config": _config(server, source), "catalog": configured, "state": []}
    messages = _run(source, "read", files=files, tmp_path=tmp_path)
    records = [m.record for m in messages if m.type == Type.RECORD]
    states = [m.state for m in messages if m.type == Type.STATE]
    assert records and states
    truth = server.ground_truth()
    for name in schemas:
        got = [r for r in records if r.stream == name]
        assert len(got) == len(truth[name]), name
        for r in got[:50]:
            assert r.emitted_at > 0
            assert set(r.data) <= set(schemas[name]), f"{name}: fields outside json_schema"
    # platform-shaped state (extra keys) is accepted and makes the next read incremental
    state_in = [
        {**s.model_dump(mode="json", exclude_none=True), "sourceStats": {"recordCount": 1.0}}
        for s in states
    ]
    again = _run(source, "read", files={**files, "state": state_in}, tmp_path=tmp_path)
    again_records = [m for m in again if m.type == Type.RECORD]
    assert len(again_records) < len(records)


# where each stream's cursor sits in the record (`_raw`), as the ground truth gives it
CURSOR_PATH = {
    "members": ("last_changed",),
    "campaigns": ("create_time",),
    "reports": ("send_time",),
    "email_activity": ("activity", "timestamp"),
    "unsubscribes": ("timestamp",),
    "contacts": ("properties", "lastmodifieddate"),
    "companies": ("properties", "hs_lastmodifieddate"),
    "deals": ("properties", "hs_lastmodifieddate"),
    "owners": ("updatedAt",),
}


def _configured(catalog, source_streams):
    return {
        "streams": [
            {
                "stream": s.model_dump(mode="json", exclude_none=True),
                "sync_mode": "incremental" if len(s.supported_sync_modes) > 1 else "full_refresh",
                "destination_sync_mode": "append_dedup"
                if len(s.supported_sync_modes) > 1
                else "overwrite",
                "cursor_field": s.default_cursor_field or [],
                "primary_key": s.source_defined_primary_key,
            }
            for s in catalog.catalog.streams
        ]
    }


@pytest.mark.parametrize("source", ["mailchimp", "hubspot"])
def test_incremental_read_after_an_advance_merged_like_a_destination_equals_truth(source, tmp_path):
    """What a platform does with our output: append_dedup for incremental streams (the
    second read's records merged over the first's by primary key), overwrite for the
    rest. After a time advance the result must equal the server's records, keys and
    cursors, so an incremental read through the protocol misses no change."""
    from connectors.sync import SOURCES

    with MockServer(seed=5, scale=0.03) as server:
        config = _config(server, source)
        (catalog,) = _run(source, "discover", files={"config": config}, tmp_path=tmp_path)
        files = {"config": config, "catalog": _configured(catalog, SOURCES[source].streams)}
        first = _run(source, "read", files={**files, "state": []}, tmp_path=tmp_path)
        server.advance(days=2, change_rate=0.05)
        states = [m.state.model_dump(mode="json", exclude_none=True) for m in first if m.state]
        second = _run(source, "read", files={**files, "state": states}, tmp_path=tmp_path)
        truth = server.ground_truth()
    for stream in SOURCES[source].streams:
        rows: dict[tuple, dict] = {}
        reads = (first, second) if stream.incremental else (second,)
        for messages in reads:
            for m in messages:
                if m.type == Type.RECORD and m.record.stream == stream.name:
                    data = m.record.data
                    rows[tuple(str(data[k]) for k in stream.primary_key)] = data
        want = {
            tuple(str(r[k]) for k in stream.primary_key): r["cursor"] for r in truth[stream.name]
        }
        assert set(rows) == set(want), (
            f"{stream.name}: missing {sorted(set(want) - set(rows))[:3]}, "
            f"unexpected {sorted(set(rows) - set(want))[:3]}"
        )
        path = CURSOR_PATH.get(stream.name)
        if path:
            for key, data in rows.items():
                value = data["_raw"]
                for p in path:
                    value = value[p]
                assert value == want[key], f"{stream.name} {key}: cursor {value} != {want[key]}"
    assert any(m.type == Type.RECORD for m in second)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read the file"), ("{not json", "not valid JSON (line 1, column 2")],
)
def test_unreadable_config_is_a_protocol_error_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    argv = [sys.executable, "-m", "connectors.airbyte", "hubspot", "check", "--config", str(path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=os.getcwd())
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    msg = AirbyteMessage.model_validate_json(line)
    assert msg.type == Type.TRACE
    assert str(path) in msg.trace.error.message
    assert expected in msg.trace.error.message
