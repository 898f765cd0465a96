"""The dbt warehouse, built by `dbt build` on a real (small) load: mock APIs ->
connectors -> raw DuckDB files -> dbt. Mart numbers are checked against values
computed here, in Python, from the mock's ground truth — not from the warehouse.

One mock world and one warehouse serve the whole module (a build takes seconds,
a load too); the incremental tests run last and move the world forward.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from warehouse_helpers import Warehouse

from mock_apis.testing import MockServer

SCALE = 0.1
EMAIL_RE = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}")
EVENT_STREAMS = ("sent_to", "email_activity", "unsubscribes")

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("dbt-warehouse")
    with MockServer(seed=42, scale=SCALE) as server:
        w = Warehouse(server, root)
        w.extract()
        w.build()
        yield w


# ----------------------------------------------------------------- ground truth
def _norm(email: str | None) -> str | None:
    return email.strip().lower() or None if email is not None else None


def _hs_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _amount(value: str | None) -> Decimal:
    try:
        return Decimal(value) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _won_revenue_by_month(truth: dict) -> dict[str, Decimal]:
    """Live deals in a won stage of their pipeline (closed, probability 1: HubSpot's stage
    metadata, so custom pipelines with numeric stage ids count too), booked in the month
    of their close date — or of their last modification when the close date lies after
    it (the dirty future ones)."""
    won = {
        (s["pipeline_id"], s["id"])
        for s in truth["deal_pipeline_stages"]
        if s["is_closed"] and s["probability"] >= 1.0
    }
    assert len({p for p, _ in won}) > 1, "the world should have several pipelines"
    out: dict[str, Decimal] = defaultdict(Decimal)
    for d in truth["deals"]:
        if d["archived"] or (d["pipeline"], d["dealstage"]) not in won:
            continue
        modified = _hs_time(d["cursor"])
        closed = _hs_time(d["closedate"])
        booked = closed if closed and closed <= modified + timedelta(hours=24) else modified
        out[f"{booked:%Y-%m}"] += _amount(d["amount"])
    return dict(out)


def _event_count(truth: dict) -> int:
    return sum(len(truth[s]) for s in EVENT_STREAMS)


# ------------------------------------------------------------------------ tests
def test_build_passes_every_test_on_a_real_load(wh: Warehouse) -> None:
    # the fixture asserted res.success; here: the marts hold data at all
    (n_contacts,) = wh.query("select count(*) from marts.dim_contacts")[0]
    (n_events,) = wh.query("select count(*) from marts.fct_email_events")[0]
    assert n_contacts > 100 and n_events > 1000


def test_dim_contacts_has_one_person_per_normalised_valid_email(wh: Warehouse) -> None:
    truth = wh.server.ground_truth(["members", "contacts", *EVENT_STREAMS])
    # every recipient is a loaded member here, so no inferred members are expected
    member_ids = {m["id"] for m in truth["members"]}
    assert {r["email_id"] for s in EVENT_STREAMS for r in truth[s]} <= member_ids
    emails = [m["email_address"] for m in truth["members"]] + [
        c["email"] for c in truth["contacts"]
    ]
    valid = {e for e in map(_norm, emails) if e and EMAIL_RE.fullmatch(e)}
    invalid_members = {
        m["id"] for m in truth["members"] if not EMAIL_RE.fullmatch(_norm(m["email_address"]) or "")
    }
    invalid_contacts = [
        c for c in truth["contacts"] if not EMAIL_RE.fullmatch(_norm(c["email"]) or "")
    ]
    got = dict(wh.query("select has_valid_email, count(*) from marts.dim_contacts group by 1"))
    assert got[True] == len(valid)
    assert got.get(False, 0) == len(invalid_members) + len(invalid_contacts)
    # the dirty contacts the mock made are all accounted for as invalid
    dirty = [c for c in truth["contacts"] if {"invalid_email", "missing_email"} & set(c["dirty"])]
    assert dirty and len(invalid_contacts) >= len(dirty)


def test_duplicate_hubspot_contacts_merge_into_one_person(wh: Warehouse) -> None:
    truth = wh.server.ground_truth(["contacts"])
    by_email: dict[str, set[str]] = defaultdict(set)
    for c in truth["contacts"]:
        e = _norm(c["email"])
        if e and EMAIL_RE.fullmatch(e):
            by_email[e].add(c["id"])
    dupes = {e: ids for e, ids in by_email.items() if len(ids) > 1}
    assert dupes, "the mock world should contain duplicate contacts"
    rows = wh.query(
        "select email, hubspot_contact_ids from marts.dim_contacts "
        "where has_duplicate_hubspot_contacts"
    )
    assert {e: set(ids) for e, ids in rows} == dupes


def test_campaign_unique_opens_and_recipients_match_ground_truth(wh: Warehouse) -> None:
    truth = wh.server.ground_truth(["sent_to", "email_activity", "unsubscribes"])
    recipients: dict[str, set] = defaultdict(set)
    opens: dict[str, set] = defaultdict(set)
    clicks: dict[str, set] = defaultdict(set)
    for r in truth["sent_to"]:
        recipients[r["campaign_id"]].add(r["email_id"])
    for a in truth["email_activity"]:
        if a["action"] == "open":
            opens[a["campaign_id"]].add(a["email_id"])
        elif a["action"] == "click":
            clicks[a["campaign_id"]].add(a["email_id"])
    rows = wh.query(
        "select campaign_id, recipients, unique_opens, unique_clicks "
        "from marts.mart_campaign_performance where recipients > 0"
    )
    assert len(rows) == len(recipients)
    for campaign_id, n_recipients, n_opens, n_clicks in rows:
        assert n_recipients == len(recipients[campaign_id]), campaign_id
        assert n_opens == len(opens[campaign_id]), campaign_id
        assert n_clicks == len(clicks[campaign_id]), campaign_id
    biggest = max(recipients, key=lambda c: len(recipients[c]))
    assert len(opens[biggest]) > 0


def test_monthly_won_revenue_matches_ground_truth(wh: Warehouse) -> None:
    expected = _won_revenue_by_month(wh.server.ground_truth(["deals", "deal_pipeline_stages"]))
    rows = wh.query(
        "select strftime(month_start, '%Y-%m'), won_revenue from marts.mart_marketing_funnel "
        "where won_deals > 0"
    )
    got = {m: Decimal(str(v)) for m, v in rows}
    assert got == expected
    (total,) = wh.query("select sum(amount) from marts.fct_deals where is_won and not is_deleted")[
        0
    ]
    assert Decimal(str(total)) == sum(expected.values())


def test_dirty_deals_are_flagged_not_dropped(wh: Warehouse) -> None:
    truth = wh.server.ground_truth(["deals"])
    no_amount = {d["id"] for d in truth["deals"] if d["amount"] in (None, "")}
    future = {d["id"] for d in truth["deals"] if "future_timestamp" in d["dirty"]}
    rows = wh.query("select deal_id, has_missing_amount, has_future_timestamp from marts.fct_deals")
    assert len(rows) == len(truth["deals"])
    assert {d for d, missing, _ in rows if missing} == no_amount
    assert {d for d, _, fut in rows if fut} == future


def test_attribution_credits_only_deals_created_within_the_window(wh: Warehouse) -> None:
    rows = wh.query(
        """
        select a.campaign_id, a.deal_id, a.first_engaged_at, a.deal_created_at
        from intermediate.int_campaign_deals_attributed as a
        """
    )
    assert rows, "the mock world creates deals within 30 days of engagement"
    for _, _, engaged, created in rows:
        assert engaged <= created <= engaged + timedelta(days=30)
    (won,) = wh.query("select sum(attributed_won_revenue) from marts.mart_campaign_performance")[0]
    assert won > 0


def test_rerun_adds_no_events(wh: Warehouse) -> None:
    before = wh.query("select count(*), count(distinct event_id) from marts.fct_email_events")[0]
    wh.build()
    after = wh.query("select count(*), count(distinct event_id) from marts.fct_email_events")[0]
    assert after == before and after[0] == after[1]


def test_advance_and_incremental_extract_add_exactly_the_new_events(wh: Warehouse) -> None:
    truth_before = wh.server.ground_truth(list(EVENT_STREAMS))
    (n_before,) = wh.query("select count(*) from marts.fct_email_events")[0]
    assert n_before == _event_count(truth_before)
    (max_before,) = wh.query("select max(extracted_at) from marts.fct_email_events")[0]

    wh.server.advance(days=7, change_rate=0.02)
    truth_after = wh.server.ground_truth()
    new_events = _event_count(truth_after) - _event_count(truth_before)
    assert new_events > 0, "a week of mock time should bring new email events"
    wh.extract()  # incremental: the raw files and their state are kept
    wh.build()

    n_after, n_distinct = wh.query(
        "select count(*), count(distinct event_id) from marts.fct_email_events"
    )[0]
    assert n_after == n_distinct
    assert n_after - n_before == new_events
    # the incremental run merged only rows extracted since the last one
    (n_old,) = wh.query(
        f"select count(*) from marts.fct_email_events where extracted_at < '{max_before}'"
    )[0]
    assert n_old <= n_before
    # the marts still reconcile with the advanced world
    expected = _won_revenue_by_month(truth_after)
    rows = wh.query(
        "select strftime(month_start, '%Y-%m'), won_revenue from marts.mart_marketing_funnel "
        "where won_deals > 0"
    )
    assert {m: Decimal(str(v)) for m, v in rows} == expected
    (n_snap_versions,) = wh.query(
        "select count(*) from snapshots.snap_hubspot__deals where dbt_valid_to is not null"
    )[0]
    assert n_snap_versions > 0, "deals that changed stage or amount get a closed SCD2 version"


# ------------------------------------------------------------------ varied worlds
MARTS = (
    "dim_contacts",
    "dim_companies",
    "dim_campaigns",
    "dim_owners",
    "dim_deal_stages",
    "fct_email_events",
    "fct_deals",
    "mart_campaign_performance",
    "mart_marketing_funnel",
)


@pytest.mark.parametrize(
    "world",
    [
        # a stream that is empty, a list with no unsubscribes, a campaign with no activity,
        # three pipelines with numeric stage ids (the last three are the defaults)
        {"empty_streams": ("unsubscribes",)},
        {"empty_streams": ("deals", "deal_contacts", "deal_companies"), "deal_pipelines": 1},
    ],
    ids=["no-unsubscribes", "no-deals"],
)
def test_build_passes_and_builds_every_mart_on_varied_worlds(tmp_path, world):
    with MockServer(seed=23, scale=0.03, **world) as server:
        w = Warehouse(server, tmp_path)
        w.extract()
        not_passed = w.build()  # asserts dbt's own success
    bad = [(node, status) for node, status in not_passed if status not in ("no-op",)]
    assert bad == [], f"nodes that failed or were skipped: {bad}"
    built = {
        name
        for (name,) in w.query(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE'"
        )
    }
    assert set(MARTS) <= built, f"marts not built: {sorted(set(MARTS) - built)}"
    (campaigns,) = w.query("select count(*) from marts.mart_campaign_performance")[0]
    assert campaigns > 0
