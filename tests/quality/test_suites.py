"""The declarations themselves: coverage of the contract, severities and a cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from elt.gates import stream_specs
from elt.settings import REPO_ROOT
from quality import SUITES
from quality.records import RECORD_CHECKS
from quality.spec import Check, in_set

# docs/contracts.md §2, and the marts the dbt project builds.
CONTRACT_TABLES = {
    "mailchimp": {
        "lists", "members", "campaigns", "reports", "sent_to", "email_activity", "unsubscribes",
    },
    "hubspot": {
        "contacts", "companies", "deals", "owners", "deal_pipelines", "deal_pipeline_stages",
        "contact_companies", "deal_contacts", "deal_companies",
    },
    "warehouse": {
        "dim_contacts", "dim_companies", "dim_campaigns", "dim_owners", "dim_deal_stages",
        "fct_email_events", "fct_deals", "mart_campaign_performance", "mart_marketing_funnel",
    },
}  # fmt: skip


def test_every_contract_table_has_exactly_one_suite():
    declared = {}
    for suite in SUITES:
        declared.setdefault(suite.database, []).append(suite.table)
    assert {db: set(tables) for db, tables in declared.items()} == CONTRACT_TABLES
    assert len({s.name for s in SUITES}) == len(SUITES)


def test_every_raw_suite_checks_its_key_and_load_metadata():
    for suite in (s for s in SUITES if s.layer == "raw"):
        kinds = {c.gx_type for c in suite.checks}
        assert kinds & {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}, suite
        not_null = {
            c.kwargs["column"] for c in suite.checks if c.gx_type == "ExpectColumnValuesToNotBeNull"
        }
        assert {"_extracted_at", "_sync_id"} <= not_null, suite.name


def test_mostly_is_used_only_where_dirty_data_is_documented_and_never_fails_a_gate():
    relaxed = [
        (s.name, c.kwargs["column"], c.severity)
        for s in SUITES
        for c in s.checks
        if "mostly" in c.kwargs
    ]
    assert relaxed == [
        ("raw.mailchimp.members", "email_address", "warning"),
        ("raw.hubspot.contacts", "email", "warning"),
        ("raw.hubspot.deals", "amount", "info"),
    ]


def test_keys_are_critical_and_every_severity_is_used():
    for suite in SUITES:
        key_checks = [c for c in suite.checks if set(c.columns) <= set(suite.key)]
        assert key_checks and all(c.severity == "critical" for c in key_checks), suite.name
    assert {c.severity for s in SUITES for c in s.checks} == {"critical", "warning", "info"}
    with pytest.raises(ValueError, match="severity"):
        Check("ExpectColumnValuesToNotBeNull", {"column": "a"}, severity="fatal")


def test_suite_keys_and_record_checks_follow_the_connectors_declarations():
    specs = {(s.source, s.stream): s for s in stream_specs()}
    for suite in (s for s in SUITES if s.layer == "raw"):
        spec = specs[(suite.database, suite.table)]
        assert suite.key == spec.primary_key, suite.name
    for rule in RECORD_CHECKS:
        spec = specs[(rule.source, rule.stream)]
        assert rule.column in {c.name for c in spec.columns}, rule


def test_an_unknown_row_condition_operator_is_refused():
    with pytest.raises(ValueError, match="like"):
        in_set("x", [1], where=("y", "like", "z"))
    assert Check("ExpectColumnValuesToNotBeNull", {"column": "a"}).columns == {"a"}


def test_importing_quality_does_not_import_great_expectations():
    code = "import sys, quality; print('great_expectations' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
