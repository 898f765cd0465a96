"""Expectation suites, one declaration per table.

Raw suites check only what the connectors guarantee (docs/contracts.md §2):
keys, load metadata, status vocabularies. The mock world's dirty records
(invalid or missing emails, blank names, empty deal amounts, future timestamps —
contracts.md §3) are *expected* in raw and must not fail a raw suite; dbt
staging cleans them, and the warehouse suites check that it did.
"""

from __future__ import annotations

from quality.spec import (
    TableSuite,
    between,
    contains,
    in_set,
    loaded,
    matches,
    min_rows,
    not_matches,
    not_null,
    primary_key,
    unique,
)

MEMBER_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")
SENT_TO_STATUSES = ("sent", "hard", "soft")
EMAIL_ACTIONS = ("open", "click", "bounce")
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
#: Stages every HubSpot pipeline has; won/lost drive fct_deals.is_won.
CLOSED_STAGES = ("closedwon", "closedlost")
#: Event types fct_email_events carries: the MailChimp actions plus sends and unsubscribes.
EVENT_TYPES = ("send", "open", "click", "bounce", "unsubscribe")
FUNNEL_STEPS = ("open", "won", "lost")

#: The dbt `is_valid_email` macro's pattern (dbt_project/macros/identity.sql).
EMAIL_REGEX = r"^[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$"
MD5_REGEX = r"^[0-9a-f]{32}$"
RATE = "a rate is a share of recipients: between 0 and 1"
CORE = "a core stream: an empty table means the extract loaded nothing"
WON = "closedwon is won and closedlost is not (contracts.md §3: probability 1.0 / 0.0)"

# Raw emails: the dirty records (contracts.md §3; MOCK_DIRTY_RATE, default 0.03)
# make a documented share invalid or missing, so the shape check uses mostly=0.5:
# it catches a column mapped to the wrong field, not the documented dirt.
DIRTY_EMAILS_MOSTLY = 0.5
DIRTY_WHY = "most raw emails contain an @ (a documented share is dirty: contracts.md §3)"


def _raw(database: str, table: str, *checks) -> TableSuite:
    flat = [c for item in checks for c in (item if isinstance(item, list) else [item])]
    return TableSuite("raw", database, table, [*flat, *loaded()], schema=f"raw_{database}")


def _mart(table: str, *checks) -> TableSuite:
    flat = [c for item in checks for c in (item if isinstance(item, list) else [item])]
    return TableSuite("warehouse", "warehouse", table, flat)


RAW_MAILCHIMP = [
    _raw("mailchimp", "lists", primary_key("id"), min_rows(why=CORE)),
    _raw(
        "mailchimp",
        "members",
        primary_key("list_id", "id"),
        min_rows(why=CORE),
        matches("id", MD5_REGEX, why="MailChimp's member id is the md5 of the lower-cased email"),
        in_set("status", MEMBER_STATUSES, why="MailChimp member statuses (contracts.md §2)"),
        matches("email_address", "@", mostly=DIRTY_EMAILS_MOSTLY, why=DIRTY_WHY),
    ),
    _raw("mailchimp", "campaigns", primary_key("id"), min_rows(why=CORE)),
    _raw(
        "mailchimp",
        "reports",
        primary_key("id"),
        between("open_rate", 0, 1, why=RATE),
        between("click_rate", 0, 1, why=RATE),
    ),
    _raw(
        "mailchimp",
        "sent_to",
        primary_key("campaign_id", "email_id"),
        in_set("status", SENT_TO_STATUSES, why="delivery outcome of one send"),
    ),
    _raw(
        "mailchimp",
        "email_activity",
        primary_key("activity_id"),
        not_null("campaign_id", why="an action belongs to a campaign"),
        not_null("email_id", why="an action belongs to a recipient"),
        in_set("action", EMAIL_ACTIONS, why="MailChimp email-activity actions (contracts.md §2)"),
    ),
    _raw("mailchimp", "unsubscribes", primary_key("campaign_id", "email_id")),
]

RAW_HUBSPOT = [
    _raw(
        "hubspot",
        "contacts",
        primary_key("id"),
        min_rows(why=CORE),
        not_null("archived", why="archiving is the deletion signal; never unknown"),
        # Empty lifecycle stages are allowed by the contract; nulls are not checked.
        in_set("lifecyclestage", (*LIFECYCLE_STAGES, ""), why="HubSpot lifecycle stages"),
        matches("email", "@", mostly=DIRTY_EMAILS_MOSTLY, why=DIRTY_WHY),
    ),
    _raw("hubspot", "companies", primary_key("id"), min_rows(why=CORE)),
    _raw(
        "hubspot",
        "deals",
        primary_key("id"),
        min_rows(why=CORE),
        in_set(
            "dealstage",
            values_from=("deal_pipeline_stages", "id"),
            why="a deal sits in a stage that exists in deal_pipeline_stages",
        ),
        in_set(
            "pipeline",
            values_from=("deal_pipelines", "id"),
            why="a deal belongs to a pipeline that exists in deal_pipelines",
        ),
    ),
    _raw("hubspot", "owners", primary_key("id"), min_rows(why=CORE)),
    _raw("hubspot", "deal_pipelines", primary_key("id"), min_rows(why=CORE)),
    _raw(
        "hubspot",
        "deal_pipeline_stages",
        primary_key("pipeline_id", "id"),
        min_rows(why=CORE),
        contains("id", CLOSED_STAGES, why="won/lost stages decide fct_deals.is_won"),
        between("probability", 0, 1, why="a stage's win probability"),
        not_null("is_closed", why="closed stages end a deal's life"),
    ),
    _raw("hubspot", "contact_companies", primary_key("contact_id", "company_id")),
    _raw("hubspot", "deal_contacts", primary_key("deal_id", "contact_id")),
    _raw("hubspot", "deal_companies", primary_key("deal_id", "company_id")),
]

# Warehouse columns follow dbt_project/models/marts (schema found at run time).
WAREHOUSE = [
    _mart(
        "dim_contacts",
        primary_key("person_key"),
        matches("person_key", MD5_REGEX, why="the person key is an md5 (macros/identity.sql)"),
        # Emails are normalised (lower(trim())) for everyone; only valid ones must
        # also have an address's shape — invalid ones are kept and flagged.
        not_matches("email", r"[A-Z]", why="emails are lower-cased in staging"),
        not_matches("email", r"^\s|\s$", why="emails are trimmed in staging"),
        matches(
            "email",
            EMAIL_REGEX,
            where=("has_valid_email", "==", True),
            why="an email flagged valid has the shape the dbt macro tests for",
        ),
        in_set("lifecycle_stage", LIFECYCLE_STAGES, why="HubSpot lifecycle stages; blanks null"),
    ),
    _mart("dim_companies", primary_key("company_id")),
    _mart(
        "dim_campaigns",
        primary_key("campaign_id"),
        between("reported_open_rate", 0, 1, why=RATE),
        between("reported_click_rate", 0, 1, why=RATE),
    ),
    _mart("dim_owners", primary_key("owner_id")),
    _mart(
        "dim_deal_stages",
        primary_key("deal_stage_key"),
        unique("pipeline_id", "deal_stage_id", why="a stage id is unique within its pipeline"),
        contains("deal_stage_id", CLOSED_STAGES, why="won/lost stages decide fct_deals.is_won"),
        between("probability", 0, 1, why="a stage's win probability"),
        in_set("funnel_step", FUNNEL_STEPS, why="every stage is open, won or lost"),
    ),
    _mart(
        "fct_email_events",
        primary_key("event_id"),
        in_set("event_type", EVENT_TYPES, why="the email events the marts model"),
        not_null("campaign_id", why="every email event belongs to a campaign"),
        not_null("person_key", why="every recipient is a person, even without a valid email"),
    ),
    _mart(
        "fct_deals",
        primary_key("deal_id"),
        between("amount", 0, why="a deal amount is never negative; empty ones are null"),
        in_set("is_won", [True], where=("deal_stage_id", "==", "closedwon"), why=WON),
        in_set("is_won", [False], where=("deal_stage_id", "==", "closedlost"), why=WON),
        in_set("is_closed", [True], where=("is_won", "==", True), why="a won deal is closed"),
        in_set("is_lost", [False], where=("is_won", "==", True), why="won and lost exclude"),
    ),
    _mart(
        "mart_campaign_performance",
        primary_key("campaign_id"),
        between("open_rate", 0, 1, why=RATE),
        between("click_through_rate", 0, 1, why=RATE),
        # Not capped at 1: MailChimp can record a click without a tracked open.
        between("click_to_open_rate", 0, why="a ratio of counts"),
    ),
    _mart(
        "mart_marketing_funnel",
        primary_key("month_start"),
        min_rows(why="the funnel has a row per month since the first record"),
    ),
]

SUITES: list[TableSuite] = [*RAW_MAILCHIMP, *RAW_HUBSPOT, *WAREHOUSE]
