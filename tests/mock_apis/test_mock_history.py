"""The accounts are older than the connectors' default start date (2020-01-01)."""

from __future__ import annotations

from mock_apis.clock import LEGACY_END, parse_hs_time_ms, parse_time
from mock_apis.world import World

START = "2020-01-01T00:00:00+00:00"


def _old(ts: str) -> bool:
    return parse_time(ts) < LEGACY_END


def test_lists_were_created_in_2016(client) -> None:
    lists = client.mc("/lists").json()["lists"]
    assert lists and all(lst["date_created"].startswith("2016-") for lst in lists)


def test_a_fifth_of_members_joined_and_last_changed_before_2020(client, truth) -> None:
    members = []
    for lst in truth["lists"]:
        page, _ = client.mc_walk(f"/lists/{lst['id']}/members", "members",
                                 fields="members.status,members.timestamp_signup,"
                                 "members.last_changed,total_items")  # fmt: skip
        members += page
    old = [m for m in members if _old(m["timestamp_signup"]) and _old(m["last_changed"])]
    share = len(old) / len(members)
    assert 0.15 <= share <= 0.25, share
    statuses = {m["status"] for m in old}
    assert statuses == {"subscribed", "unsubscribed", "cleaned", "archived", "pending",
                        "transactional"}  # fmt: skip


def test_an_incremental_read_from_the_default_start_date_misses_the_old_members(
    client, truth
) -> None:
    lid = truth["lists"][0]["id"]
    everyone = client.mc(f"/lists/{lid}/members", count=1).json()["total_items"]
    since = client.mc(f"/lists/{lid}/members", count=1, since_last_changed=START).json()
    old = [r for r in truth["members"] if r["list_id"] == lid and _old(r["cursor"])]
    assert old
    assert since["total_items"] == everyone - len(old)


def test_hubspot_records_were_partly_created_and_last_modified_before_2020(truth) -> None:
    for kind in ("contacts", "companies", "deals"):
        rows = truth[kind]
        old = [r for r in rows if parse_hs_time_ms(r["cursor"]) < LEGACY_END * 1000]
        assert 0.15 <= len(old) / len(rows) <= 0.25, kind


def test_old_hubspot_records_say_so_in_every_date_they_carry(client) -> None:
    props = "createdate,lastmodifieddate,hs_analytics_first_timestamp,notes_last_updated"
    old = [
        r
        for r in client.hs_walk("contacts", properties=props)
        if parse_hs_time_ms(r["properties"]["lastmodifieddate"]) < LEGACY_END * 1000
    ]
    assert old
    for r in old:
        stamps = [v for k, v in r["properties"].items() if k != "createdate" and v]
        assert all(parse_hs_time_ms(v) < LEGACY_END * 1000 for v in stamps), r
        assert parse_hs_time_ms(r["updatedAt"]) < LEGACY_END * 1000


def test_legacy_rate_knob_sets_the_share_of_old_records() -> None:
    world = World(seed=4, scale=0.1, legacy_rate=0.0)
    assert all(m.last_changed >= LEGACY_END for ms in world.members.values() for m in ms)
    assert all(o.created >= LEGACY_END * 1000 for o in world.objects["deals"])
    older = World(seed=4, scale=0.1, legacy_rate=0.4)
    members = [m for ms in older.members.values() for m in ms]
    assert 0.35 <= sum(m.last_changed < LEGACY_END for m in members) / len(members) <= 0.45
