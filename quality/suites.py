"""Expectation suites, one declaration per table, each expectation with its severity.

Raw suites (the `raw` gate, before dbt) check what the connectors guarantee
(docs/contracts.md §2): keys, load metadata, vocabularies. The mock world's
dirty records (invalid or missing emails, blank names, empty deal amounts,
future timestamps — contracts.md §3) are *expected* in raw: the gate's record
checks (`quality.records`) quarantine the ones dbt must not see, and only a
share above the threshold fails the gate. So the expectations that mirror a
quarantine rule (a status outside its vocabulary) are warnings here: the
quarantine decides. Marts suites (the `marts` gate, on a new build before it is
published) check that staging cleaned what it should.

Severity: `critical` fails the gate, `warning` is reported and the run goes on,
`info` is recorded. Default critical.
"""

from __future__ import annotations

from quality.spec import (
    Check,
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
#: MailChimp's campaign statuses (the mock sends sent, save and schedule).
CAMPAIGN_STATUSES = (
    "save",
    "paused",
    "schedule",
    "sending",
    "sent",
    "canceled",
    "canceling",
    "archived",
)
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
QUARANTINED = "records outside it are quarantined; the quarantine share decides the gate"


def _flat(checks: tuple) -> list[Check]:
    return [c for item in checks for c in (item if isinstance(item, list) else [item])]


def _raw(database: str, table: str, key: tuple[str, ...], *checks) -> TableSuite:
    """A raw table: its primary key, its own checks, the load metadata."""
    return TableSuite(
        "raw",
        database,
        table,
        [*primary_key(*key), *_flat(checks), *loaded()],
        schema=f"raw_{database}",
        key=key,
    )


def _mart(table: str, key: tuple[str, ...], *checks) -> TableSuite:
    return TableSuite("marts", "warehouse", table, [*primary_key(*key), *_flat(checks)], key=key)


RAW_MAILCHIMP = [
    _raw("mailchimp", "lists", ("id",), min_rows(why=CORE)),
    _raw(
        "mailchimp",
        "members",
        ("list_id", "id"),
        min_rows(why=CORE),
        matches("id", MD5_REGEX, why="MailChimp's member id is the md5 of the lower-cased email"),
        in_set(
            "status",
            MEMBER_STATUSES,
            why=f"MailChimp member statuses (contracts.md §2); {QUARANTINED}",
            severity="warning",
        ),
        matches(
            "email_address", "@", mostly=DIRTY_EMAILS_MOSTLY, why=DIRTY_WHY, severity="warning"
        ),
    ),
    _raw(
        "mailchimp",
        "campaigns",
        ("id",),
        min_rows(why=CORE),
        in_set(
            "status",
            CAMPAIGN_STATUSES,
            why=f"MailChimp campaign statuses; {QUARANTINED}",
            severity="warning",
        ),
    ),
    _raw(
        "mailchimp",
        "reports",
        ("id",),
        between("open_rate", 0, 1, why=RATE),
        between("click_rate", 0, 1, why=RATE),
    ),
    _raw(
        "mailchimp",
        "sent_to",
        ("campaign_id", "email_id"),
        in_set("status", SENT_TO_STATUSES, why="delivery outcome of one send"),
    ),
    _raw(
        "mailchimp",
        "email_activity",
        ("activity_id",),
        not_null("campaign_id", why="an action belongs to a campaign"),
        not_null("email_id", why="an action belongs to a recipient"),
        in_set("action", EMAIL_ACTIONS, why="MailChimp email-activity actions (contracts.md §2)"),
    ),
    _raw("mailchimp", "unsubscribes", ("campaign_id", "email_id")),
]

RAW_HUBSPOT = [
    _raw(
        "hubspot",
        "contacts",
        ("id",),
        min_rows(why=CORE),
        not_null("archived", why="archiving is the deletion signal; never unknown"),
        # Empty lifecycle stages are allowed by the contract; nulls are not checked.
        in_set(
            "lifecyclestage",
            (*LIFECYCLE_STAGES, ""),
            why=f"HubSpot lifecycle stages; {QUARANTINED}",
            severity="warning",
        ),
        matches("email", "@", mostly=DIRTY_EMAILS_MOSTLY, why=DIRTY_WHY, severity="warning"),
    ),
    _raw("hubspot", "companies", ("id",), min_rows(why=CORE)),
    _raw(
        "hubspot",
        "deals",
        ("id",),
        min_rows(why=CORE),
        in_set(
            "dealstage",
            values_from=("deal_pipeline_stages", "id"),
            why=f"a deal sits in a stage that exists in deal_pipeline_stages; {QUARANTINED}",
            severity="warning",
        ),
        in_set(
            "pipeline",
            values_from=("deal_pipelines", "id"),
            why=f"a deal belongs to a pipeline that exists in deal_pipelines; {QUARANTINED}",
            severity="warning",
        ),
        not_null(
            "amount",
            mostly=0.9,
            why="most deals carry an amount (empty ones are documented dirt: contracts.md §3)",
            severity="info",
        ),
    ),
    _raw("hubspot", "owners", ("id",), min_rows(why=CORE)),
    _raw("hubspot", "deal_pipelines", ("id",), min_rows(why=CORE)),
    _raw(
        "hubspot",
        "deal_pipeline_stages",
        ("pipeline_id", "id"),
        min_rows(why=CORE),
        contains("id", CLOSED_STAGES, why="won/lost stages decide fct_deals.is_won"),
        between("probability", 0, 1, why="a stage's win probability"),
        not_null("is_closed", why="closed stages end a deal's life"),
    ),
    _raw("hubspot", "contact_companies", ("contact_id", "company_id")),
    _raw("hubspot", "deal_contacts", ("deal_id", "contact_id")),
    _raw("hubspot", "deal_companies", ("deal_id", "company_id")),
]

# Mart columns follow dbt_project/models/marts (schema found at run time).
MARTS = [
    _mart(
        "dim_contacts",
        ("person_key",),
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
    _mart("dim_companies", ("company_id",)),
    _mart(
        "dim_campaigns",
        ("campaign_id",),
        between("reported_open_rate", 0, 1, why=RATE),
        between("reported_click_rate", 0, 1, why=RATE),
    ),
    _mart("dim_owners", ("owner_id",)),
    _mart(
        "dim_deal_stages",
        ("deal_stage_key",),
        unique("pipeline_id", "deal_stage_id", why="a stage id is unique within its pipeline"),
        contains("deal_stage_id", CLOSED_STAGES, why="won/lost stages decide fct_deals.is_won"),
        between("probability", 0, 1, why="a stage's win probability"),
        in_set("funnel_step", FUNNEL_STEPS, why="every stage is open, won or lost"),
    ),
    _mart(
        "fct_email_events",
        ("event_id",),
        in_set("event_type", EVENT_TYPES, why="the email events the marts model"),
        not_null("campaign_id", why="every email event belongs to a campaign"),
        not_null("person_key", why="every recipient is a person, even without a valid email"),
    ),
    _mart(
        "fct_deals",
        ("deal_id",),
        between("amount", 0, why="a deal amount is never negative; empty ones are null"),
        in_set("is_won", [True], where=("deal_stage_id", "==", "closedwon"), why=WON),
        in_set("is_won", [False], where=("deal_stage_id", "==", "closedlost"), why=WON),
        in_set("is_closed", [True], where=("is_won", "==", True), why="a won deal is closed"),
        in_set("is_lost", [False], where=("is_won", "==", True), why="won and lost exclude"),
    ),
    _mart(
        "mart_campaign_performance",
        ("campaign_id",),
        between("open_rate", 0, 1, why=RATE),
        between("click_through_rate", 0, 1, why=RATE),
        # Not capped at 1: MailChimp can record a click without a tracked open.
        between("click_to_open_rate", 0, why="a ratio of counts", severity="warning"),
    ),
    _mart(
        "mart_marketing_funnel",
        ("month_start",),
        min_rows(why="the funnel has a row per month since the first record"),
    ),
]

SUITES: list[TableSuite] = [*RAW_MAILCHIMP, *RAW_HUBSPOT, *MARTS]
