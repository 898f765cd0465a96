"""The run report from a real small run: its numbers equal figures computed from the mock's
ground truth (not from the warehouse the report reads), and real headless Chromium
renders its charts (screenshot saved under test-artifacts/report/)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from reliability import elt, elt_env, output, world

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "report"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    data = tmp_path_factory.mktemp("report")
    with world(21, dirty_rate=0.0) as server:
        proc = elt(elt_env(data, server), "run", "--no-mock")
        truth = server.ground_truth()
    assert proc.returncode == 0, output(proc)
    assert f"run report:       {data / 'reports' / 'latest.html'}" in proc.stdout
    page = (data / "reports" / "latest.html").read_text()
    blob = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)
    return data, page, json.loads(blob.group(1)), truth


def _norm(email: str) -> str:
    return email.strip().lower()


def test_people_in_both_tools_match_the_ground_truth(reported):
    _, page, figures, truth = reported
    # a person is deleted when every record of theirs is: archived members, archived contacts
    members = {_norm(m["email_address"]) for m in truth["members"]}
    live = {_norm(m["email_address"]) for m in truth["members"] if m["status"] != "archived"}
    contacts = {_norm(c["email"]) for c in truth["contacts"] if not c["archived"] and c["email"]}
    assert live != members  # the world has archived members: the rule above is exercised
    people = figures["marketing"]["people"]
    assert people["in_both_tools"] == len(members & contacts)
    assert people["mailchimp_only"] == len(live - contacts)
    assert people["hubspot_only"] == len(contacts - members)
    assert f"<b>{len(members & contacts):,}</b>people in both tools" in page


def test_rows_per_stream_and_won_revenue_match_the_ground_truth(reported):
    _, _, figures, truth = reported
    rows = {(s["source"], s["stream"]): s for s in figures["streams"]}
    for source, stream in [
        ("mailchimp", "lists"),
        ("mailchimp", "members"),
        ("mailchimp", "campaigns"),
        ("hubspot", "contacts"),
        ("hubspot", "companies"),
        ("hubspot", "deals"),
    ]:
        s = rows[(source, stream)]
        assert s["status"] == "succeeded" and s["mode"] == "full_refresh"
        assert s["table_rows"] == len(truth[stream]), stream
    won_stages = {
        (st["pipeline_id"], st["id"])
        for st in truth["deal_pipeline_stages"]
        if st["is_closed"] and float(st["probability"]) == 1.0
    }
    won = sum(
        Decimal(str(d["amount"]))
        for d in truth["deals"]
        if not d["archived"] and (d["pipeline"], d["dealstage"]) in won_stages and d["amount"]
    )
    by_source = figures["marketing"]["won_revenue_by_source"]
    assert Decimal(str(round(sum(by_source.values()), 2))) == won


def test_gates_dbt_timings_sync_log_and_links_are_in_the_report(reported):
    data, page, figures, _ = reported
    assert {g["gate"] for g in figures["gates"]} == {"raw", "marts"}
    assert all(g["ok"] for g in figures["gates"])
    models = {d["node"] for d in figures["dbt"] if d["kind"] == "model"}
    assert {"dim_contacts", "fct_deals", "mart_campaign_performance"} <= models
    assert len(figures["sync_log"]) >= len(figures["streams"])
    for name, href in figures["links"].items():
        assert (data / "reports" / href).resolve().exists(), name
    assert {"dbt docs", "data-quality docs"} <= set(figures["links"])
    for table in ("streams", "dbt", "sync-log", "layers"):
        assert f'id="{table}"' in page


def test_chromium_renders_the_four_charts(reported):
    data, _, _, _ = reported
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = (data / "reports" / "latest.html").as_uri()
    flags = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--virtual-time-budget=8000", "--window-size=1400,2400"]  # fmt: skip
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000, "no screenshot"
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    ).stdout
    # plotly draws each chart as SVG when its script runs: proof the embedded library works
    assert dom.count('class="main-svg"') >= 4, "the charts did not render"
    for title in ("Campaign performance", "Funnel by month", "Won revenue by source"):
        assert title in dom
