"""run_checks against real DuckDB files and real Great Expectations (no mocks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from elt.settings import REPO_ROOT, Settings
from quality import SUITES, run_checks


def execute(path: Path, sql: str) -> None:
    """Break the clean data in one place; the connection is closed before checking."""
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def test_clean_data_passes_every_suite_including_documented_dirty_raw_records(clean_run):
    _, result = clean_run
    assert result.ok, result.summary()
    assert [r.name for r in result.results] == [s.name for s in SUITES]
    assert {r.status for r in result.results} == {"passed"}
    assert result.failed == 0
    assert result.passed == sum(len(s.checks) for s in SUITES)
    assert result.suite("warehouse.fct_deals").table == "marts.fct_deals"


def test_data_docs_index_is_written_under_quality_docs_dir(clean_run):
    settings, result = clean_run
    assert result.docs_index == settings.quality_docs_dir / "index.html"
    html = result.docs_index.read_text()
    assert "raw.hubspot.deals" in html
    assert "warehouse.mart_campaign_performance" in html
    # GX's own project stays under the data dir, not in the repository.
    assert (settings.data_dir / "gx" / "expectations" / "raw" / "hubspot" / "deals.json").exists()
    assert not (REPO_ROOT / "gx").exists()


def test_summary_lists_every_suite_and_the_verdict(clean_run):
    _, result = clean_run
    summary = result.summary()
    for suite in SUITES:
        assert suite.name in summary
    assert summary.splitlines()[-2].startswith("OK: ")


# One broken thing -> exactly one suite fails, naming the expectation.
BREAKAGES = [
    pytest.param(
        "mailchimp",
        "insert into raw_mailchimp.members select * from raw_mailchimp.members limit 1",
        "raw.mailchimp.members",
        "expect_compound_columns_to_be_unique(list_id, id)",
        id="duplicate-compound-pk",
    ),
    pytest.param(
        "hubspot",
        "insert into raw_hubspot.deals select * from raw_hubspot.deals where id = '301'",
        "raw.hubspot.deals",
        "expect_column_values_to_be_unique(id)",
        id="duplicate-pk",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.email_activity set activity_id = null where activity_id = 'a2'",
        "raw.mailchimp.email_activity",
        "expect_column_values_to_not_be_null(activity_id)",
        id="null-key",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.members set status = 'bogus' where status = 'cleaned'",
        "raw.mailchimp.members",
        "expect_column_values_to_be_in_set(status)",
        id="bad-member-status",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.email_activity set action = 'forward' where activity_id = 'a1'",
        "raw.mailchimp.email_activity",
        "expect_column_values_to_be_in_set(action)",
        id="bad-email-action",
    ),
    pytest.param(
        "hubspot",
        "update raw_hubspot.deals set dealstage = 'nosuchstage' where id = '302'",
        "raw.hubspot.deals",
        "expect_column_values_to_be_in_set(dealstage)",
        id="deal-stage-missing-from-stages",
    ),
    pytest.param(
        "hubspot",
        "update raw_hubspot.contacts set _sync_id = null where id = '103'",
        "raw.hubspot.contacts",
        "expect_column_values_to_not_be_null(_sync_id)",
        id="missing-load-metadata",
    ),
    pytest.param(
        "mailchimp",
        "update raw_mailchimp.members set email_address = first_name",
        "raw.mailchimp.members",
        "expect_column_values_to_match_regex(email_address)",
        id="email-field-mapped-wrong",
    ),
    pytest.param(
        "hubspot",
        "delete from raw_hubspot.deal_pipeline_stages where id = 'closedlost'",
        "raw.hubspot.deal_pipeline_stages",
        "expect_column_distinct_values_to_contain_set(id)",
        id="closed-stage-missing",
    ),
    pytest.param(
        "warehouse",
        "update marts.mart_campaign_performance set click_through_rate = 1.5",
        "warehouse.mart_campaign_performance",
        "expect_column_values_to_be_between(click_through_rate)",
        id="rate-above-one",
    ),
    pytest.param(
        "warehouse",
        "insert into marts.dim_contacts values (null, 'eve@example.com', true, 'Eve', null, null)",
        "warehouse.dim_contacts",
        "expect_column_values_to_not_be_null(person_key)",
        id="null-person-key",
    ),
    pytest.param(
        "warehouse",
        "update marts.dim_contacts set email = ' Ann@Example.com' where first_name = 'Ann'",
        "warehouse.dim_contacts",
        "expect_column_values_to_not_match_regex(email)",
        id="email-not-normalised",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set is_won = false where deal_id = '301'",
        "warehouse.fct_deals",
        "expect_column_values_to_be_in_set(is_won) where deal_stage_id == 'closedwon'",
        id="won-flag-inconsistent-with-stage",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set is_won = true where deal_id = '302'",
        "warehouse.fct_deals",
        "expect_column_values_to_be_in_set(is_closed) where is_won == True",
        id="won-but-open",
    ),
    pytest.param(
        "warehouse",
        "update marts.dim_contacts set email = 'ann@example' where first_name = 'Ann'",
        "warehouse.dim_contacts",
        "expect_column_values_to_match_regex(email) where has_valid_email == True",
        id="invalid-email-flagged-valid",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_deals set amount = -5 where deal_id = '301'",
        "warehouse.fct_deals",
        "expect_column_values_to_be_between(amount)",
        id="negative-amount",
    ),
    pytest.param(
        "warehouse",
        "update marts.fct_email_events set event_type = 'sent' where event_id = 'e0'",
        "warehouse.fct_email_events",
        "expect_column_values_to_be_in_set(event_type)",
        id="bad-event-type",
    ),
]


@pytest.mark.parametrize(("database", "sql", "suite", "expectation"), BREAKAGES)
def test_broken_data_fails_the_right_suite_naming_the_expectation(
    clean: Settings, database: str, sql: str, suite: str, expectation: str
):
    path = clean.warehouse if database == "warehouse" else clean.raw_path(database)
    execute(path, sql)

    # Every suite of the broken file runs, so a check that misfires elsewhere shows up.
    result = run_checks(
        clean.quality_config(), suites=[s for s in SUITES if s.database == database]
    )

    assert not result.ok
    failed = [r for r in result.results if r.status != "passed"]
    assert [r.name for r in failed] == [suite], result.summary()
    assert failed[0].status == "failed"
    assert expectation in failed[0].failed_expectations
    assert result.failed == len(failed[0].failed_expectations)
    assert any(
        line.startswith(f"FAILED  {suite}: {expectation}") for line in result.summary().splitlines()
    )


def test_missing_warehouse_is_skipped_not_passed(raw_only: Settings):
    settings = raw_only
    result = run_checks(settings.quality_config())

    warehouse = [r for r in result.results if r.layer == "warehouse"]
    assert warehouse and all(r.status == "skipped" for r in warehouse)
    assert all(not r.success and r.evaluated == 0 for r in warehouse)
    assert all("does not exist" in r.reason and "elt transform" in r.reason for r in warehouse)
    assert result.passed == sum(len(s.checks) for s in SUITES if s.layer == "raw")
    assert result.ok
    assert not settings.warehouse.exists(), "a read-only check must not create the file"


def test_missing_table_is_skipped_while_the_rest_of_the_file_is_checked(clean: Settings):
    execute(clean.warehouse, "drop table marts.mart_marketing_funnel")

    result = run_checks(clean.quality_config(), layers=("warehouse",))

    funnel = result.suite("warehouse.mart_marketing_funnel")
    assert funnel.status == "skipped"
    assert "mart_marketing_funnel not found" in funnel.reason
    assert result.suite("warehouse.fct_deals").status == "passed"
    assert "SKIPPED warehouse.mart_marketing_funnel" in result.summary()


def test_nothing_built_is_not_ok(settings: Settings):
    result = run_checks(settings.quality_config())

    assert {r.status for r in result.results} == {"skipped"}
    assert result.passed == 0
    assert not result.ok
    assert result.docs_index is None
    assert "nothing was checked" in result.summary()


def test_a_missing_column_is_an_error_naming_the_column(clean: Settings):
    execute(clean.warehouse, "alter table marts.fct_deals drop column is_won")

    result = run_checks(clean.quality_config(), layers=("warehouse",))

    deals = result.suite("warehouse.fct_deals")
    assert deals.status == "error"
    assert "['is_won']" in deals.reason
    assert not result.ok
    assert result.failed == len(next(s for s in SUITES if s.name == deals.name).checks)


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
        result = run_checks(clean.quality_config())
    finally:
        writer.kill()
        writer.wait()

    warehouse = [r for r in result.results if r.layer == "warehouse"]
    assert all(r.status == "error" for r in warehouse)
    assert all(str(clean.warehouse) in r.reason and "locked" in r.reason for r in warehouse)
    assert all(r.status == "passed" for r in result.results if r.layer == "raw")
    assert not result.ok


def test_rerun_on_the_same_data_dir_adds_results_to_the_docs(clean: Settings):
    first = run_checks(clean.quality_config(), layers=("warehouse",))
    execute(clean.warehouse, "update marts.mart_campaign_performance set open_rate = 2")
    second = run_checks(clean.quality_config(), layers=("warehouse",))

    assert first.ok
    assert not second.ok
    assert second.suite("warehouse.mart_campaign_performance").status == "failed"
    pages = list((clean.quality_docs_dir / "validations").rglob("*.html"))
    assert len(pages) == 2 * len(first.results)


def test_elt_check_names_the_failed_expectation_and_exits_1(clean: Settings):
    for source in ("mailchimp", "hubspot"):  # a smaller run: the raw suites skip
        clean.raw_path(source).unlink()
    execute(clean.warehouse, "update marts.fct_deals set deal_id = null")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "elt.cli", "check"],
        cwd=clean.data_dir,
        env={**env, "ELT_DATA_DIR": str(clean.data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED  warehouse.fct_deals: expect_column_values_to_not_be_null(deal_id)" in run.stdout
    assert "SKIPPED raw.hubspot.deals" in run.stdout


def test_elt_check_uses_the_default_settings_and_exits_0_when_clean(
    clean: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    from elt.cli import check
    from elt.settings import get_settings

    monkeypatch.setenv("ELT_DATA_DIR", str(clean.data_dir))
    get_settings.cache_clear()
    try:
        check()  # returns normally: exit 0
    finally:
        get_settings.cache_clear()

    assert str(clean.quality_docs_dir / "index.html") in capsys.readouterr().out
