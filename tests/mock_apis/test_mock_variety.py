"""Real accounts have quiet corners and empty streams; the world can have them too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_apis.testing import MockServer
from mock_apis.world import EMPTYABLE_STREAMS, World, WorldConfig


@pytest.fixture(scope="module")
def default_like(client_for) -> Iterator[tuple[MockServer, object, dict]]:
    """The default world's shape (three lists) at a fifth of its size."""
    with MockServer(seed=42, scale=0.2, lists=3) as srv:
        yield srv, client_for(srv), srv.ground_truth()


def test_the_default_world_has_a_quiet_list_and_a_campaign_without_activity() -> None:
    world = World(seed=42)
    quiet = [lst for lst in world.lists if lst.quiet]
    assert len(quiet) == 1 and quiet[0] is world.lists[-1]
    silent = [c for c in world.campaigns if c.quiet]
    assert len(silent) == 1 and silent[0].list_id == quiet[0].id and silent[0].sends


def test_the_quiet_list_never_had_an_unsubscribe(default_like) -> None:
    _, client, truth = default_like
    lists = client.mc("/lists").json()["lists"]
    quiet = lists[-1]
    assert quiet["stats"]["unsubscribe_count"] == 0
    assert all(lst["stats"]["unsubscribe_count"] > 0 for lst in lists[:-1])
    reports = [r for r in truth["reports"] if r["id"] in _campaigns_of(truth, quiet["id"])]
    assert reports
    for r in reports:
        assert client.mc(f"/reports/{r['id']}/unsubscribed").json()["total_items"] == 0
    members, _ = client.mc_walk(f"/lists/{quiet['id']}/members", "members", status="unsubscribed")
    assert members == []


def test_the_last_campaign_to_the_quiet_list_has_no_activity_at_all(default_like) -> None:
    _, client, truth = default_like
    quiet_id = truth["lists"][-1]["id"]
    sent = [r for r in truth["reports"] if r["id"] in _campaigns_of(truth, quiet_id)]
    last = max(sent, key=lambda r: r["cursor"])
    report = client.mc(f"/reports/{last['id']}").json()
    assert report["emails_sent"] > 0
    assert report["opens"]["opens_total"] == 0 and report["clicks"]["clicks_total"] == 0
    assert report["bounces"]["hard_bounces"] == report["bounces"]["soft_bounces"] == 0
    assert client.mc(f"/reports/{last['id']}/email-activity").json()["total_items"] == 0
    assert client.mc(f"/reports/{last['id']}/sent-to").json()["total_items"] > 0
    others = [r for r in truth["reports"] if r["id"] != last["id"]]
    assert all(r["unique_opens"] > 0 for r in others)


def test_quiet_list_is_a_knob() -> None:
    world = World(seed=42, scale=0.1, lists=3, quiet_list=False)
    assert not any(lst.quiet for lst in world.lists)
    assert not any(c.quiet for c in world.campaigns)


@pytest.mark.parametrize(
    ("empty", "kept"),
    [
        ("unsubscribes", ("members", "reports", "email_activity", "sent_to")),
        ("email_activity", ("reports", "sent_to", "members")),
        ("reports", ("campaigns", "members")),
        ("deal_contacts", ("deals", "contacts", "deal_companies")),
        ("deals", ("contacts", "companies", "contact_companies")),
    ],
)
def test_an_emptied_stream_stays_empty_through_advances_and_the_rest_is_there(
    client_for, empty, kept
) -> None:
    with MockServer(seed=13, scale=0.05, empty_streams=(empty,)) as srv:
        assert srv.ground_truth([empty])[empty] == []
        srv.advance(days=2, change_rate=0.05)
        truth = srv.ground_truth()
        assert truth[empty] == []
        assert all(truth[stream] for stream in kept)
        client = client_for(srv)
        if empty == "deals":
            assert client.hs_walk("deals") == []
        if empty == "reports":
            assert client.mc("/reports").json()["total_items"] == 0


def test_unsubscribes_are_empty_on_the_api_for_every_report(client_for) -> None:
    with MockServer(seed=13, scale=0.05, empty_streams=("unsubscribes",)) as srv:
        client = client_for(srv)
        reports, _ = client.mc_walk("/reports", "reports")
        assert reports
        for r in reports:
            assert r["unsubscribed"] == 0
            assert client.mc(f"/reports/{r['id']}/unsubscribed").json()["total_items"] == 0


def test_a_zero_count_empties_an_entity_and_what_hangs_off_it() -> None:
    world = World(seed=5, scale=0.05, lists=0)
    assert world.lists == [] and world.campaigns == [] and world.members == {}
    assert world.objects["contacts"]
    world.advance(days=1, change_rate=0.05)
    assert world.campaigns == []


def test_an_unknown_stream_or_a_negative_count_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match="owners"):
        WorldConfig(empty_streams=("owners",))
    with pytest.raises(ValueError, match="unsubscribes"):
        WorldConfig(empty_streams=("unsubscribe",))
    with pytest.raises(ValueError, match="counts"):
        WorldConfig(deals=-1)
    assert "unsubscribes" in EMPTYABLE_STREAMS


def _campaigns_of(truth: dict, list_id: str) -> set[str]:
    return {c["id"] for c in truth["campaigns"] if c["list_id"] == list_id}
