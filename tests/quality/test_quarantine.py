"""Quarantine through the raw gate: defects written into a real sync's raw tables, then gated."""

from __future__ import annotations

import pytest
from gate_helpers import failed, keys, new_sync, quarantine_rows, raw_gate

from elt.settings import Settings

MEMBER_KEY = "concat_ws('|', list_id, id)"
MEMBERS = "raw.mailchimp.members"


def _members(n: int, offset: int = 0) -> str:
    return f"id IN (SELECT id FROM raw_mailchimp.members ORDER BY id LIMIT {n} OFFSET {offset})"


def _email(value: str | None) -> str:
    """The typed column and the record as the API sent it."""
    text = "null" if value is None else f'"{value}"'
    typed = "NULL" if value is None else f"'{value}'"
    return (
        f"""email_address = {typed}, _raw = json_merge_patch(_raw, '{{"email_address": {text}}}')"""
    )


def test_the_clean_world_passes_the_raw_gate_with_nothing_held_back(synced_world):
    _, baseline = synced_world
    assert baseline.ok, baseline.summary()
    assert not baseline.warnings, baseline.summary()
    assert baseline.quarantine == {"open": 0, "new": 0, "released": 0}
    assert not baseline.quarantine_changed


def test_a_few_invalid_emails_are_quarantined_with_a_warning_and_the_gate_passes(world: Settings):
    sync = new_sync(world, "mailchimp", "members", _email("jane@example"), _members(2))
    new_sync(world, "mailchimp", "members", _email("  Jane@Example.COM "), _members(1, 2))
    new_sync(world, "mailchimp", "members", _email(None), _members(1, 3))
    bad = keys(world, "mailchimp", "members", MEMBER_KEY, _members(2))

    result = raw_gate(world, "r1")

    assert result.ok, result.summary()
    (finding,) = result.warnings  # trimmed/upper-case and missing emails are no reason
    assert (finding.suite, finding.table, finding.column) == (
        MEMBERS,
        "raw_mailchimp.members",
        "email_address",
    )
    assert finding.expectation == "quarantine: invalid_email"
    assert finding.sample_keys == tuple(bad)
    assert "2 of 180 records (1.1%) quarantined (invalid email 2), within the 5% threshold" in (
        finding.observed
    )
    assert 'email_address "jane@example" is not an email address' in finding.observed
    held = [
        (r["stream"], r["record_key"], r["check_name"], r["reason"], r["sync_id"], r["run_id"])
        for r in quarantine_rows(world)
    ]
    check = "invalid_email(email_address)"
    assert held == [("members", k, check, "invalid email", sync, "r1") for k in bad]
    assert (
        quarantine_rows(world)[0]["detail"]
        == 'email_address "jane@example" is not an email address'
    )

    assert result.quarantine == {"open": 2, "new": 2, "released": 0}
    assert result.quarantine_changed


def test_invalid_emails_above_the_threshold_fail_the_gate_naming_the_keys(world: Settings):
    new_sync(
        world,
        "hubspot",
        "contacts",
        "email = 'n/a'",
        "id IN (SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 12)",
    )
    bad = keys(world, "hubspot", "contacts", "id", "email = 'n/a'")

    result = raw_gate(world, "r1")

    assert not result.ok
    (critical,) = result.critical
    assert critical.expectation == "quarantine: invalid_email"
    assert critical.severity == "critical"
    assert "12 of 120 records (10.0%)" in critical.observed
    assert "above the 5% threshold" in critical.observed
    assert critical.sample_keys == tuple(bad[:5])
    assert critical.message().startswith(
        "CRITICAL raw.hubspot.contacts: raw_hubspot.contacts.email quarantine: invalid_email: "
        "12 record(s): 12 of 120 records (10.0%)"
    )
    assert f"keys (id): {', '.join(bad[:5])}" in result.summary()
    assert len(quarantine_rows(world, "stream = 'contacts'")) == 12  # held back all the same


def test_the_quarantine_threshold_is_configurable(world: Settings):
    new_sync(
        world,
        "hubspot",
        "contacts",
        "email = 'n/a'",
        "id IN (SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 12)",
    )

    result = raw_gate(world, "r1", quarantine_threshold=0.2)

    assert result.ok
    assert [f.expectation for f in result.warnings] == [
        "quarantine: invalid_email",
        "expect_column_values_to_match_regex(email)",  # GX: none of the 12 new rows has an @
    ]


def test_future_timestamps_beyond_the_tolerance_are_quarantined(world: Settings):
    new_sync(world, "mailchimp", "members", "last_changed = now() + INTERVAL 12 HOUR", _members(1))
    new_sync(
        world, "mailchimp", "members", "last_changed = now() + INTERVAL 48 HOUR", _members(1, 1)
    )
    # opted in ten days after its own last change: the source's clock says it is future
    new_sync(
        world,
        "mailchimp",
        "members",
        "timestamp_opt = last_changed + INTERVAL 10 DAY",
        _members(1, 2),
    )
    new_sync(
        world,
        "hubspot",
        "contacts",
        "createdate = '2099-01-01T00:00:00.000Z'",
        "id = (SELECT min(id) FROM raw_hubspot.contacts)",
    )

    result = raw_gate(world, "r1")

    assert result.ok, result.summary()
    members = failed(result, MEMBERS, "quarantine: future_timestamp")
    assert [f.sample_keys for f in members] == [
        tuple(keys(world, "mailchimp", "members", MEMBER_KEY, _members(2, 1)))
    ]
    assert members[0].column == "last_changed, timestamp_opt"
    (contact,) = failed(result, "raw.hubspot.contacts", "quarantine: future_timestamp")
    assert contact.column == "createdate"
    assert contact.sample_keys == tuple(
        keys(world, "hubspot", "contacts", "id", "id = (SELECT min(id) FROM raw_hubspot.contacts)")
    )
    assert "createdate 2099-01-01 00:00:00+00 is later than" in contact.observed


def test_unknown_statuses_are_quarantined_and_gx_warns_with_the_keys(world: Settings):
    new_sync(world, "mailchimp", "members", "status = 'bogus'", _members(1))
    new_sync(world, "mailchimp", "campaigns", "status = 'exploded'", "true")
    new_sync(
        world,
        "hubspot",
        "contacts",
        "lifecyclestage = 'alien'",
        "id = (SELECT min(id) FROM raw_hubspot.contacts)",
    )
    new_sync(
        world,
        "hubspot",
        "contacts",
        "lifecyclestage = ''",
        "id = (SELECT max(id) FROM raw_hubspot.contacts)",
    )
    # a stage that exists, but in another pipeline
    new_sync(
        world,
        "hubspot",
        "deals",
        "pipeline = 'default', dealstage = (SELECT min(id) FROM "
        "raw_hubspot.deal_pipeline_stages WHERE pipeline_id <> 'default')",
        "id = (SELECT min(id) FROM raw_hubspot.deals)",
    )

    result = raw_gate(world, "r1")

    status = {f.suite: f for f in result.findings if f.expectation == "quarantine: unknown_status"}
    assert sorted(status) == [
        "raw.hubspot.contacts",
        "raw.hubspot.deals",
        "raw.mailchimp.campaigns",
        MEMBERS,
    ]
    assert status[MEMBERS].sample_keys == tuple(
        keys(world, "mailchimp", "members", MEMBER_KEY, _members(1))
    )
    assert status["raw.hubspot.contacts"].unexpected_count == 1  # a blank stage is allowed
    assert 'is not a stage of pipeline "default"' in status["raw.hubspot.deals"].observed
    # every campaign is unknown now: far above the threshold
    assert [f.suite for f in result.critical] == ["raw.mailchimp.campaigns"]
    (gx,) = failed(result, MEMBERS, "expect_column_values_to_be_in_set(status)")
    assert gx.severity == "warning"
    assert gx.sample_keys == status[MEMBERS].sample_keys


@pytest.mark.parametrize(
    ("amount", "quarantined"),
    [("1,234.50", True), ("12k", True), ("1234.50", False), ("", False), (" 99 ", False)],
)
def test_an_amount_that_is_not_a_number_is_quarantined(
    world: Settings, amount: str, quarantined: bool
):
    where = "id = (SELECT min(id) FROM raw_hubspot.deals)"
    new_sync(world, "hubspot", "deals", f"amount = '{amount}'", where)

    result = raw_gate(world, "r1")

    found = failed(result, "raw.hubspot.deals", "quarantine: unparseable_amount")
    assert bool(found) == quarantined
    if quarantined:
        assert found[0].sample_keys == tuple(keys(world, "hubspot", "deals", "id", where))
        assert f'amount "{amount}" is not a number' in found[0].observed


def test_a_record_clean_on_its_next_sync_is_released_and_a_new_failure_gets_a_new_row(
    world: Settings,
):
    key = keys(world, "mailchimp", "members", MEMBER_KEY, _members(1))
    first = new_sync(world, "mailchimp", "members", _email("bad@"), _members(1))
    held = raw_gate(world, "r1")
    new_sync(world, "mailchimp", "members", _email("fixed@example.com"), _members(1))
    released = raw_gate(world, "r2")
    unchanged = raw_gate(world, "r3")
    again = new_sync(world, "mailchimp", "members", _email("broken again"), _members(1))
    requarantined = raw_gate(world, "r4")

    assert held.quarantine_changed and released.quarantine_changed
    assert not unchanged.quarantine_changed
    assert requarantined.quarantine_changed
    assert released.quarantine == {"open": 0, "new": 0, "released": 1}
    (info,) = [f for f in released.findings if f.expectation == "quarantine: records released"]
    assert (info.severity, info.sample_keys) == ("info", tuple(key))
    rows = quarantine_rows(world)
    assert [(r["record_key"], r["sync_id"], r["run_id"], r["released_run_id"]) for r in rows] == [
        (key[0], first, "r1", "r2"),
        (key[0], again, "r4", None),
    ]
    assert rows[0]["released_at"] is not None and rows[1]["released_at"] is None


def test_live_contacts_sharing_an_email_are_reported_not_quarantined(world: Settings):
    first = "(SELECT min(id) FROM raw_hubspot.contacts)"
    email = f"(SELECT email FROM raw_hubspot.contacts WHERE id = {first})"
    new_sync(
        world,
        "hubspot",
        "contacts",
        f"email = upper({email}) || ' '",
        "id = (SELECT max(id) FROM raw_hubspot.contacts)",
    )
    both = keys(
        world,
        "hubspot",
        "contacts",
        "id",
        f"id IN ({first}, (SELECT max(id) FROM raw_hubspot.contacts))",
    )

    result = raw_gate(world, "r1")

    assert result.ok
    (dup,) = result.warnings
    assert (dup.suite, dup.column, dup.expectation) == (
        "raw.hubspot.contacts",
        "email",
        "people: one live record per email",
    )
    assert dup.sample_keys == tuple(both)
    assert dup.observed.startswith("1 email(s) shared by 2 records; e.g. ")
    assert not quarantine_rows(world)
