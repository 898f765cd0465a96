"""The gates on the assembled pipeline: each defect kind injected through the mock APIs,
extracted by the real connectors, judged by the raw gate; a clean world publishes, a
critical failure leaves the published marts exactly as they were.

One world for the module; each test injects its defect, runs, asserts, then clears it
and runs the raw gate again so the next test starts clean (and the release is seen).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from reliability import marts_fingerprint

from connectors.registry import SOURCES
from elt import stages
from elt.publish import new_run_id
from elt.settings import Settings
from mock_apis.testing import MockServer


class Pipeline:
    """`elt run`'s stages in-process against the module's mock world."""

    def __init__(self, server: MockServer, settings: Settings) -> None:
        self.server, self.settings = server, settings
        self.overrides = {
            "mailchimp": {"base_url": server.mailchimp_url, "api_key": server.mailchimp_api_key},
            "hubspot": {
                "base_url": server.base_url,
                "access_token": server.hubspot_token,
                "requests_per_10s": 0,
                "search_requests_per_s": 0,
            },
        }

    def extract(self, *, full_refresh: bool = False) -> None:
        for source in SOURCES:
            stages.extract(
                self.settings, source, full_refresh=full_refresh, overrides=self.overrides[source]
            )

    def raw_gate(self, **extract) -> stages.StageResult:
        self.extract(**extract)
        return stages.gate(self.settings, "raw", run_id=new_run_id())

    def run(self, **extract) -> tuple[stages.StageResult, stages.StageResult | None]:
        """extract -> raw gate -> (build -> marts gate -> publish) like `elt run`."""
        raw = self.raw_gate(**extract)
        if not raw.ok:
            return raw, None
        refresh = bool(raw.extra["quarantine_changed"])
        return raw, stages.transform(
            self.settings, run_id=raw.extra["run_id"], full_refresh=refresh, docs=False
        )

    def quarantined(self, stream: str) -> dict[str, str]:
        """record_key -> reason of the records held back now."""
        return dict(self.store(
            "select record_key, reason from quality.quality.quarantine "
            "where stream = ? and released_at is null", [stream]
        ))  # fmt: skip

    def store(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.settings.quality_db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def audit(self, run_id: str) -> list[tuple]:
        return self.store(
            "select suite, table_name, column_name, expectation, severity, success, "
            "unexpected_count, sample_keys from quality.quality.audit "
            "where run_id = ? and not success",
            [run_id],
        )

    def marts(self) -> dict:
        return marts_fingerprint(self.settings.warehouse)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Iterator[Pipeline]:
    data = tmp_path_factory.mktemp("gates")
    settings = Settings(_env_file=None, data_dir=data, lock_wait_s=60)
    with MockServer(seed=21, scale=0.05, dirty_rate=0.0) as server:
        p = Pipeline(server, settings)
        raw, built = p.run()
        assert raw.ok, raw.summary()
        assert built is not None and built.ok, built.summary()
        yield p


@pytest.fixture
def clean_after(pipeline) -> Iterator[Pipeline]:
    yield pipeline
    released = pipeline.server.clear_defects()
    gate = pipeline.raw_gate(full_refresh=True)
    assert gate.ok, f"clean again after clearing {released}: {gate.summary()}"


def _critical_lines(result: stages.StageResult) -> list[str]:
    return [line for line in result.report.splitlines() if line.startswith("CRITICAL")]


def test_a_few_invalid_emails_are_quarantined_with_a_warning_and_left_out_of_the_marts(
    clean_after,
):
    p = clean_after
    keys = p.server.inject("invalid_email", "contacts", count=2)
    raw, built = p.run()
    assert raw.ok, raw.summary()
    assert built is not None and built.ok, built.summary()
    assert set(p.quarantined("contacts")) == set(keys)
    assert set(p.quarantined("contacts").values()) == {"invalid email"}
    warnings = [a for a in p.audit(raw.extra["run_id"]) if a[4] == "warning"]
    assert any(set(keys) <= set(a[7] or []) for a in warnings), warnings
    con = duckdb.connect(str(p.settings.warehouse), read_only=True)
    try:
        held = con.execute(
            "select count(*) from marts.dim_contacts, unnest(hubspot_contact_ids) as u(id) "
            "where u.id in ?",
            [list(keys)],
        ).fetchone()[0]
    finally:
        con.close()
    assert held == 0, "a quarantined contact never reaches the marts"
    # the next clean sync of those records releases them
    p.server.clear_defects()
    assert p.raw_gate().ok
    assert p.quarantined("contacts") == {}


def test_invalid_emails_above_the_threshold_fail_the_raw_gate_and_publish_nothing(clean_after):
    p = clean_after
    before = p.marts()
    keys = p.server.inject("invalid_email", "members", rate=0.2)
    raw, built = p.run()
    assert not raw.ok and built is None
    lines = _critical_lines(raw)
    assert any("raw.mailchimp.members" in line and "email" in line for line in lines), lines
    assert set(p.quarantined("members")) == set(keys)
    assert p.marts() == before, "the published marts are exactly the previous ones"


@pytest.mark.parametrize(
    ("kind", "stream", "reason"),
    [
        ("future_timestamp", "contacts", "future timestamp"),
        ("unknown_status", "members", "unknown status"),
        ("unknown_status", "deals", "unknown status"),
    ],
)
def test_record_defects_are_quarantined_with_their_reason(clean_after, kind, stream, reason):
    p = clean_after
    keys = p.server.inject(kind, stream, count=1)
    gate = p.raw_gate()
    assert gate.ok, gate.summary()  # one record is under the threshold: a warning
    assert p.quarantined(stream) == dict.fromkeys(keys, reason)
    sync = p.store(
        "select distinct sync_id from quality.quality.quarantine where stream = ? and "
        "released_at is null", [stream]
    )  # fmt: skip
    assert len(sync) == 1 and sync[0][0], "the sync that brought the record is recorded"


def test_a_type_change_is_critical_and_names_the_first_sync(clean_after):
    p = clean_after
    before = p.marts()
    p.server.inject("type_change", "members", field="member_rating", to="string", value="high")
    raw, built = p.run()
    assert not raw.ok and built is None
    lines = _critical_lines(raw)
    assert any("member_rating" in line and "raw.mailchimp.members" in line for line in lines), (
        raw.report
    )
    drift = [a for a in p.audit(raw.extra["run_id"]) if a[2] == "member_rating"]
    assert drift and drift[0][4] == "critical"
    assert p.marts() == before


def test_a_new_field_is_recorded_as_info_and_does_not_fail(clean_after):
    p = clean_after
    p.server.inject("new_field", "members", field="loyalty_tier", value="gold")
    gate = p.raw_gate()
    assert gate.ok, gate.summary()
    infos = p.store(
        "select severity, observed_value from quality.quality.audit where run_id = ? and "
        "expectation like '%new field%' and observed_value like '%loyalty_tier%'",
        [gate.extra["run_id"]],
    )
    assert infos and infos[0][0] == "info", infos


def test_a_stream_that_comes_back_empty_on_a_full_sync_is_critical(clean_after):
    p = clean_after
    p.server.inject("empty", "contacts")
    gate = p.raw_gate(full_refresh=True)
    assert not gate.ok
    assert any("contacts" in line for line in _critical_lines(gate)), gate.report


def test_duplicate_people_are_reported_and_do_not_fail(clean_after):
    p = clean_after
    p.server.inject("duplicate_people", "contacts", count=2)
    gate = p.raw_gate()
    assert gate.ok, gate.summary()
    assert "WARNING" in gate.report and "email" in gate.report, gate.report
