"""The GX suites through both gates, on small SQL-built files (real DuckDB, real GX, no mocks)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from gate_helpers import TINY, execute

from elt.gates import run_gate
from elt.settings import Settings
from quality import SUITES


def test_clean_files_pass_both_gates_including_the_documented_dirty_raw_records(clean_gates):
    _, raw, marts = clean_gates
    assert raw.ok, raw.summary()
    assert marts.ok, marts.summary()
    assert [s.name for s in raw.suites] == [s.name for s in SUITES if s.layer == "raw"]
    assert [s.name for s in marts.suites] == [s.name for s in SUITES if s.layer == "marts"]
    gx = [f for f in raw.findings + marts.findings if f.kind == "gx"]
    assert len(gx) == sum(len(s.checks) for s in SUITES)
    assert all(f.success for f in gx if f.severity == "critical")
    # the dirty records are quarantined, within the (tiny world's) threshold: warnings
    assert {f.expectation for f in raw.warnings} >= {
        "quarantine: invalid_email",
        "quarantine: future_timestamp",
    }
    assert next(s for s in marts.suites if s.name == "marts.fct_deals").table == "marts.fct_deals"


def test_summary_has_one_line_per_suite_and_the_verdict(clean_gates):
    _, raw, marts = clean_gates
    lines = raw.summary().splitlines()
    for suite in (s for s in SUITES if s.layer == "raw"):
        assert sum(line.strip().startswith(f"{suite.name} ") for line in lines) == 1
    assert any(line.startswith("raw gate passed: 0 critical") for line in lines)
    assert marts.summary().splitlines()[-2].startswith("marts gate passed: 0 critical")


# One broken thing -> the named suite fails that expectation with that severity.
BREAKAGES = [
    pytest.param(
        "mailchimp",
        "insert into raw_mailchimp.members select * from raw_mailchimp.members limit 1",
        "raw.mailchimp.members",
        "expect_compound_columns_to_be_unique(list_id, id)",
        "critical",
        id="duplicate-compound-pk",
    ),
    pytest.param(
        "hubspot",
        "insert into raw_hubspot.deals select * from raw_hubspot.deals where id = '301'",
        "raw.hubspot.deals",
        "expect_column_values_to_be_unique(id)",
        "critical",
        id="duplicate-pk",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.email_activity set activity_id = null where activity_id = 'a2'",
        "raw.mailchimp.email_activity",
        "expect_column_values_to_not_be_null(activity_id)",
        "critical",
        id="null-key",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.members set status = 'bogus' where status = 'unsubscribed'",
        "raw.mailchimp.members",
        "expect_column_values_to_be_in_set(status)",
        "warning",
        id="bad-member-status-is-a-warning-the-quarantine-decides",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.email_activity set action = 'forward' where activity_id = 'a1'",
        "raw.mailchimp.email_activity",
        "expect_column_values_to_be_in_set(action)",
        "critical",
        id="bad-email-action",
    ),
    pytest.param(
        "hubspot",
        "update raw_hubspot.deals set dealstage = 'nosuchstage' where id = '302'",
        "raw.hubspot.deals",
        "expect_column_values_to_be_in_set(dealstage)",
        "warning",
        id="deal-stage-missing-from-stages",
    ),
    pytest.param(
        "hubspot",
        "update raw_hubspot.contacts set _sync_id = null where id = '103'",
        "raw.hubspot.contacts",
        "expect_column_values_to_not_be_null(_sync_id)",
        "critical",
        id="missing-load-metadata",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.members set email_address = first_name",
        "raw.mailchimp.members",
        "quarantine: invalid_email",
        "critical",
        id="email-field-mapped-wrong",
    ),
    pytest.param(
        "hubspot",
        "delete from raw_hubspot.deal_pipeline_stages where id = 'closedlost'",
        "raw.hubspot.deal_pipeline_stages",
        "expect_column_distinct_values_to_contain_set(id)",
        "critical",
        id="closed-stage-missing",
    ),
    pytest.param(
        "warehouse",
        "update marts.mart_campaign_performance set click_through_rate = 1.5",
        "marts.mart_campaign_performance",
        "expect_column_values_to_be_between(click_through_rate)",
        "critical",
        id="rate-above-one",
    ),
    pytest.param(
        "warehouse",
        "insert into marts.dim_contacts values (null, 'eve@example.com', true, 'Eve', null, null)",
        "marts.dim_contacts",
        "expect_column_values_to_not_be_null(person_key)",
        "critical",
        id="null-person-key",
    ),
    pytest.param(
        "warehouse",
        "update marts.dim_contacts set email = ' Ann@Example.com' where first_name = 'Ann'",
        "marts.dim_contacts",
        "expect_column_values_to_not_match_regex(email)",
        "critical",
        id="email-not-normalised",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set is_won = false where deal_id = '301'",
        "marts.fct_deals",
        "expect_column_values_to_be_in_set(is_won) where deal_stage_id == 'closedwon'",
        "critical",
        id="won-flag-inconsistent-with-stage",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set is_won = true where deal_id = '302'",
        "marts.fct_deals",
        "expect_column_values_to_be_in_set(is_closed) where is_won == True",
        "critical",
        id="won-but-open",
    ),
    pytest.param(
        "warehouse",
        "update marts.dim_contacts set email = 'ann@example' where first_name = 'Ann'",
        "marts.dim_contacts",
        "expect_column_values_to_match_regex(email) where has_valid_email == True",
        "critical",
        id="invalid-email-flagged-valid",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set amount = -5 where deal_id = '301'",
        "marts.fct_deals",
        "expect_column_values_to_be_between(amount)",
        "critical",
        id="negative-amount",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_email_events set event_type = 'sent' where event_id = 'e0'",
        "marts.fct_email_events",
        "expect_column_values_to_be_in_set(event_type)",
        "critical",
        id="bad-event-type",
    ),
]


@pytest.mark.parametrize(("database", "sql", "suite", "expectation", "severity"), BREAKAGES)
def test_broken_data_fails_the_named_expectation_with_its_severity(
    clean: Settings, database: str, sql: str, suite: str, expectation: str, severity: str
):
    path = clean.warehouse if database == "warehouse" else clean.raw_path(database)
    execute(path, sql)
    gate = "marts" if database == "warehouse" else "raw"
    # every suite of the broken file runs, so a check that misfires elsewhere shows up
    suites = [s for s in SUITES if s.database == database]

    result = run_gate(clean, gate, run_id="broken", suites=suites, **TINY)

    hits = [f for f in result.findings if f.failed and f.expectation == expectation]
    assert {(f.suite, f.severity) for f in hits} == {(suite, severity)}, result.summary()
    assert result.ok == (severity != "critical"), result.summary()
    assert {f.suite for f in result.critical} <= {suite}, result.summary()
    assert hits[0].message() in result.summary()


def test_a_critical_failure_names_suite_table_column_observed_value_and_offending_keys(
    clean: Settings,
):
    execute(clean.raw_path("hubspot"), "update raw_hubspot.contacts set archived = null")

    result = run_gate(clean, "raw", run_id="keys", **TINY)

    (finding,) = result.critical
    assert (finding.suite, finding.table, finding.column) == (
        "raw.hubspot.contacts",
        "raw_hubspot.contacts",
        "archived",
    )
    assert finding.expectation == "expect_column_values_to_not_be_null(archived)"
    assert finding.observed.startswith("3 of 3 rows unexpected")
    assert finding.sample_keys == ("101", "102", "103")
    assert finding.message() == (
        "CRITICAL raw.hubspot.contacts: raw_hubspot.contacts.archived "
        "expect_column_values_to_not_be_null(archived): 3 of 3 rows unexpected (100.0%); "
        "keys (id): 101, 102, 103 -> archiving is the deletion signal; never unknown"
    )


def test_a_missing_warehouse_fails_the_marts_gate_and_creates_no_file(raw_only: Settings):
    result = run_gate(raw_only, "marts", run_id="nowh")

    assert not result.ok
    assert {f.suite for f in result.critical} == {s.name for s in SUITES if s.layer == "marts"}
    assert all("does not exist" in f.observed for f in result.critical)
    assert not raw_only.warehouse.exists(), "a read-only gate must not create the file"


def test_a_missing_column_fails_its_suite_naming_the_column(clean: Settings):
    execute(clean.warehouse, "alter table marts.fct_deals drop column is_won")

    result = run_gate(clean, "marts", run_id="nocol")

    (finding,) = result.critical
    assert finding.suite == "marts.fct_deals"
    assert "['is_won']" in finding.observed
    assert [s.note for s in result.suites if s.name == "marts.fct_deals"] == ["not checked"]


def test_a_file_locked_by_a_writer_fails_fast_naming_the_file(clean: Settings):
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)",
            str(clean.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        result = run_gate(clean, "marts", run_id="locked")
    finally:
        writer.kill()
        writer.wait()

    assert not result.ok
    assert result.critical
    assert all(str(clean.warehouse) in f.observed for f in result.critical)
    assert all("locked" in f.observed for f in result.critical)


def test_the_marts_gate_reads_the_build_it_is_given_not_the_published_file(clean: Settings):
    build = clean.data_dir / "build" / "warehouse.duckdb"
    build.parent.mkdir()
    build.write_bytes(clean.warehouse.read_bytes())
    execute(build, "update marts.fct_deals set amount = -1")

    on_build = run_gate(clean, "marts", run_id="b1", warehouse=build)
    on_published = run_gate(clean, "marts", run_id="b1p")

    assert [f.suite for f in on_build.critical] == ["marts.fct_deals"]
    assert on_published.ok
