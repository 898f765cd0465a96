"""Fixtures: raw and warehouse files to gate, and a quality store to gate them with.

Two kinds of data:
- small, clean raw and warehouse files built with SQL (contracts.md §2): each
  test breaks one thing on top, so a failure points at one suite and one
  expectation (GX suites, marts gate);
- a small world extracted by the real connectors from the mock APIs (no dirty
  records), gated once per session: each test copies it, writes defects
  straight into the raw tables as a later sync would load them
  (`gate_helpers.new_sync`) and runs the raw gate again.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from connectors import run_sync
from elt.gates import run_gate
from elt.settings import Settings
from mock_apis.testing import MockServer

# --import-mode=importlib adds no test dir to sys.path; the helpers module lives here.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "connectors"))

from connector_helpers import configs
from gate_helpers import TINY

LOAD = "_raw json, _extracted_at timestamptz, _sync_id varchar"
META = "'{}'::json, timestamptz '2025-03-02 00:00:00+00', 'sync-1'"

RAW_MAILCHIMP = f"""
create schema raw_mailchimp;
create table raw_mailchimp.lists (id varchar, name varchar, date_created timestamptz,
    list_rating integer, member_count integer, unsubscribe_count integer,
    cleaned_count integer, {LOAD});
insert into raw_mailchimp.lists values
    ('l1', 'Newsletter', '2025-01-01', 3, 3, 1, 0, {META});
create table raw_mailchimp.members (id varchar, list_id varchar, email_address varchar,
    status varchar, first_name varchar, last_name varchar, timestamp_opt timestamptz,
    last_changed timestamptz, member_rating integer, tags json, {LOAD});
insert into raw_mailchimp.members values
    (md5('ann@example.com'), 'l1', 'ann@example.com', 'subscribed', 'Ann', 'A',
        '2025-01-02', '2025-01-02', 2, '[]', {META}),
    (md5('bob@example.com'), 'l1', 'Bob@Example.com ', 'unsubscribed', 'Bob', '',
        '2025-01-02', '2025-01-03', 2, '[]', {META}),
    -- dirty on purpose (contracts.md §3): an invalid email, a future timestamp
    (md5('not-an-email'), 'l1', 'not-an-email', 'cleaned', '', '',
        '2025-01-02', '2099-01-01', 1, '[]', {META}),
    (md5('cy@example.com'), 'l1', 'cy@example.com', 'archived', 'Cy', 'C',
        '2025-01-02', '2025-01-04', 1, '[]', {META});
create table raw_mailchimp.campaigns (id varchar, type varchar, status varchar, title varchar,
    subject_line varchar, list_id varchar, create_time timestamptz, send_time timestamptz,
    emails_sent integer, {LOAD});
insert into raw_mailchimp.campaigns values
    ('c1', 'regular', 'sent', 'March', 'Hello', 'l1', '2025-03-01', '2025-03-01', 2, {META});
create table raw_mailchimp.reports (id varchar, campaign_title varchar, list_id varchar,
    send_time timestamptz, emails_sent integer, abuse_reports integer, unsubscribed integer,
    hard_bounces integer, soft_bounces integer, opens_total integer, unique_opens integer,
    open_rate double, clicks_total integer, unique_clicks integer, click_rate double, {LOAD});
insert into raw_mailchimp.reports values
    ('c1', 'March', 'l1', '2025-03-01', 2, 0, 0, 0, 0, 3, 1, 0.5, 1, 1, 0.5, {META});
create table raw_mailchimp.sent_to (campaign_id varchar, list_id varchar, email_id varchar,
    email_address varchar, status varchar, open_count integer, last_open timestamptz, {LOAD});
insert into raw_mailchimp.sent_to values
    ('c1', 'l1', md5('ann@example.com'), 'ann@example.com', 'sent', 3, '2025-03-01', {META}),
    ('c1', 'l1', md5('bob@example.com'), 'bob@example.com', 'hard', 0, null, {META});
create table raw_mailchimp.email_activity (activity_id varchar, campaign_id varchar,
    list_id varchar, email_id varchar, email_address varchar, action varchar,
    timestamp timestamptz, url varchar, ip varchar, bounce_type varchar, {LOAD});
insert into raw_mailchimp.email_activity values
    ('a1', 'c1', 'l1', md5('ann@example.com'), 'ann@example.com', 'open',
        '2025-03-01 10:00:00+00', null, '10.0.0.1', null, {META}),
    ('a2', 'c1', 'l1', md5('ann@example.com'), 'ann@example.com', 'click',
        '2025-03-01 10:01:00+00', 'https://x.test', '10.0.0.1', null, {META}),
    ('a3', 'c1', 'l1', md5('bob@example.com'), 'bob@example.com', 'bounce',
        '2025-03-01 10:00:00+00', null, null, 'hard', {META});
create table raw_mailchimp.unsubscribes (campaign_id varchar, list_id varchar,
    email_id varchar, email_address varchar, timestamp timestamptz, reason varchar, {LOAD});
insert into raw_mailchimp.unsubscribes values
    ('c1', 'l1', md5('bob@example.com'), 'bob@example.com', '2025-03-02', 'too many', {META});
"""

HS_OBJECT = "created_at timestamptz, updated_at timestamptz, archived boolean, "
HS_OBJECT += "archived_at timestamptz, properties json"
HS_META = f"'2025-01-01', '2025-01-02', false, null, '{{}}', {META}"

RAW_HUBSPOT = f"""
create schema raw_hubspot;
create table raw_hubspot.contacts (id varchar, email varchar, firstname varchar,
    lastname varchar, company varchar, lifecyclestage varchar, hubspot_owner_id varchar,
    createdate varchar, lastmodifieddate varchar, associatedcompanyid varchar,
    {HS_OBJECT}, {LOAD});
insert into raw_hubspot.contacts values
    ('101', ' ANN@example.com', 'Ann', 'A', 'Acme', 'customer', 'o1',
        '2025-01-01T10:00:00.000Z', '2025-01-02T10:00:00.000Z', '201', {HS_META}),
    -- dirty on purpose: missing email, blank names, empty lifecycle stage
    ('102', null, '', '', '', '', 'o1',
        '2025-01-01T10:00:00.000Z', '2099-01-02T10:00:00.000Z', null, {HS_META}),
    ('103', 'dee@example.com', 'Dee', 'D', 'Acme', 'lead', null,
        '2025-01-01T10:00:00.000Z', '2025-01-02T10:00:00.000Z', '201', {HS_META});
create table raw_hubspot.companies (id varchar, name varchar, domain varchar,
    industry varchar, hubspot_owner_id varchar, createdate varchar,
    hs_lastmodifieddate varchar, {HS_OBJECT}, {LOAD});
insert into raw_hubspot.companies values
    ('201', 'Acme', 'acme.test', 'SOFTWARE', 'o1', '2025-01-01T10:00:00.000Z',
        '2025-01-02T10:00:00.000Z', {HS_META});
create table raw_hubspot.deals (id varchar, dealname varchar, amount varchar,
    dealstage varchar, pipeline varchar, closedate varchar, createdate varchar,
    hs_lastmodifieddate varchar, hubspot_owner_id varchar, {HS_OBJECT}, {LOAD});
insert into raw_hubspot.deals values
    ('301', 'Big deal', '1000.50', 'closedwon', 'default', '2025-02-01T10:00:00.000Z',
        '2025-01-05T10:00:00.000Z', '2025-02-01T10:00:00.000Z', 'o1', {HS_META}),
    -- dirty on purpose: an empty amount
    ('302', 'Small deal', '', 'qualifiedtobuy', 'default', null,
        '2025-01-06T10:00:00.000Z', '2025-01-06T10:00:00.000Z', 'o1', {HS_META});
create table raw_hubspot.owners (id varchar, email varchar, first_name varchar,
    last_name varchar, user_id varchar, created_at timestamptz, updated_at timestamptz,
    archived boolean, {LOAD});
insert into raw_hubspot.owners values
    ('o1', 'owner@acme.test', 'Olga', 'O', 'u1', '2025-01-01', '2025-01-01', false, {META});
create table raw_hubspot.deal_pipelines (id varchar, label varchar, display_order integer,
    archived boolean, {LOAD});
insert into raw_hubspot.deal_pipelines values ('default', 'Sales Pipeline', 0, false, {META});
create table raw_hubspot.deal_pipeline_stages (pipeline_id varchar, id varchar, label varchar,
    display_order integer, is_closed boolean, probability double, archived boolean, {LOAD});
insert into raw_hubspot.deal_pipeline_stages values
    ('default', 'appointmentscheduled', 'Appointment', 0, false, 0.2, false, {META}),
    ('default', 'qualifiedtobuy', 'Qualified', 1, false, 0.4, false, {META}),
    ('default', 'closedwon', 'Won', 5, true, 1.0, false, {META}),
    ('default', 'closedlost', 'Lost', 6, true, 0.0, false, {META});
create table raw_hubspot.contact_companies (contact_id varchar, company_id varchar,
    association_types json, {LOAD});
insert into raw_hubspot.contact_companies values
    ('101', '201', '[]', {META}), ('103', '201', '[]', {META});
create table raw_hubspot.deal_contacts (deal_id varchar, contact_id varchar,
    association_types json, {LOAD});
insert into raw_hubspot.deal_contacts values ('301', '101', '[]', {META});
create table raw_hubspot.deal_companies (deal_id varchar, company_id varchar,
    association_types json, {LOAD});
insert into raw_hubspot.deal_companies values ('301', '201', '[]', {META});
"""

WAREHOUSE = """
create schema marts;
create table marts.dim_contacts (person_key varchar, email varchar, has_valid_email boolean,
    first_name varchar, last_name varchar, lifecycle_stage varchar);
insert into marts.dim_contacts values
    (md5('ann@example.com'), 'ann@example.com', true, 'Ann', 'A', 'customer'),
    (md5('bob@example.com'), 'bob@example.com', true, 'Bob', null, null),
    -- dirty emails survive normalised and flagged invalid
    (md5('mailchimp:x'), 'not-an-email', false, null, null, null),
    (md5('hubspot:102'), null, false, null, null, 'lead');
create table marts.dim_companies (company_id varchar, company_name varchar);
insert into marts.dim_companies values ('201', 'Acme');
create table marts.dim_campaigns (campaign_id varchar, campaign_title varchar,
    reported_open_rate double, reported_click_rate double);
insert into marts.dim_campaigns values ('c1', 'March', 0.5, 0.5);
create table marts.dim_owners (owner_id varchar, email varchar);
insert into marts.dim_owners values ('o1', 'owner@acme.test');
create table marts.dim_deal_stages (deal_stage_key varchar, pipeline_id varchar,
    deal_stage_id varchar, probability double, is_closed boolean, is_won boolean,
    is_lost boolean, funnel_step varchar);
insert into marts.dim_deal_stages values
    ('default|qualifiedtobuy', 'default', 'qualifiedtobuy', 0.4, false, false, false, 'open'),
    ('default|closedwon', 'default', 'closedwon', 1.0, true, true, false, 'won'),
    ('default|closedlost', 'default', 'closedlost', 0.0, true, false, true, 'lost');
create table marts.fct_email_events (event_id varchar, event_type varchar, campaign_id varchar,
    person_key varchar, occurred_at timestamptz);
insert into marts.fct_email_events values
    ('e0', 'send', 'c1', md5('ann@example.com'), '2025-03-01 09:00:00+00'),
    ('e1', 'open', 'c1', md5('ann@example.com'), '2025-03-01 10:00:00+00'),
    ('e2', 'click', 'c1', md5('ann@example.com'), '2025-03-01 10:01:00+00'),
    ('e3', 'bounce', 'c1', md5('bob@example.com'), '2025-03-01 10:00:00+00'),
    -- a future timestamp is nulled in staging, the event kept
    ('e4', 'unsubscribe', 'c1', md5('bob@example.com'), null);
create table marts.fct_deals (deal_id varchar, amount decimal(18, 2), deal_stage_id varchar,
    is_closed boolean, is_won boolean, is_lost boolean);
insert into marts.fct_deals values
    ('301', 1000.50, 'closedwon', true, true, false),
    -- dirty: an empty amount is null
    ('302', null, 'qualifiedtobuy', false, false, false),
    ('303', 20, 'closedlost', true, false, true);
create table marts.mart_campaign_performance (campaign_id varchar, recipients integer,
    open_rate double, click_through_rate double, click_to_open_rate double);
insert into marts.mart_campaign_performance values ('c1', 2, 1.0, 1.0, 1.0);
create table marts.mart_marketing_funnel (month_start date, subscribed_people integer,
    won_deals integer);
insert into marts.mart_marketing_funnel values ('2025-01-01', 3, 0), ('2025-02-01', 3, 1);
"""


def _build(path: Path, sql: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def build_clean(settings: Settings, *, warehouse: bool = True) -> Settings:
    """Raw files (and the warehouse) that every suite accepts."""
    _build(settings.raw_path("mailchimp"), RAW_MAILCHIMP)
    _build(settings.raw_path("hubspot"), RAW_HUBSPOT)
    if warehouse:
        _build(settings.warehouse, WAREHOUSE)
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings over an empty data dir: nothing built yet."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def clean(settings: Settings) -> Settings:
    return build_clean(settings)


@pytest.fixture
def raw_only(settings: Settings) -> Settings:
    """Extracted but not transformed: no warehouse file yet."""
    return build_clean(settings, warehouse=False)


@pytest.fixture(scope="module")
def clean_gates(tmp_path_factory: pytest.TempPathFactory):
    """Both gates over the clean SQL-built files, shared by a module: GX is the slow part."""
    settings = build_clean(Settings(data_dir=tmp_path_factory.mktemp("clean") / "data"))
    raw = run_gate(settings, "raw", run_id="clean-1", **TINY)
    marts = run_gate(settings, "marts", run_id="clean-1")
    return settings, raw, marts


# --------------------------------------------------------------------------- synced world
WORLD = {"seed": 3, "scale": 0.02}


@pytest.fixture(scope="session")
def synced_world(tmp_path_factory: pytest.TempPathFactory):
    """Raw files from a real sync of a small, clean mock world, and a store after its first
    (passing) raw gate; tests copy it (`world`)."""
    data = tmp_path_factory.mktemp("synced") / "data"
    settings = Settings(data_dir=data)
    with MockServer(dirty_rate=0.0, **WORLD) as server:
        for source, config in configs(server, settings.raw_dir).items():
            run_sync(source, config=config)
    baseline = run_gate(settings, "raw", run_id="baseline")
    return data, baseline


@pytest.fixture
def world(synced_world, tmp_path: Path) -> Settings:
    """A private copy of the synced world (raw files and store) to break."""
    data = tmp_path / "data"
    shutil.copytree(synced_world[0], data, ignore=shutil.ignore_patterns("*.lock"))
    return Settings(data_dir=data)


@pytest.fixture(scope="session")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> Callable[[float], Settings]:
    """Raw files of the small world at a given MOCK_DIRTY_RATE, synced on first use."""
    made: dict[float, Settings] = {}

    def make(rate: float) -> Settings:
        if rate not in made:
            settings = Settings(data_dir=tmp_path_factory.mktemp(f"dirty{rate}") / "data")
            with MockServer(dirty_rate=rate, **WORLD) as server:
                for source, config in configs(server, settings.raw_dir).items():
                    run_sync(source, config=config)
            made[rate] = settings
        return made[rate]

    return make
