"""The connectors on real-shaped accounts: full-size records, portals with hundreds of
properties, history older than the start date, URL and rate limits. Every config here
keeps the connectors' defaults (memory, batches, statements) but for where to connect."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
from connector_helpers import assert_matches_ground_truth, configs

from connectors import HubspotConfig, MailchimpConfig, run_sync
from mock_apis.app import Limits
from mock_apis.testing import MockServer

START = datetime(2020, 1, 1, tzinfo=UTC)


def _one(path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def test_fifty_pages_of_full_size_members_load_at_default_settings(tmp_path):
    """50,000 members of ~3.5 KB (1,000 per page, ~3.5 MB a page): the DuckDB memory a
    load needs is bounded by bytes per statement, so the defaults hold whatever the page."""
    with MockServer(seed=11, scale=0.01, lists=1, members=50_000) as server:
        config = MailchimpConfig(
            api_key=server.mailchimp_api_key,
            base_url=server.mailchimp_url,
            raw_path=tmp_path / "mailchimp.duckdb",
        )
        result = run_sync("mailchimp", config=config, streams=["lists", "members"])
        truth = len(server.ground_truth()["members"])
    members = result.streams["members"]
    assert members.status == "succeeded" and members.pages >= 50
    rows, distinct, mean_bytes = _one(
        config.raw_path,
        "SELECT count(*), count(DISTINCT (list_id, id)), avg(strlen(_raw::VARCHAR)) "
        "FROM raw_mailchimp.members",
    )
    assert rows == distinct == truth == 50_000
    assert 3000 <= mean_bytes <= 4500, f"members are {mean_bytes:.0f} bytes, not real-sized"


def test_a_first_sync_holds_every_member_whatever_its_last_change(tmp_path):
    """Real lists are old: members last changed years before the start date are still
    members. The start date bounds email activity only."""
    with MockServer(seed=5, scale=0.05) as server:
        cfgs = configs(server, tmp_path)
        assert cfgs["mailchimp"].start_date == START  # the default
        for source in ("mailchimp", "hubspot"):
            run_sync(source, config=cfgs[source])
        counts = assert_matches_ground_truth(server, cfgs)
        truth = server.ground_truth()
    old_truth = sum(1 for m in truth["members"] if m["cursor"] < "2020-01-01")
    old_members, statuses = _one(
        cfgs["mailchimp"].raw_path,
        "SELECT count(*), count(DISTINCT status) FROM raw_mailchimp.members "
        "WHERE last_changed < TIMESTAMPTZ '2020-01-01 00:00:00+00'",
    )
    assert old_members == old_truth > 0 and statuses >= 2
    old_contacts = _one(
        cfgs["hubspot"].raw_path,
        "SELECT count(*) FROM raw_hubspot.contacts WHERE updated_at < TIMESTAMPTZ '2020-01-01'",
    )[0]
    assert old_contacts > 0
    first_action = _one(
        cfgs["mailchimp"].raw_path, 'SELECT min("timestamp") FROM raw_mailchimp.email_activity'
    )[0]
    assert first_action is None or first_action >= START
    assert counts["mailchimp.members"] == len(truth["members"])


def test_every_hubspot_property_is_read_without_long_urls(tmp_path):
    """Hundreds of properties (custom ones too) on a server whose URL limit is short: the
    connector never sends a URL past it (the mock answers 414) and `_raw` holds every
    property the portal defines."""
    limits = Limits(max_url_length=1024)
    with MockServer(seed=9, scale=0.05, limits=limits) as server:
        cfgs = configs(server, tmp_path)
        result = run_sync("hubspot", config=cfgs["hubspot"])
        assert result.ok
        assert_matches_ground_truth(server, cfgs, sources=("hubspot",))
        headers = {"Authorization": f"Bearer {server.hubspot_token}"}
        import requests

        defined = requests.get(
            f"{server.base_url}/crm/v3/properties/contacts", headers=headers, timeout=10
        ).json()["results"]
    names = {p["name"] for p in defined}
    assert len(names) >= 150 and any(not p.get("hubspotDefined", True) for p in defined)
    (held,) = _one(
        cfgs["hubspot"].raw_path,
        "SELECT list(DISTINCT k) FROM (SELECT unnest(json_keys(properties)) AS k "
        "FROM raw_hubspot.contacts)",
    )
    assert names <= set(held), f"missing properties: {sorted(names - set(held))[:5]}"


@pytest.mark.timeout(120)
def test_the_hubspot_request_budget_keeps_a_sync_under_the_rate_limit(tmp_path):
    """The server allows 20 requests per 10 s and answers 429 past it; the connector with
    the same budget never gets one (no retries) and still reads everything."""
    limits = Limits(hubspot_max=20, hubspot_window_s=10.0)
    with MockServer(seed=9, scale=0.02, limits=limits) as server:
        cfg = HubspotConfig(
            access_token=server.hubspot_token,
            base_url=server.base_url,
            raw_path=tmp_path / "hubspot.duckdb",
            requests_per_10s=20,
        )
        result = run_sync("hubspot", config=cfg)
        stats = server.app.stats
        assert_matches_ground_truth(server, {"hubspot": cfg}, sources=("hubspot",))
    assert result.ok
    assert sum(s.retries for s in result.streams.values()) == 0
    assert stats["rate_limited"] == 0
    assert stats["requests"] > 20  # enough requests that the budget had to wait
