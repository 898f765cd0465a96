"""Drafts and scheduled campaigns exist and, like on the real API, have no report."""

from __future__ import annotations

import pytest

from mock_apis.clock import parse_time
from mock_apis.testing import MockServer
from mock_apis.world import World


def test_a_few_campaigns_are_drafts_and_a_few_are_scheduled() -> None:
    statuses = [c.status for c in World(seed=42).campaigns]
    assert 2 <= statuses.count("save") <= 5
    assert 2 <= statuses.count("schedule") <= 5
    assert statuses.count("sent") > 30


def test_reports_list_only_sent_campaigns(client, truth) -> None:
    reports, _ = client.mc_walk("/reports", "reports")
    campaigns = {c["id"]: c for c in truth["campaigns"]}
    assert {r["id"] for r in reports} == {
        cid for cid, c in campaigns.items() if c["status"] == "sent"
    }
    assert {c["status"] for c in truth["campaigns"]} == {"sent", "save", "schedule"}
    listed, _ = client.mc_walk("/campaigns", "campaigns")
    assert {(c["id"], c["status"], c["send_time"]) for c in listed} == {
        (c["id"], c["status"], c["send_time"]) for c in truth["campaigns"]
    }


@pytest.mark.parametrize("child", ["", "/email-activity", "/sent-to", "/unsubscribed"])
def test_an_unsent_campaigns_report_and_its_children_are_404_resource_not_found(
    client, truth, child
) -> None:
    unsent = [c for c in truth["campaigns"] if c["status"] in ("save", "schedule")]
    assert {c["status"] for c in unsent} == {"save", "schedule"}
    for c in unsent:
        resp = client.mc(f"/reports/{c['id']}{child}")
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["title"] == "ResourceNotFound"
        assert c["status"] in resp.json()["detail"]


def test_a_scheduled_campaign_shows_its_future_send_time_and_no_emails_sent(client) -> None:
    now = parse_time(client.server.state()["now_mailchimp"])
    scheduled, _ = client.mc_walk("/campaigns", "campaigns", status="schedule")
    assert scheduled
    for c in scheduled:
        assert parse_time(c["send_time"]) > now
        assert c["emails_sent"] == 0 and "report_summary" not in c
        assert "unschedule" in {link["rel"] for link in c["_links"]}
    drafts, _ = client.mc_walk("/campaigns", "campaigns", status="save")
    assert drafts and all(c["send_time"] == "" for c in drafts)


def test_an_advance_past_the_scheduled_time_sends_the_campaign(client_for) -> None:
    with MockServer(seed=8, scale=0.1) as srv:
        client = client_for(srv)
        scheduled = [c for c in srv.ground_truth(["campaigns"])["campaigns"]
                     if c["status"] == "schedule"]  # fmt: skip
        assert scheduled
        cid = scheduled[0]["id"]
        assert client.mc(f"/reports/{cid}").status_code == 404
        days = (parse_time(scheduled[0]["send_time"]) - srv.state()["now"]) / 86400 + 1
        info = srv.advance(days=days, change_rate=0.0)
        assert info["campaigns_sent"] >= 1
        report = client.mc(f"/reports/{cid}")
        assert report.status_code == 200
        assert report.json()["emails_sent"] > 0
        assert report.json()["send_time"] == scheduled[0]["send_time"]
