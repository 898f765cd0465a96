"""After a time advance, incremental filters return exactly the records that changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_apis.clock import hs_time, mc_time, parse_time
from mock_apis.testing import MockServer


@pytest.fixture(scope="module")
def advanced(client_for) -> Iterator[tuple]:
    """A private world: snapshot, advance 2 days at 1%/day, snapshot again."""
    with MockServer(seed=7, scale=0.2) as srv:
        before = srv.ground_truth()
        state = srv.state()
        summary = srv.advance(days=2, change_rate=0.01)
        after = srv.ground_truth()
        yield srv, client_for(srv), before, after, {"then": state["now"], **summary}


def _changed(before: list[dict], after: list[dict], *pk: str) -> set[tuple]:
    old = {tuple(r[c] for c in pk): r["cursor"] for r in before}
    return {
        tuple(r[c] for c in pk) for r in after if old.get(tuple(r[c] for c in pk)) != r["cursor"]
    }


def test_advance_moves_the_clock_and_reports_changes(advanced) -> None:
    srv, _, _, _, info = advanced
    assert info["now"] == info["then"] + 2 * 86400
    assert info["members_created"] > 0 and info["contacts_updated"] > 0
    assert info["deals_archived"] + info["contacts_archived"] > 0
    assert srv.state()["now"] == info["now"]


def test_since_last_changed_returns_exactly_the_members_changed_by_advance(advanced) -> None:
    _, client, before, after, info = advanced
    expected = _changed(before["members"], after["members"], "list_id", "id")
    assert expected
    got = set()
    for lst in after["lists"]:
        rows, _ = client.mc_walk(
            f"/lists/{lst['id']}/members", "members", since_last_changed=mc_time(info["then"])
        )
        got |= {(r["list_id"], r["id"]) for r in rows}
        assert all(parse_time(r["last_changed"]) > info["then"] for r in rows)
    assert got == expected
    statuses = {r["status"] for r in after["members"] if (r["list_id"], r["id"]) in expected}
    assert {"unsubscribed", "archived"} <= statuses


@pytest.mark.parametrize(
    ("kind", "cursor"),
    [
        ("contacts", "lastmodifieddate"),
        ("companies", "hs_lastmodifieddate"),
        ("deals", "hs_lastmodifieddate"),
    ],
)
def test_search_on_modified_date_returns_exactly_the_changed_live_records(
    advanced, kind, cursor
) -> None:
    _, client, before, after, info = advanced
    changed = _changed(before[kind], after[kind], "id")
    live_changed = {
        k for k in changed if not next(r for r in after[kind] if r["id"] == k[0])["archived"]
    }
    assert live_changed
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": cursor, "operator": "GT", "value": str(info["then"] * 1000)}
                ]
            }
        ],
        "sorts": [{"propertyName": cursor, "direction": "ASCENDING"}],
        "properties": [cursor],
        "limit": 200,
    }
    rows = list(client.search_walk(kind, body))
    assert {(r["id"],) for r in rows} == live_changed
    stamps = [r["properties"][cursor] for r in rows]
    assert stamps == sorted(stamps)
    assert all(s > hs_time(info["then"] * 1000) for s in stamps)


def test_archived_records_leave_search_and_appear_with_archived_true(advanced) -> None:
    _, client, before, after, _ = advanced
    newly = {r["id"] for r in after["deals"] if r["archived"]} - {
        r["id"] for r in before["deals"] if r["archived"]
    }
    assert newly
    listed = {r["id"] for r in client.hs_walk("deals", archived="true")}
    assert newly <= listed
    live = {r["id"] for r in client.hs_walk("deals")}
    assert not newly & live
    searched = {r["id"] for r in client.search_walk("deals", {"limit": 200})}
    assert not newly & searched


def test_new_campaign_is_found_by_since_create_time_and_since_send_time(advanced) -> None:
    _, client, before, after, info = advanced
    new = {r["id"] for r in after["campaigns"]} - {r["id"] for r in before["campaigns"]}
    assert new
    since = mc_time(info["then"])
    for param in ("since_create_time", "since_send_time"):
        rows, _ = client.mc_walk("/campaigns", "campaigns", **{param: since})
        assert {r["id"] for r in rows} == new, param
    reports, _ = client.mc_walk("/reports", "reports", since_send_time=since)
    assert {r["id"] for r in reports} == new


def test_email_activity_since_returns_only_actions_in_the_new_window(advanced) -> None:
    _, client, before, after, info = advanced
    old = {r["activity_id"] for r in before["email_activity"]}
    new = [r for r in after["email_activity"] if r["activity_id"] not in old]
    assert new
    by_campaign: dict[str, int] = {}
    for r in new:
        by_campaign[r["campaign_id"]] = by_campaign.get(r["campaign_id"], 0) + 1
    for cid, n in by_campaign.items():
        emails, _ = client.mc_walk(
            f"/reports/{cid}/email-activity", "emails", since=mc_time(info["then"])
        )
        assert sum(len(e["activity"]) for e in emails) == n


def test_advance_creates_cursor_ties_inside_the_window(advanced) -> None:
    _, _, before, after, info = advanced
    changed = _changed(before["contacts"], after["contacts"], "id")
    stamps = [r["cursor"] for r in after["contacts"] if (r["id"],) in changed]
    assert len(stamps) > len(set(stamps)), "expected at least two changes with the same timestamp"
    lo, hi = hs_time(info["then"] * 1000), hs_time(info["now"] * 1000 + 999)
    assert all(lo < s <= hi for s in stamps)


def test_unsubscribes_from_advance_appear_in_the_campaign_report(advanced) -> None:
    _, client, before, after, _ = advanced
    old = {(r["campaign_id"], r["email_id"]) for r in before["unsubscribes"]}
    new = [r for r in after["unsubscribes"] if (r["campaign_id"], r["email_id"]) not in old]
    assert new
    rows, _ = client.mc_walk(f"/reports/{new[0]['campaign_id']}/unsubscribed", "unsubscribes")
    assert new[0]["email_id"] in {r["email_id"] for r in rows}
