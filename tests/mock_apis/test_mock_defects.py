"""Data defects on demand: each kind shows on exactly the records whose keys it returns,
an incremental read picks those records up, and clearing serves them clean again with a
cursor a later incremental read sees (so a downstream quarantine can be released)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from mock_apis.clock import mc_time
from mock_apis.defects import KINDS, MC_FIELDS, RATING_WORDS, DefectSpec, parse_defect
from mock_apis.groundtruth import activity_id
from mock_apis.inject_kinds import APPLY
from mock_apis.model import CURSOR_PROP
from mock_apis.testing import MockServer
from mock_apis.world import World

# small, clean (dirty_rate 0) world: a defect is then the only dirt there is
CONFIG: dict[str, Any] = dict(
    seed=11, scale=0.01, lists=2, members=120, campaigns=6, contacts=60, companies=20, deals=30,
    dirty_rate=0.0, custom_contact_properties=10, custom_company_properties=5,
    custom_deal_properties=5,
)  # fmt: skip
VALID_EMAIL = re.compile(r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")  # overlap emails may be padded
Fetch = Callable[[int], dict[str, Any]]


@pytest.fixture(scope="module")
def mock(client_for) -> Iterator[tuple[MockServer, Any]]:
    with MockServer(**CONFIG) as srv:
        yield srv, client_for(srv)


@pytest.fixture(autouse=True)
def _no_defects_left(mock) -> Iterator[None]:
    yield
    mock[0].clear_defects()


# --------------------------------------------------------------------------- reading
def _now(srv: MockServer) -> int:
    return srv.state()["now"]


def members(client, **params: Any) -> dict[str, dict]:
    """Every member of every list by `list_id|id`."""
    out: dict[str, dict] = {}
    for lst in client.mc("/lists", count=1000).json()["lists"]:
        recs, _ = client.mc_walk(f"/lists/{lst['id']}/members", "members", **params)
        out |= {f"{lst['id']}|{r['id']}": r for r in recs}
    return out


def members_since(client) -> Fetch:
    """An incremental member read, as the connector makes it (strictly after `ts - 1`)."""
    return lambda ts: members(
        client, since_last_changed=mc_time(ts - 1), sort_field="last_changed", sort_dir="ASC"
    )


def objects(client, kind: str, props: str | None = None, **params: Any) -> dict[str, dict]:
    extra = {"properties": props} if props else {}
    return {r["id"]: r for r in client.hs_walk(kind, **extra, **params)}


def changed_since(client, kind: str, props: list[str] | None = None) -> Fetch:
    """An incremental HubSpot read: search cursor >= ts, ascending."""
    cursor = CURSOR_PROP[kind]

    def fetch(ts: int) -> dict[str, Any]:
        body = {
            "filterGroups": [{"filters": [
                {"propertyName": cursor, "operator": "GTE", "value": str(ts * 1000)}]}],
            "sorts": [{"propertyName": cursor, "direction": "ASCENDING"}],
            "properties": props or [cursor],
            "limit": 200,
        }  # fmt: skip
        return {r["id"]: r for r in client.search_walk(kind, body)}

    return fetch


def activities(client, **params: Any) -> dict[str, dict]:
    """Every email-activity action by activity_id, keyed as the connector keys them."""
    out: dict[str, dict] = {}
    for rep in client.mc_walk("/reports", "reports")[0]:
        for e in client.mc_walk(f"/reports/{rep['id']}/email-activity", "emails", **params)[0]:
            for a in e["activity"]:
                key = activity_id(e["campaign_id"], e["email_id"], a["action"], a["timestamp"],
                                  a.get("url", ""))  # fmt: skip
                out[key] = {**a, "record": e}
    return out


def diff(before: dict[str, dict], after: dict[str, dict], value: Callable[[dict], Any]) -> set:
    """Keys whose `value` differs (or that appeared) between two reads."""
    return {k for k, r in after.items() if k not in before or value(before[k]) != value(r)}


def released(srv: MockServer, keys: list[str], changed: Fetch) -> dict[str, Any]:
    """Move the clock, clear every defect, and return what an incremental read from the
    new clock sees: the cleared records, each with its cursor bumped to that clock."""
    srv.advance(days=1, change_rate=0)
    now = _now(srv)
    assert set(srv.clear_defects()) == set(keys)
    seen = changed(now)
    assert set(keys) <= set(seen)
    return seen


def prop(name: str) -> Callable[[dict], Any]:
    return lambda r: r["properties"].get(name)


# --------------------------------------------------------------------------- new_field
def test_new_field_shows_on_exactly_the_returned_members_until_cleared(mock) -> None:
    srv, client = mock
    before, t0 = members(client), _now(srv)
    keys = srv.inject("new_field", "members", field="loyalty_tier", value="gold", rate=0.25)
    after = members(client)
    assert len(keys) == round(0.25 * len(before))
    assert {k for k, r in after.items() if r.get("loyalty_tier") == "gold"} == set(keys)
    assert {k for k, r in after.items() if "loyalty_tier" in r} == set(keys)
    assert set(keys) <= set(members_since(client)(t0))
    assert all(after[k]["last_changed"] == mc_time(t0) for k in keys)  # cursor at the clock
    seen = released(srv, keys, members_since(client))
    assert set(seen) == set(keys)
    assert not any("loyalty_tier" in r for r in members(client).values())


def test_new_field_on_contacts_is_a_listed_property_set_on_the_returned_contacts(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    keys = srv.inject("new_field", "contacts", field="hs_ai_lead_score", rate=0.5)
    listing = {p["name"] for p in client.hs("/crm/v3/properties/contacts").json()["results"]}
    assert "hs_ai_lead_score" in listing
    served = objects(client, "contacts", "hs_ai_lead_score,email")
    set_on = {k for k, r in served.items() if r["properties"]["hs_ai_lead_score"] is not None}
    assert set_on == set(keys) and len(keys) == 30
    assert all(
        r["properties"]["hs_ai_lead_score"].isdigit() for k, r in served.items() if k in keys
    )
    assert set(keys) <= set(changed_since(client, "contacts")(t0))
    released(srv, keys, changed_since(client, "contacts"))
    listing = {p["name"] for p in client.hs("/crm/v3/properties/contacts").json()["results"]}
    assert "hs_ai_lead_score" not in listing
    served = objects(client, "contacts", "hs_ai_lead_score,email")
    assert not any("hs_ai_lead_score" in r["properties"] for r in served.values())


def test_new_field_on_email_activity_keys_every_action_of_the_chosen_records(mock) -> None:
    srv, client = mock
    keys = srv.inject("new_field", "email_activity", field="device_type", value="watch", count=2)
    served = activities(client)
    assert {k for k, a in served.items() if a["record"].get("device_type") == "watch"} == set(keys)
    srv.clear_defects()
    assert not any("device_type" in a["record"] for a in activities(client).values())


# --------------------------------------------------------------------------- drop_field
def test_drop_field_on_the_whole_member_stream_leaves_the_key_out_everywhere(mock) -> None:
    srv, client = mock
    before = members(client)
    keys = srv.inject("drop_field", "members", field="member_rating")
    after = members(client)
    assert set(keys) == set(before) == set(after)
    assert not any("member_rating" in r for r in after.values())
    seen = released(srv, keys, members_since(client))
    assert all(isinstance(r["member_rating"], int) for r in seen.values())


def test_drop_field_on_deals_leaves_the_listing_the_records_and_the_truth(mock) -> None:
    srv, client = mock
    everyone = {**objects(client, "deals"), **objects(client, "deals", archived="true")}
    keys = srv.inject("drop_field", "deals", field="amount")
    assert set(keys) == set(everyone)
    listing = {p["name"] for p in client.hs("/crm/v3/properties/deals").json()["results"]}
    assert "amount" not in listing
    for served in (objects(client, "deals"), objects(client, "deals", "amount,dealname")):
        assert not any("amount" in r["properties"] for r in served.values())
    assert all(row["amount"] is None for row in srv.ground_truth(["deals"])["deals"])
    released(srv, keys, changed_since(client, "deals"))
    assert all("amount" in r["properties"] for r in objects(client, "deals").values())


def test_drop_field_on_a_share_of_contacts_serves_it_null_on_those(mock) -> None:
    srv, client = mock
    before = objects(client, "contacts", "jobtitle")
    keys = srv.inject("drop_field", "contacts", field="jobtitle", rate=0.3)
    after = objects(client, "contacts", "jobtitle")
    assert diff(before, after, prop("jobtitle")) == set(keys)
    assert all(after[k]["properties"]["jobtitle"] is None for k in keys)
    seen = released(srv, keys, changed_since(client, "contacts", ["jobtitle"]))
    assert all(
        seen[k]["properties"]["jobtitle"] == before[k]["properties"]["jobtitle"] for k in keys
    )


# --------------------------------------------------------------------------- type_change
def test_type_change_serves_member_rating_as_a_word_on_the_returned_members(mock) -> None:
    srv, client = mock
    keys = srv.inject("type_change", "members", field="member_rating", rate=0.3)
    after = members(client)
    assert {k for k, r in after.items() if isinstance(r["member_rating"], str)} == set(keys)
    assert all(after[k]["member_rating"] in RATING_WORDS for k in keys)
    seen = released(srv, keys, members_since(client))
    assert all(isinstance(seen[k]["member_rating"], int) for k in keys)


def test_type_change_of_last_changed_to_epoch_still_filters_on_the_stored_time(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    keys = srv.inject("type_change", "members", field="last_changed", to="epoch", rate=0.3)
    after = members(client)
    assert {k for k, r in after.items() if isinstance(r["last_changed"], int)} == set(keys)
    assert all(after[k]["last_changed"] == t0 for k in keys)
    assert set(keys) <= set(members_since(client)(t0))  # the ISO filter, on the stored time
    truth = {f"{r['list_id']}|{r['id']}": r for r in srv.ground_truth(["members"])["members"]}
    assert all(truth[k]["cursor"] == t0 for k in keys)  # ground truth as served
    seen = released(srv, keys, members_since(client))
    assert all(isinstance(seen[k]["last_changed"], str) for k in keys)


def test_type_change_serves_deal_amounts_with_thousands_separators(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    before = objects(client, "deals", "amount")
    keys = srv.inject("type_change", "deals", field="amount", rate=0.5)
    after = objects(client, "deals", "amount")
    assert diff(before, after, prop("amount")) == set(keys)
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", after[k]["properties"]["amount"])
               for k in keys)  # fmt: skip
    assert set(keys) <= set(changed_since(client, "deals")(t0))
    seen = released(srv, keys, changed_since(client, "deals", ["amount"]))
    assert all(seen[k]["properties"]["amount"] == before[k]["properties"]["amount"] for k in keys)


# --------------------------------------------------------------------------- invalid_email
def test_invalid_email_on_members_matches_the_keys_the_truth_and_is_released(mock) -> None:
    srv, client = mock
    before = members(client)
    keys = srv.inject("invalid_email", "members", count=5)
    after = members(client)
    invalid = {k for k, r in after.items() if not VALID_EMAIL.match(r["email_address"])}
    assert invalid == set(keys) == diff(before, after, lambda r: r["email_address"])
    truth = {f"{r['list_id']}|{r['id']}": r for r in srv.ground_truth(["members"])["members"]}
    assert all(truth[k]["email_address"] == after[k]["email_address"] for k in keys)
    seen = released(srv, keys, members_since(client))
    assert all(seen[k]["email_address"] == before[k]["email_address"] for k in keys)


def test_invalid_email_on_contacts_is_picked_up_by_search_and_released(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    before = objects(client, "contacts", "email")
    keys = srv.inject("invalid_email", "contacts", rate=0.2)
    after = objects(client, "contacts", "email")
    invalid = {k for k, r in after.items() if not VALID_EMAIL.match(r["properties"]["email"])}
    assert invalid == set(keys) and len(keys) == 12
    assert set(keys) <= set(changed_since(client, "contacts")(t0))
    seen = released(srv, keys, changed_since(client, "contacts", ["email"]))
    assert all(seen[k]["properties"]["email"] == before[k]["properties"]["email"] for k in keys)


# --------------------------------------------------------------------------- unknown_status
def test_unknown_status_on_members_is_served_and_filtered_as_stored(mock) -> None:
    srv, client = mock
    before = members(client)
    keys = srv.inject("unknown_status", "members", count=4)
    after = members(client)
    assert {k for k, r in after.items() if r["status"] == "zombie"} == set(keys)
    subscribed = members(client, status="subscribed")
    assert not set(keys) & set(subscribed)
    seen = released(srv, keys, members_since(client))
    assert all(seen[k]["status"] == before[k]["status"] for k in keys)


def test_unknown_status_on_campaigns_is_served_until_cleared(mock) -> None:
    srv, client = mock
    listed = lambda: {c["id"]: c for c in client.mc_walk("/campaigns", "campaigns")[0]}  # noqa: E731
    before = listed()
    keys = srv.inject("unknown_status", "campaigns", value="limbo", count=2)
    assert {k for k, c in listed().items() if c["status"] == "limbo"} == set(keys)
    truth = {r["id"]: r["status"] for r in srv.ground_truth(["campaigns"])["campaigns"]}
    assert {k for k, s in truth.items() if s == "limbo"} == set(keys)
    srv.clear_defects()  # campaigns have no last-modified cursor: every sync re-reads them
    assert {k: c["status"] for k, c in listed().items()} == {
        k: c["status"] for k, c in before.items()
    }


def test_unknown_status_on_deals_is_a_stage_no_pipeline_has(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    stages = {s["id"] for p in client.hs("/crm/v3/pipelines/deals").json()["results"]
              for s in p["stages"]}  # fmt: skip
    keys = srv.inject("unknown_status", "deals", rate=0.2)
    after = objects(client, "deals", "dealstage")
    assert {k for k, r in after.items() if r["properties"]["dealstage"] not in stages} == set(keys)
    assert set(keys) <= set(changed_since(client, "deals")(t0))
    seen = released(srv, keys, changed_since(client, "deals", ["dealstage"]))
    assert all(seen[k]["properties"]["dealstage"] in stages for k in keys)


# --------------------------------------------------------------------------- future_timestamp
def test_future_timestamp_on_member_opt_in_is_years_ahead_and_released(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    keys = srv.inject("future_timestamp", "members", years=3, count=6)
    after = members(client)
    future = {k for k, r in after.items() if r["timestamp_opt"] > mc_time(t0 + 2 * 365 * 86400)}
    assert future == set(keys)
    assert set(keys) <= set(members_since(client)(t0))
    seen = released(srv, keys, members_since(client))
    assert all(seen[k]["timestamp_opt"] <= mc_time(t0) for k in keys)


def test_future_timestamp_on_contact_createdate_is_picked_up_by_search(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    keys = srv.inject("future_timestamp", "contacts", count=4)
    after = objects(client, "contacts", "createdate")
    ahead = "2029"  # the clock is in 2025; the defect is at least 5 years ahead
    assert {k for k, r in after.items() if r["properties"]["createdate"] > ahead} == set(keys)
    assert set(keys) <= set(changed_since(client, "contacts")(t0))
    seen = released(srv, keys, changed_since(client, "contacts", ["createdate"]))
    assert all(seen[k]["properties"]["createdate"] < ahead for k in keys)


def test_future_timestamp_on_email_activity_gives_new_keys_the_since_filter_finds(mock) -> None:
    srv, client = mock
    now = _now(srv)
    before = activities(client)
    injected = srv.inject_defects({"kind": "future_timestamp", "stream": "email_activity",
                                   "count": 3})[0]  # fmt: skip
    keys, originals = injected["keys"], injected["originals"]
    after = activities(client)
    assert set(after) == (set(before) - set(originals.values())) | set(keys)
    assert all(after[k]["timestamp"] > mc_time(now + 4 * 365 * 86400) for k in keys)
    assert set(activities(client, since=mc_time(now))) == set(keys)  # nothing else is newer
    truth = {r["activity_id"] for r in srv.ground_truth(["email_activity"])["email_activity"]}
    assert truth == set(after)
    srv.clear_defects()
    assert set(activities(client)) == set(before)


# --------------------------------------------------------------------------- duplicate_people
def test_duplicate_people_are_new_contacts_with_an_existing_email(mock) -> None:
    srv, client = mock
    t0 = _now(srv)
    injected = srv.inject_defects({"kind": "duplicate_people", "count": 3})[0]
    keys, originals = injected["keys"], injected["originals"]
    served = objects(client, "contacts", "email")
    assert set(keys) == set(originals) and not set(keys) & set(originals.values())
    for dup, orig in originals.items():
        assert served[dup]["properties"]["email"] == served[orig]["properties"]["email"]
    assert set(keys) <= set(changed_since(client, "contacts")(t0))
    srv.advance(days=1, change_rate=0)
    assert set(srv.clear_defects()) == set(keys)
    assert not set(keys) & set(objects(client, "contacts"))
    assert set(keys) <= set(objects(client, "contacts", archived="true"))  # merged away
    truth = {r["id"]: r for r in srv.ground_truth(["contacts"])["contacts"]}
    assert all(truth[k]["archived"] for k in keys)


# --------------------------------------------------------------------------- empty
def test_empty_members_serves_nothing_until_cleared(mock) -> None:
    srv, client = mock
    before = members(client)
    keys = srv.inject("empty", "members")
    assert set(keys) == set(before)
    assert members(client) == {}
    assert srv.ground_truth(["members"])["members"] == []
    seen = released(srv, keys, members_since(client))
    assert set(seen) == set(before)


def test_empty_deals_answers_no_list_search_or_batch_read(mock) -> None:
    srv, client = mock
    ids = list(objects(client, "deals"))
    srv.inject("empty", "deals")
    assert objects(client, "deals") == {}
    assert changed_since(client, "deals")(0) == {}
    resp = client.hs_post("/crm/v3/objects/deals/batch/read", {"inputs": [{"id": i} for i in ids]})
    assert resp.status_code == 207 and resp.json()["results"] == []
    srv.clear_defects()
    assert set(objects(client, "deals")) == set(ids)


def test_empty_email_activity_serves_no_actions(mock) -> None:
    srv, client = mock
    before = activities(client)
    keys = srv.inject("empty", "email_activity")
    assert set(keys) == set(before) and activities(client) == {}
    srv.clear_defects()
    assert set(activities(client)) == set(before)


# --------------------------------------------------------------------------- options
def test_touch_false_serves_the_defect_without_moving_cursors(mock) -> None:
    srv, client = mock
    before = members(client)
    keys = srv.inject("invalid_email", "members", count=3, touch=False)
    after = members(client)
    assert diff(before, after, lambda r: r["email_address"]) == set(keys)
    assert all(after[k]["last_changed"] == before[k]["last_changed"] for k in keys)


def test_a_record_holding_a_defect_on_a_field_is_not_picked_again(mock) -> None:
    srv, _ = mock
    first = srv.inject("invalid_email", "contacts", rate=0.5)
    second = srv.inject("invalid_email", "contacts", rate=1.0)
    assert not set(first) & set(second) and len(first) + len(second) == 60


def test_defects_are_deterministic_and_the_seed_option_varies_them() -> None:
    def keys(seed: int) -> list[list[str]]:
        world = World(**{**CONFIG, "members": 40, "contacts": 30, "companies": 5, "deals": 8})
        specs = [f"invalid_email:members,rate=0.2,seed={seed}", "future_timestamp:email_activity"]
        return [world.defects.inject(s).keys for s in specs]

    assert keys(0) == keys(0)
    assert keys(0)[0] != keys(1)[0]


# --------------------------------------------------------------------------- the three ways in
def test_admin_endpoints_inject_describe_and_clear_one_defect_by_id(mock) -> None:
    srv, _ = mock
    url = f"{srv.base_url}/_admin/defects"
    body = {"defects": [{"kind": "empty", "stream": "companies"},
                        {"kind": "invalid_email", "stream": "members", "count": 2}]}  # fmt: skip
    injected = requests.post(url, json=body, timeout=30).json()["injected"]
    assert [d["kind"] for d in injected] == ["empty", "invalid_email"]
    assert len(injected[1]["keys"]) == injected[1]["affected"] == 2
    listed = requests.get(url, timeout=30).json()["defects"]
    assert [(d["id"], d["keys"]) for d in listed] == [(d["id"], d["keys"]) for d in injected]
    cleared = requests.delete(url, params={"id": injected[0]["id"]}, timeout=30).json()["cleared"]
    assert [d["id"] for d in cleared] == [injected[0]["id"]]
    assert [d["id"] for d in srv.defects()] == [injected[1]["id"]]


def test_a_bad_defect_is_refused_with_a_message_and_nothing_is_injected(mock) -> None:
    srv, client = mock
    url = f"{srv.base_url}/_admin/defects"
    resp = requests.post(url, json={"kind": "zombify", "stream": "members"}, timeout=30)
    assert resp.status_code == 400 and "unknown defect kind 'zombify'" in resp.json()["error"]
    body = {
        "defects": [
            {"kind": "empty", "stream": "deals"},
            {"kind": "type_change", "stream": "members", "field": "email_address"},
        ]
    }
    resp = requests.post(url, json=body, timeout=30)
    assert resp.status_code == 400 and "member_rating" in resp.json()["error"]  # the choices
    assert srv.defects() == []
    body = {"defects": [{"kind": "empty", "stream": "deals"},
                        {"kind": "drop_field", "stream": "deals", "field": "nope"}]}  # fmt: skip
    resp = requests.post(url, json=body, timeout=30)  # refused on the world, not the spec
    assert resp.status_code == 400 and "no property 'nope'" in resp.json()["error"]
    assert srv.defects() == [] and objects(client, "deals") != {}


def test_defects_given_at_construction_are_served_from_the_first_request(client_for) -> None:
    specs = ["empty:deals", {"kind": "invalid_email", "stream": "contacts", "count": 2}]
    with MockServer(**CONFIG, defects=specs) as srv:
        client = client_for(srv)
        assert objects(client, "deals") == {}
        described = srv.defects()
        assert [d["kind"] for d in described] == ["empty", "invalid_email"]
        served = objects(client, "contacts", "email")
        bad = {k for k, r in served.items() if not VALID_EMAIL.match(r["properties"]["email"])}
        assert bad == set(described[1]["keys"])


def test_cli_defect_flag_injects_before_serving_and_is_documented() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "mock_apis", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--defect" in help_text and all(kind in help_text for kind in KINDS)
    bad = subprocess.run([sys.executable, "-m", "mock_apis", "--defect", "empty:owners"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "choose from" in bad.stderr
    cmd = [sys.executable, "-m", "mock_apis", "--scale", "0.01",
           "--defect", "empty:deals", "--defect", "invalid_email:contacts,count=2"]  # fmt: skip
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as p:
        try:
            assert p.stdout is not None
            url = p.stdout.readline().strip().removeprefix("MOCK_APIS_URL=")
            listed = requests.get(f"{url}/_admin/defects", timeout=30).json()["defects"]
            assert [(d["kind"], d["stream"], d["affected"]) for d in listed][1] == (
                "invalid_email",
                "contacts",
                2,
            )
            assert listed[0]["kind"] == "empty"
        finally:
            p.terminate()


def test_cli_strings_parse_to_the_same_spec_as_the_admin_body() -> None:
    assert parse_defect("type_change:members,field=last_changed,to=epoch,rate=0.2") == DefectSpec(
        kind="type_change", stream="members", field="last_changed", to="epoch", rate=0.2
    )
    assert parse_defect("new_field:contacts,value=7,touch=false").value == 7
    assert parse_defect("duplicate_people:count=2").stream == "contacts"
    with pytest.raises(ValueError, match="takes to="):
        parse_defect("type_change:members,field=member_rating,to=epoch")  # would change nothing


def test_every_declared_kind_has_an_applier_and_the_field_tables_match_served_records(
    mock,
) -> None:
    _, client = mock
    assert set(APPLY) == set(KINDS)
    member = next(iter(members(client).values()))
    assert set(member) - {"_links"} <= set(MC_FIELDS["members"])
    campaigns = client.mc_walk("/campaigns", "campaigns")[0]
    assert set().union(*campaigns) <= set(MC_FIELDS["campaigns"])
    record = next(iter(activities(client).values()))["record"]
    assert set(record) == set(MC_FIELDS["email_activity"])


def test_a_server_without_defects_lists_none(mock) -> None:
    srv, _ = mock
    assert srv.defects() == [] and srv.clear_defects() == []
