"""What a gate leaves behind: audit rows, data docs that render offline, quiet logs, retention."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from gate_helpers import audit_rows, execute, new_sync, quarantine_rows, raw_gate

from elt.gates import quality_config, stream_specs
from elt.settings import REPO_ROOT, Settings
from quality import DEFAULT_MAY_BE_EMPTY, SUITES, prune

CHROMIUM = Path("/usr/bin/chromium")
MEMBER = "id = (SELECT min(id) FROM raw_mailchimp.members)"


def test_every_result_lands_in_the_audit_table(world: Settings):
    new_sync(world, "mailchimp", "members", "status = 'bogus'", MEMBER)

    result = raw_gate(world, "r1")

    rows = audit_rows(world, "r1")
    assert len(rows) == len(result.findings)
    assert {r["gate"] for r in rows} == {"raw"}
    assert {r["kind"] for r in rows} == {"gx", "quarantine", "volume", "drift"}
    (gx,) = [r for r in rows if r["expectation"] == "expect_column_values_to_be_in_set(status)"]
    assert (gx["suite"], gx["table_name"], gx["column_name"]) == (
        "raw.mailchimp.members",
        "raw_mailchimp.members",
        "status",
    )
    assert (gx["severity"], gx["success"], gx["unexpected_count"]) == ("warning", False, 1)
    assert gx["key_columns"] == ["list_id", "id"]
    assert len(gx["sample_keys"]) == 1 and "|" in gx["sample_keys"][0]
    assert gx["observed_value"].startswith("1 of 1 rows unexpected")
    assert gx["checked_at"] is not None
    assert sum(r["success"] for r in rows) == len(result.findings) - len(result.warnings)


def test_a_rerun_of_the_same_run_replaces_its_audit_rows(world: Settings):
    raw_gate(world, "r1")
    again = raw_gate(world, "r1")

    assert len(audit_rows(world, "r1")) == len(again.findings)
    with duckdb.connect(str(world.quality_db), read_only=True) as con:
        runs = con.execute(
            "SELECT count(*) FROM quality.quality.gate_runs WHERE run_id = 'r1'"
        ).fetchall()
    assert runs == [(1,)]


def test_prune_deletes_old_evidence_and_released_quarantine_but_keeps_held_records(
    world: Settings,
):
    new_sync(world, "mailchimp", "members", "status = 'bogus'", MEMBER)
    raw_gate(world, "old")
    new_sync(world, "mailchimp", "members", "status = 'subscribed'", MEMBER)
    raw_gate(world, "release")
    new_sync(world, "mailchimp", "members", "status = 'bogus'", MEMBER)
    raw_gate(world, "recent")
    long_ago = datetime.now(UTC) - timedelta(days=200)
    for sql in (
        "UPDATE quality.quality.audit SET checked_at = $t WHERE run_id IN ('baseline', 'old')",
        "UPDATE quality.quality.gate_runs SET finished_at = $t WHERE run_id IN ('baseline', 'old')",
        "UPDATE quality.quality.quarantine SET released_at = $t WHERE released_at IS NOT NULL",
    ):
        execute(world.quality_db, sql, {"t": long_ago})
    old_page = world.quality_docs_dir / "runs" / "old-raw.html"
    assert old_page.exists()

    deleted = prune(world.quality_db, 90, docs_dir=world.quality_docs_dir)

    assert deleted["audit rows"] > 0
    assert deleted["gate runs"] == 2 and deleted["released quarantine rows"] == 1
    assert not audit_rows(world, "old") and audit_rows(world, "recent")
    assert [r["run_id"] for r in quarantine_rows(world)] == ["recent"]  # the held one stays
    assert not old_page.exists()
    assert prune(world.quality_db, 90)["audit rows"] == 0


def _dom(page: Path) -> str:
    """The page after its scripts ran, as a headless browser with no network renders it."""
    out = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("ELT_REQUIRE_STACK"),
    reason="needs /usr/bin/chromium (apt-get install chromium); CI installs it and never skips",
)
def test_data_docs_render_offline_with_rows_in_their_tables(world: Settings):
    new_sync(world, "mailchimp", "members", "status = 'bogus'", MEMBER)
    result = raw_gate(world, "r1")

    index, page = _dom(result.docs_index), _dom(result.docs_page)

    runs = re.search(r'<table id="validation-runs">.*?</table>', index, re.S).group(0)
    assert runs.count("<tr") == 1 + 2  # header, this run and the session's baseline
    assert 'href="runs/r1-raw.html"' in runs
    results = re.search(r'<table id="validation-results">.*?</table>', page, re.S).group(0)
    assert results.count("<tr") == 1 + len(result.findings)
    assert "expect_column_values_to_be_in_set(status)" in results
    for html in (result.docs_index.read_text(), result.docs_page.read_text()):
        assert "<script" not in html and "http" not in html  # nothing to fetch


def test_a_gate_logs_one_line_per_suite_and_no_library_noise(world: Settings):
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, "
        "format='%(name)s|%(levelname)s|%(message)s')\n"
        "from elt.gates import run_gate\nfrom elt.settings import Settings\n"
        f"run_gate(Settings(data_dir={str(world.data_dir)!r}), 'raw', run_id='logs', "
        "all_rows=True)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert all(line.startswith("quality|") for line in lines), "\n".join(lines[:20])
    suites = [s.name for s in SUITES if s.layer == "raw"]
    per_suite = [line for line in lines if line.startswith("quality|INFO|raw gate: raw.")]
    assert [line.split()[2] for line in per_suite] == suites
    assert lines[-1].startswith("quality|INFO|raw gate passed")


def test_the_config_comes_from_the_settings_and_the_connectors_streams(world: Settings):
    config = quality_config(world)
    specs = {s.name: s for s in stream_specs()}

    assert config.raw == {
        "mailchimp": world.raw_path("mailchimp"),
        "hubspot": world.raw_path("hubspot"),
    }
    assert (config.store, config.docs_dir, config.warehouse) == (
        world.quality_db,
        world.quality_docs_dir,
        world.warehouse,
    )
    assert config.may_be_empty == DEFAULT_MAY_BE_EMPTY
    assert specs["mailchimp.members"].primary_key == ("list_id", "id")
    rating = next(c for c in specs["mailchimp.members"].columns if c.name == "member_rating")
    assert (rating.type, rating.path) == ("INTEGER", "member_rating")
    assert specs["hubspot.contacts"].field_paths == ("", "properties")
    assert not specs["mailchimp.email_activity"].record_columns  # rows shaped by its own SELECT
    build = world.data_dir / "build.duckdb"
    assert quality_config(world, warehouse=build, sample_size=3).warehouse == build


@pytest.mark.parametrize(("rate", "ok"), [(0.03, True), (1.0, False)])
def test_the_mock_worlds_dirt_is_held_back_at_the_default_rate_and_fails_the_gate_at_full(
    dirty_world, tmp_path: Path, rate: float, ok: bool
):
    data = tmp_path / "data"
    shutil.copytree(dirty_world(rate).data_dir, data, ignore=shutil.ignore_patterns("*.lock"))
    settings = Settings(data_dir=data)

    result = raw_gate(settings, "dirty")

    assert result.ok == ok, result.summary()
    assert result.quarantine["open"] > 0
    held_back = {f.expectation for f in result.warnings + result.critical if f.kind == "quarantine"}
    assert {"quarantine: invalid_email", "quarantine: future_timestamp"} <= held_back
    if not ok:
        assert {f.kind for f in result.critical} == {"quarantine"}


def test_settings_fields_named_in_elt_gates_tune_the_gates(world: Settings):
    class Tuned(Settings):
        quality_may_be_empty: str | None = "hubspot.deals, mailchimp.lists"
        quality_quarantine_threshold: float | None = 0.2

    tuned = Tuned(data_dir=world.data_dir)
    config = quality_config(tuned)

    assert config.may_be_empty == DEFAULT_MAY_BE_EMPTY | {"hubspot.deals", "mailchimp.lists"}
    assert config.quarantine_threshold == 0.2
    assert quality_config(tuned, quarantine_threshold=0.3).quarantine_threshold == 0.3
    assert quality_config(world).quarantine_threshold == 0.05
