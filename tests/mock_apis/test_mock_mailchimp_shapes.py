"""MailChimp records carry every documented field, `_links` included, at real sizes."""

from __future__ import annotations

import hashlib
import re

import orjson
import pytest

from mock_apis.clock import parse_time

HOST = "https://us21.api.mailchimp.com/3.0"
MEMBER_FIELDS = {
    "id", "email_address", "unique_email_id", "contact_id", "full_name", "web_id", "email_type",
    "status", "consents_to_one_to_one_messaging", "sms_phone_number", "sms_subscription_status",
    "sms_subscription_last_updated", "merge_fields", "interests", "stats", "ip_signup",
    "timestamp_signup", "ip_opt", "timestamp_opt", "member_rating", "last_changed", "language",
    "vip", "email_client", "location", "marketing_permissions", "source", "tags_count", "tags",
    "list_id", "_links",
}  # fmt: skip
MEMBER_LINKS = [
    ("self", "GET", ""),
    ("parent", "GET", None),
    ("update", "PATCH", ""),
    ("upsert", "PUT", ""),
    ("delete", "DELETE", ""),
    ("activity", "GET", "/activity"),
    ("goals", "GET", "/goals"),
    ("notes", "GET", "/notes"),
    ("events", "POST", "/events"),
    ("delete_permanent", "POST", "/actions/delete-permanent"),
]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


@pytest.fixture(scope="module")
def page(client, truth) -> bytes:
    """One 1,000-member page of the biggest list, as the server sends it."""
    resp = client.mc(f"/lists/{truth['lists'][0]['id']}/members", count=1000)
    assert resp.status_code == 200
    return resp.content


@pytest.fixture(scope="module")
def members(page) -> list[dict]:
    return orjson.loads(page)["members"]


def test_a_member_page_averages_3_to_4_5_kb_per_member_like_the_real_api(page, members) -> None:
    assert len(members) == 1000
    per_member = len(page) / len(members)
    print(f"mean member size on a 1000-member page: {per_member:.0f} bytes")
    assert 3000 <= per_member <= 4500


def test_every_member_carries_every_documented_field(members) -> None:
    for m in members:
        assert m.keys() >= MEMBER_FIELDS, MEMBER_FIELDS - m.keys()
        assert ("unsubscribe_reason" in m) == (m["status"] == "unsubscribed")
        assert m["id"] == hashlib.md5(m["email_address"].lower().encode()).hexdigest()
        assert re.fullmatch(r"[0-9a-f]{10}", m["unique_email_id"])
        assert re.fullmatch(r"[0-9a-f]{32}", m["contact_id"])
        assert m["email_type"] in ("html", "text")
        assert m["tags_count"] == len(m["tags"])
        assert set(m["stats"]) == {"avg_open_rate", "avg_click_rate", "ecommerce_data"}
        assert set(m["stats"]["ecommerce_data"]) == {
            "total_revenue",
            "number_of_orders",
            "currency_code",
        }
        assert set(m["location"]) == {"latitude", "longitude", "gmtoff", "dstoff",
                                      "country_code", "timezone", "region"}  # fmt: skip
        assert [set(p) for p in m["marketing_permissions"]] == [
            {"marketing_permission_id", "text", "enabled"}
        ] * 3


def test_merge_fields_have_an_address_object_or_an_empty_string(members) -> None:
    address_keys = {"addr1", "addr2", "city", "state", "zip", "country"}
    kinds = set()
    for m in members:
        mf = m["merge_fields"]
        assert {"FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY", "COMPANY"} <= mf.keys()
        if mf["ADDRESS"] == "":
            kinds.add("empty")
        else:
            assert set(mf["ADDRESS"]) == address_keys
            kinds.add("object")
    assert kinds == {"empty", "object"}


def test_interests_are_several_ten_character_ids_with_booleans(members) -> None:
    ids = {tuple(m["interests"]) for m in members}
    assert len(ids) == 1, "every member of a list has the list's interest ids"
    (keys,) = ids
    assert len(keys) >= 3
    assert all(re.fullmatch(r"[0-9a-f]{10}", k) for k in keys)
    values = [v for m in members for v in m["interests"].values()]
    assert {True, False} == set(values)


def test_values_vary_like_real_audiences(members) -> None:
    assert any(m["last_note"] for m in members if "last_note" in m)
    assert sum("last_note" in m for m in members) < len(members) * 0.2
    assert {"note_id", "created_at", "created_by", "note"} == set(
        next(m["last_note"] for m in members if "last_note" in m)
    )
    assert len({m["source"] for m in members}) >= 4
    assert len({m["location"]["country_code"] for m in members}) >= 4
    assert any(m["sms_phone_number"] for m in members)
    assert any(m["vip"] for m in members) and not all(m["vip"] for m in members)


def test_member_links_are_the_real_ten_on_the_accounts_data_centre(members) -> None:
    for m in members[:50]:
        base = f"{HOST}/lists/{m['list_id']}/members/{m['id']}"
        got = [(link["rel"], link["method"]) for link in m["_links"]]
        assert got == [(rel, method) for rel, method, _ in MEMBER_LINKS]
        for link, (_rel, _method, suffix) in zip(m["_links"], MEMBER_LINKS, strict=True):
            expected = f"{HOST}/lists/{m['list_id']}/members" if suffix is None else base + suffix
            assert link["href"] == expected
        self_link = m["_links"][0]
        assert self_link["targetSchema"].startswith("https://us21.api.mailchimp.com/schema/3.0/")
        assert m["_links"][2]["schema"].endswith("/Definitions/Lists/Members/PATCH.json")


def test_member_fields_the_connectors_read_keep_their_meaning_and_type(members, truth) -> None:
    known = {(r["list_id"], r["id"]): r for r in truth["members"]}
    for m in members:
        row = known[(m["list_id"], m["id"])]
        assert m["status"] == row["status"] and m["last_changed"] == row["cursor"]
        assert isinstance(m["merge_fields"]["FNAME"], str)
        assert isinstance(m["merge_fields"]["LNAME"], str)
        assert ISO.match(m["timestamp_opt"]) and ISO.match(m["last_changed"])
        assert isinstance(m["member_rating"], int)
        assert all(set(t) == {"id", "name"} for t in m["tags"])


def test_lists_carry_contact_campaign_defaults_and_full_stats(client) -> None:
    body = client.mc("/lists").json()
    lst = body["lists"][0]
    assert {"contact", "campaign_defaults", "permission_reminder", "subscribe_url_long",
            "beamer_address", "visibility", "double_optin", "date_created",
            "list_rating"} <= lst.keys()  # fmt: skip
    assert {"member_count", "unsubscribe_count", "cleaned_count", "total_contacts",
            "member_count_since_send", "campaign_count", "campaign_last_sent",
            "merge_field_count", "avg_sub_rate", "open_rate", "click_rate", "last_sub_date",
            "last_unsub_date"} <= lst["stats"].keys()  # fmt: skip
    assert all(isinstance(lst["stats"][k], int) for k in ("member_count", "cleaned_count"))
    assert {link["rel"] for link in lst["_links"]} >= {"self", "parent", "members", "update"}
    assert [link["rel"] for link in body["_links"]] == ["self", "create"]


def test_campaigns_carry_recipients_settings_tracking_and_delivery_status(client) -> None:
    campaigns, _ = client.mc_walk("/campaigns", "campaigns")
    keys = {"recipients", "settings", "tracking", "delivery_status", "_links", "create_time",
            "send_time", "emails_sent", "type", "status"}  # fmt: skip
    for c in campaigns:
        assert c.keys() >= keys
        assert isinstance(c["recipients"]["list_id"], str)
        assert isinstance(c["settings"]["title"], str)
        assert isinstance(c["settings"]["subject_line"], str)
        assert isinstance(c["emails_sent"], int)
        assert ("report_summary" in c) == (c["status"] == "sent")
        rels = {link["rel"] for link in c["_links"]}
        assert {"self", "parent", "update", "delete", "content"} <= rels
        assert ("send" in rels) == (c["status"] == "save")


def test_reports_carry_every_documented_section(client) -> None:
    reports, _ = client.mc_walk("/reports", "reports")
    sections = {"opens", "clicks", "bounces", "forwards", "facebook_likes", "industry_stats",
                "list_stats", "ecommerce", "delivery_status", "timeseries", "_links"}  # fmt: skip
    for r in reports:
        assert sections <= r.keys()
        assert isinstance(r["opens"]["open_rate"], float | int)
        assert isinstance(r["clicks"]["unique_clicks"], int)
        assert isinstance(r["bounces"]["hard_bounces"], int)
        assert parse_time(r["send_time"]) > 0
        assert {link["rel"] for link in r["_links"]} >= {"self", "email-activity", "sent-to"}


def test_report_children_carry_links_on_every_item_and_the_envelope(client, truth) -> None:
    cid = truth["reports"][0]["id"]
    for path, key in (("email-activity", "emails"), ("sent-to", "sent_to"),
                      ("unsubscribed", "unsubscribes")):  # fmt: skip
        body = client.mc(f"/reports/{cid}/{path}", count=50).json()
        assert [link["rel"] for link in body["_links"]] == ["self", "parent"], path
        for item in body[key]:
            assert item["_links"][0]["href"] == f"{HOST}/reports/{cid}/{path}/{item['email_id']}"
    sent = client.mc(f"/reports/{cid}/sent-to", count=5).json()["sent_to"]
    assert all("ADDRESS" in s["merge_fields"] for s in sent)
