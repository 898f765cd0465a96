"""Every endpoint pages to its last page and returns exactly what the server holds."""

from __future__ import annotations

import hashlib
from collections import Counter

from mock_apis.groundtruth import activity_id


def _keys(rows: list[dict], *cols: str) -> Counter:
    return Counter(tuple(r[c] for c in cols) for r in rows)


def test_members_page_to_the_last_page_and_match_ground_truth(client, truth) -> None:
    got = []
    for lst in truth["lists"]:
        members, pages = client.mc_walk(f"/lists/{lst['id']}/members", "members", count=500)
        assert pages >= 2 or len(members) <= 500
        got += members
    assert _keys(got, "list_id", "id") == _keys(truth["members"], "list_id", "id")
    assert max(_keys(got, "list_id", "id").values()) == 1


def test_member_id_is_md5_of_lower_cased_email(client, truth) -> None:
    members, _ = client.mc_walk(f"/lists/{truth['lists'][0]['id']}/members", "members")
    assert any(m["email_address"] != m["email_address"].lower() for m in members)
    for m in members:
        assert m["id"] == hashlib.md5(m["email_address"].lower().encode()).hexdigest()


def test_members_sort_by_last_changed_ascending(client, truth) -> None:
    members, _ = client.mc_walk(
        f"/lists/{truth['lists'][0]['id']}/members",
        "members",
        sort_field="last_changed",
        sort_dir="ASC",
    )
    stamps = [m["last_changed"] for m in members]
    assert stamps == sorted(stamps)


def test_members_status_filter_returns_only_that_status(client, truth) -> None:
    lid = truth["lists"][0]["id"]
    members, _ = client.mc_walk(f"/lists/{lid}/members", "members", status="unsubscribed")
    expected = [
        m for m in truth["members"] if m["list_id"] == lid and m["status"] == "unsubscribed"
    ]
    assert members and {m["status"] for m in members} == {"unsubscribed"}
    assert len(members) == len(expected)


def test_lists_campaigns_and_reports_page_to_the_end(client, truth) -> None:
    lists, _ = client.mc_walk("/lists", "lists", count=1)
    assert _keys(lists, "id") == _keys(truth["lists"], "id")
    campaigns, pages = client.mc_walk("/campaigns", "campaigns", count=5)
    assert pages > 1
    assert _keys(campaigns, "id") == _keys(truth["campaigns"], "id")
    reports, _ = client.mc_walk("/reports", "reports", count=5)
    assert _keys(reports, "id") == _keys(truth["reports"], "id")
    one = client.mc(f"/reports/{reports[0]['id']}").json()
    assert one["emails_sent"] == reports[0]["emails_sent"]


def test_sent_to_email_activity_and_unsubscribes_match_ground_truth(client, truth) -> None:
    sent, activity, unsubs = [], [], []
    for report in truth["reports"]:
        cid = report["id"]
        rows, _ = client.mc_walk(f"/reports/{cid}/sent-to", "sent_to", count=400)
        sent += rows
        emails, _ = client.mc_walk(f"/reports/{cid}/email-activity", "emails", count=300)
        for e in emails:
            for a in e["activity"]:
                activity.append(
                    activity_id(cid, e["email_id"], a["action"], a["timestamp"], a.get("url", ""))
                )
        rows, _ = client.mc_walk(f"/reports/{cid}/unsubscribed", "unsubscribes")
        unsubs += rows
    assert _keys(sent, "campaign_id", "email_id") == _keys(
        truth["sent_to"], "campaign_id", "email_id"
    )
    assert Counter(activity) == Counter(r["activity_id"] for r in truth["email_activity"])
    assert {a for (a,) in _keys(truth["email_activity"], "action")} == {"open", "click", "bounce"}
    assert _keys(unsubs, "campaign_id", "email_id") == _keys(
        truth["unsubscribes"], "campaign_id", "email_id"
    )
    assert {r["status"] for r in sent} == {"sent", "hard", "soft"}


def test_hubspot_objects_page_to_the_end_live_and_archived(client, truth) -> None:
    for kind in ("contacts", "companies", "deals"):
        live = client.hs_walk(kind)
        archived = client.hs_walk(kind, archived="true")
        assert all(r["archived"] is False for r in live)
        assert all(r["archived"] is True for r in archived)
        got = _keys(live + archived, "id")
        assert got == _keys(truth[kind], "id"), kind
        assert len(live) > 100


def test_every_hubspot_property_value_is_a_string_or_null(client) -> None:
    props = "email,firstname,lastname,hs_object_id,associatedcompanyid,hubspot_owner_id"
    always = {"createdate", "lastmodifieddate"}
    for rec in client.hs("/crm/v3/objects/contacts", limit=100, properties=props).json()["results"]:
        assert set(rec["properties"]) == set(props.split(",")) | always
        assert all(v is None or isinstance(v, str) for v in rec["properties"].values())
    for rec in client.hs("/crm/v3/objects/deals", limit=100, properties="amount").json()["results"]:
        assert rec["properties"]["amount"] is None or isinstance(rec["properties"]["amount"], str)


def test_owners_and_deal_pipelines_match_ground_truth(client, truth) -> None:
    owners = client.hs("/crm/v3/owners", limit=500).json()["results"]
    assert _keys(owners, "id") == _keys(truth["owners"], "id")
    pipes = client.hs("/crm/v3/pipelines/deals").json()["results"]
    assert [p["id"] for p in pipes] == [p["id"] for p in truth["deal_pipelines"]]
    got = [(p["id"], s["id"]) for p in pipes for s in p["stages"]]
    assert got == [(s["pipeline_id"], s["id"]) for s in truth["deal_pipeline_stages"]]
    stages = {s["id"]: s for s in pipes[0]["stages"]}
    assert stages["closedwon"]["metadata"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["metadata"] == {"isClosed": "true", "probability": "0.0"}


def test_v4_batch_read_associations_match_ground_truth(client, truth) -> None:
    pairs = {
        "contact_companies": ("contacts", "companies", "contact_id", "company_id"),
        "deal_contacts": ("deals", "contacts", "deal_id", "contact_id"),
        "deal_companies": ("deals", "companies", "deal_id", "company_id"),
    }
    for stream, (src, dst, a_key, b_key) in pairs.items():
        ids = [r["id"] for r in truth[src] if not r["archived"]]
        got = []
        for i in range(0, len(ids), 1000):
            resp = client.hs_post(
                f"/crm/v4/associations/{src}/{dst}/batch/read",
                {"inputs": [{"id": x} for x in ids[i : i + 1000]]},
            )
            assert resp.status_code in (200, 207), resp.text
            for res in resp.json()["results"]:
                for link in res["to"]:
                    got.append(
                        (res["from"]["id"], str(link["toObjectId"]), link["associationTypes"])
                    )
        expected = {(r[a_key], r[b_key]) for r in truth[stream]}
        assert {(a, b) for a, b, _ in got} == expected, stream
        assert len(got) == len(expected)
    type_ids = {t["typeId"] for r in truth["contact_companies"] for t in r["association_types"]}
    assert type_ids == {1, 279}


def test_v4_object_associations_get_lists_the_reverse_direction(client, truth) -> None:
    link = truth["contact_companies"][0]
    resp = client.hs(f"/crm/v4/objects/companies/{link['company_id']}/associations/contacts")
    assert resp.status_code == 200
    ids = {str(r["toObjectId"]) for r in resp.json()["results"]}
    assert link["contact_id"] in ids
    assert {t["typeId"] for r in resp.json()["results"] for t in r["associationTypes"]} <= {2, 280}
