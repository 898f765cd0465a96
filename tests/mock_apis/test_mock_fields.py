"""MailChimp `fields` / `exclude_fields` work on every endpoint with dot paths."""

from __future__ import annotations

import pytest


def _endpoints(truth) -> list[tuple[str, str]]:
    lid, cid = truth["lists"][0]["id"], truth["reports"][0]["id"]
    return [
        ("/lists", "lists"),
        (f"/lists/{lid}/members", "members"),
        ("/campaigns", "campaigns"),
        ("/reports", "reports"),
        (f"/reports/{cid}/email-activity", "emails"),
        (f"/reports/{cid}/sent-to", "sent_to"),
        (f"/reports/{cid}/unsubscribed", "unsubscribes"),
    ]


@pytest.mark.parametrize("index", range(7))
def test_exclude_fields_drops_item_links_but_keeps_the_envelope_links(client, truth, index):
    path, key = _endpoints(truth)[index]
    full = client.mc(path, count=20).json()
    slim = client.mc(path, count=20, exclude_fields=f"{key}._links").json()
    assert "_links" in slim and slim["total_items"] == full["total_items"]
    assert len(slim[key]) == len(full[key])
    assert all("_links" not in item for item in slim[key])
    assert all("_links" in item for item in full[key])
    for a, b in zip(full[key], slim[key], strict=True):
        assert {k: v for k, v in a.items() if k != "_links"} == b


@pytest.mark.parametrize("index", range(7))
def test_fields_keeps_only_the_named_paths(client, truth, index):
    path, key = _endpoints(truth)[index]
    ident = "email_id" if key in ("emails", "sent_to", "unsubscribes") else "id"
    body = client.mc(path, count=20, fields=f"{key}.{ident},total_items").json()
    assert set(body) == {key, "total_items"}
    assert all(set(item) == {ident} for item in body[key])


def test_fields_reach_into_nested_objects_and_lists(client, truth):
    lid = truth["lists"][0]["id"]
    body = client.mc(
        f"/lists/{lid}/members",
        count=200,
        fields="members.id,members.merge_fields.ADDRESS.city,members._links.rel",
    ).json()
    for m in body["members"]:
        assert set(m) == {"id", "merge_fields", "_links"}
        assert set(m["merge_fields"]) <= {"ADDRESS"}
        assert all(set(link) == {"rel"} for link in m["_links"])
    cities = [m["merge_fields"]["ADDRESS"] for m in body["members"]]
    assert any(isinstance(c, dict) and set(c) == {"city"} for c in cities)
    assert "" in cities  # members without an address keep the empty string


def test_exclude_fields_on_a_single_member_and_a_single_report(client, truth):
    lid, mid = truth["members"][0]["list_id"], truth["members"][0]["id"]
    member = client.mc(f"/lists/{lid}/members/{mid}", exclude_fields="_links,location").json()
    assert member["id"] == mid
    assert "_links" not in member and "location" not in member and "merge_fields" in member
    cid = truth["reports"][0]["id"]
    report = client.mc(f"/reports/{cid}", fields="id,opens.open_rate,clicks").json()
    assert set(report) == {"id", "opens", "clicks"}
    assert set(report["opens"]) == {"open_rate"}


def test_fields_and_exclude_fields_together(client):
    body = client.mc(
        "/campaigns",
        count=5,
        fields="campaigns.id,campaigns.settings",
        exclude_fields=("campaigns.settings.title"),
    ).json()
    for c in body["campaigns"]:
        assert set(c) == {"id", "settings"}
        assert "title" not in c["settings"] and "subject_line" in c["settings"]
