"""Sources and lanes loading at the same time, and what the connectors expect of a body."""

from __future__ import annotations

import duckdb
import msgspec
import pytest
from connector_helpers import assert_matches_ground_truth, configs
from pydantic import SecretStr

from connectors import AuthError, SyncResult, UnexpectedResponse
from connectors.mailchimp import SOURCE as MAILCHIMP
from connectors.sync import run_syncs, select_streams


def test_run_syncs_returns_each_sources_result_or_its_own_error(mock_server, tmp_path):
    cfgs = configs(mock_server, tmp_path)
    cfgs["hubspot"] = cfgs["hubspot"].model_copy(
        update={"access_token": SecretStr("pat-na1-11111111-2222-3333-4444-555555555555")}
    )
    out = run_syncs({s: cfgs[s] for s in ("mailchimp", "hubspot")})
    assert list(out) == ["mailchimp", "hubspot"]
    assert isinstance(out["mailchimp"], SyncResult) and out["mailchimp"].ok
    assert isinstance(out["hubspot"], AuthError)
    # mailchimp's lanes (several streams loading at once into one file) lost nothing
    assert_matches_ground_truth(mock_server, cfgs, sources=("mailchimp",))


def test_lanes_split_the_selected_streams_and_keep_their_order():
    lanes = MAILCHIMP.lanes_of(select_streams(MAILCHIMP, None))
    assert [[s.name for s in lane] for lane in lanes] == [
        ["lists", "members", "campaigns", "reports", "sent_to"],
        ["email_activity", "unsubscribes"],
    ]
    picked = MAILCHIMP.lanes_of(select_streams(MAILCHIMP, ["unsubscribes", "members"]))
    assert [[s.name for s in lane] for lane in picked] == [["members"], ["unsubscribes"]]


def test_a_body_of_unexpected_shape_fails_at_once_naming_the_url(mock_server, tmp_path):
    class Lists(msgspec.Struct):
        lists: int  # the API sends an array

    client = MAILCHIMP.make_client(configs(mock_server, tmp_path)["mailchimp"])
    try:
        with pytest.raises(UnexpectedResponse) as err:
            client.get("/lists", decode=msgspec.json.Decoder(Lists).decode)
    finally:
        client.close()
    assert "/lists" in str(err.value) and "shape" in str(err.value)
    assert client.retries == 0, "a shape error is not transient: it must not be retried"


def test_email_activity_raw_holds_the_action_and_the_api_record_it_came_from(mock_server, tmp_path):
    cfgs = configs(mock_server, tmp_path)
    assert run_syncs({"mailchimp": cfgs["mailchimp"]})["mailchimp"].ok
    con = duckdb.connect(str(cfgs["mailchimp"].raw_path), read_only=True)
    try:
        rows, bad = con.execute(
            """
            SELECT count(*),
              count(*) FILTER (WHERE NOT list_contains(
                  json_extract(_raw, '$.email.activity[*]')::VARCHAR[],
                  json_extract(_raw, '$.activity')::VARCHAR)
                OR json_extract_string(_raw, '$.email.email_id') IS DISTINCT FROM email_id
                OR json_extract_string(_raw, '$.activity.action') IS DISTINCT FROM action)
            FROM raw_mailchimp.email_activity
            """
        ).fetchone()
    finally:
        con.close()
    assert rows > 0 and bad == 0


def test_a_raw_table_missing_from_an_existing_file_is_created_and_filled(mock_server, tmp_path):
    """A file written by an older version lacks a newer stream's table: the loader's cheap
    existence probe fails, it lists the catalog instead and creates only what is missing."""
    cfgs = configs(mock_server, tmp_path)
    run_syncs({"mailchimp": cfgs["mailchimp"]})
    path = cfgs["mailchimp"].raw_path
    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE raw_mailchimp.unsubscribes")
        con.execute("DELETE FROM raw_mailchimp._state WHERE stream = 'unsubscribes'")
        members_before = con.execute("SELECT count(*) FROM raw_mailchimp.members").fetchone()
    finally:
        con.close()
    out = run_syncs({"mailchimp": cfgs["mailchimp"]})
    assert isinstance(out["mailchimp"], SyncResult), out["mailchimp"]
    assert out["mailchimp"].streams["unsubscribes"].mode == "full_refresh"
    assert out["mailchimp"].streams["members"].mode == "incremental"
    con = duckdb.connect(str(path), read_only=True)
    try:
        members_after = con.execute("SELECT count(*) FROM raw_mailchimp.members").fetchone()
        assert members_after == members_before
    finally:
        con.close()
    assert_matches_ground_truth(mock_server, cfgs, sources=("mailchimp",))
