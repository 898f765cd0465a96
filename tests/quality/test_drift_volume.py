"""Volume and schema drift through the raw gate, and which rows the row-level expectations see."""

from __future__ import annotations

from gate_helpers import audit_rows, execute, failed, keys, new_sync, raw_gate

from elt.settings import Settings
from quality import DEFAULT_MAY_BE_EMPTY

MEMBERS = "raw.mailchimp.members"
MEMBER_KEY = "concat_ws('|', list_id, id)"
FIRST_MEMBERS = "id IN (SELECT id FROM raw_mailchimp.members ORDER BY id LIMIT 3)"


def _patch(json: str) -> str:
    return f"_raw = json_merge_patch(_raw, '{json}')"


# --------------------------------------------------------------------------- volume
def test_a_full_sync_that_reads_nothing_fails_a_core_stream(world: Settings):
    sync = new_sync(world, "hubspot", "deals", where="false", mode="full_refresh")

    result = raw_gate(world, "r1")

    assert not result.ok
    (finding,) = result.critical
    assert (finding.suite, finding.kind) == ("raw.hubspot.deals", "volume")
    assert finding.observed.startswith(f"full sync {sync} read 0 record(s); the previous")
    assert "read 50" in finding.observed
    assert "hubspot.deals" in finding.hint


def test_an_empty_full_sync_is_a_warning_for_a_stream_that_may_be_empty(world: Settings):
    new_sync(world, "hubspot", "deals", where="false", mode="full_refresh")
    new_sync(world, "hubspot", "deal_contacts", where="false", mode="replace")

    result = raw_gate(world, "r1", may_be_empty=DEFAULT_MAY_BE_EMPTY | {"hubspot.deals"})

    assert result.ok, result.summary()
    empty = [f for f in result.warnings if f.kind == "volume"]
    assert sorted(f.suite for f in empty) == ["raw.hubspot.deal_contacts", "raw.hubspot.deals"]


def test_rows_lost_since_the_last_passing_gate_fail_a_core_stream_and_warn_for_others(
    world: Settings,
):
    execute(
        world.raw_path("hubspot"),
        "DELETE FROM raw_hubspot.contacts WHERE id IN "
        "(SELECT id FROM raw_hubspot.contacts ORDER BY id LIMIT 12)",
    )
    execute(
        world.raw_path("hubspot"),
        "DELETE FROM raw_hubspot.deal_contacts WHERE deal_id IN "
        "(SELECT deal_id FROM raw_hubspot.deal_contacts ORDER BY ALL LIMIT 10)",
    )

    result = raw_gate(world, "r1")

    drop = "volume: rows drop at most 5% since the last passing raw gate"
    (critical,) = result.critical
    assert (critical.suite, critical.expectation) == ("raw.hubspot.contacts", drop)
    assert critical.observed == "108 rows, 120 at run baseline (-10.0%)"
    assert [f.suite for f in result.warnings if f.expectation == drop] == [
        "raw.hubspot.deal_contacts"
    ]


def test_duplicate_keys_in_rows_an_earlier_gate_validated_are_still_caught(world: Settings):
    # an old row duplicated without a new sync: GX sees no new row, the whole-table count does
    execute(
        world.raw_path("hubspot"),
        "INSERT INTO raw_hubspot.owners SELECT * FROM raw_hubspot.owners LIMIT 1",
    )

    result = raw_gate(world, "r1")

    (critical,) = result.critical
    assert critical.expectation == "volume: rows == distinct primary keys (whole table)"
    assert critical.suite == "raw.hubspot.owners"
    assert critical.unexpected_count == 1


# --------------------------------------------------------------------------- drift
def test_a_typed_column_the_source_stopped_sending_as_its_type_fails_the_gate(world: Settings):
    sync = new_sync(
        world,
        "mailchimp",
        "members",
        f"""member_rating = NULL, {_patch('{"member_rating": "high"}')}""",
        FIRST_MEMBERS,
    )
    new_sync(
        world,
        "mailchimp",
        "members",
        f"""last_changed = NULL, {_patch('{"last_changed": 1748736000}')}""",
        FIRST_MEMBERS.replace("LIMIT 3", "LIMIT 1 OFFSET 5"),
    )

    result = raw_gate(world, "r1")

    assert not result.ok
    by_column = {f.column: f for f in result.critical}
    assert sorted(by_column) == ["last_changed", "member_rating"]
    rating = by_column["member_rating"]
    assert (rating.suite, rating.expectation) == (
        MEMBERS,
        "drift: typed columns castable from _raw",
    )
    assert rating.sample_keys == tuple(
        keys(world, "mailchimp", "members", MEMBER_KEY, FIRST_MEMBERS)
    )
    assert rating.observed == (
        f"3 record(s) have member_rating = 'high' that is not a INTEGER; first in sync {sync}"
    )
    assert "1748736000" in by_column["last_changed"].observed


def test_a_new_field_is_recorded_as_info_once(world: Settings):
    sync = new_sync(
        world, "mailchimp", "members", _patch('{"loyalty_tier": "gold"}'), FIRST_MEMBERS
    )
    new_sync(
        world,
        "hubspot",
        "contacts",
        _patch('{"properties": {"favorite_color": "red"}}'),
        "id = (SELECT min(id) FROM raw_hubspot.contacts)",
    )

    first = raw_gate(world, "r1")
    new_sync(world, "mailchimp", "members", where=FIRST_MEMBERS)
    second = raw_gate(world, "r2")

    assert first.ok
    new = {(f.suite, f.column): f for f in first.infos if f.kind == "drift"}
    assert sorted(new) == [
        ("raw.hubspot.contacts", "properties.favorite_color"),
        (MEMBERS, "loyalty_tier"),
    ]
    assert new[(MEMBERS, "loyalty_tier")].observed == (
        f"new field 'loyalty_tier' in 3 record(s), first in sync {sync}"
    )
    assert not [f for f in second.infos if f.kind == "drift"]


def test_a_field_gone_from_every_record_of_the_latest_sync_is_a_warning(world: Settings):
    sync = new_sync(world, "mailchimp", "members", _patch('{"web_id": null}'))  # every member

    result = raw_gate(world, "r1")

    assert result.ok
    (gone,) = [f for f in result.warnings if f.kind == "drift"]
    assert (gone.suite, gone.column, gone.expectation) == (
        MEMBERS,
        "web_id",
        "drift: no field gone",
    )
    assert gone.observed.startswith(f"field 'web_id' absent from all 180 record(s) of sync {sync}")


def test_a_rare_field_missing_from_a_small_sync_is_not_called_gone(world: Settings):
    new_sync(
        world,
        "mailchimp",
        "members",
        where="NOT json_exists(_raw, '$.last_note') AND id IN "
        "(SELECT id FROM raw_mailchimp.members ORDER BY id LIMIT 10)",
    )

    result = raw_gate(world, "r1")

    assert not [f for f in result.findings if f.kind == "drift" and f.failed]


# --------------------------------------------------------------------------- which rows
def test_row_level_expectations_see_only_rows_no_passing_gate_validated(world: Settings):
    # an old, already validated row changed in place: GX does not look at it again...
    execute(
        world.raw_path("mailchimp"),
        "UPDATE raw_mailchimp.email_activity SET action = "
        "'forward' WHERE activity_id = (SELECT min(activity_id) FROM "
        "raw_mailchimp.email_activity)",
    )
    new_sync(world, "mailchimp", "members", where=FIRST_MEMBERS)

    result = raw_gate(world, "r1")

    checked = {s.name: s.checked for s in result.suites}
    assert checked[MEMBERS] == 3
    assert checked["raw.mailchimp.email_activity"] == 0
    assert result.ok
    # ... a gate that validates every row does
    full = raw_gate(world, "r2", all_rows=True)
    assert failed(full, "raw.mailchimp.email_activity", "expect_column_values_to_be_in_set")


def test_rows_of_a_failed_gate_are_checked_again_on_the_next_run(world: Settings):
    new_sync(
        world,
        "mailchimp",
        "email_activity",
        "action = 'forward'",
        "activity_id = (SELECT min(activity_id) FROM raw_mailchimp.email_activity)",
    )

    first = raw_gate(world, "r1")
    second = raw_gate(world, "r2")

    assert not first.ok and not second.ok
    assert [
        r["success"]
        for r in audit_rows(world, "r2")
        if r["expectation"].startswith("expect_column_values_to_be_in_set(action)")
    ] == [False]
