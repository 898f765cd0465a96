"""HubSpot property definitions (default + custom) and the sparse values records carry.

A real portal defines hundreds of properties per object: HubSpot's own (analytics,
email engagement, lifecycle dates, ...) and the portal's custom ones. Most are
unset on most records, and the API returns an unset property as null when it is
asked for. The world stores only the "core" values its story needs (email, stage,
cursor, ...); every other value is derived from the record's id and last change by
`SparseValues`, so it is deterministic, costs no memory, and changes when the
record does.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_apis.clock import DAY, LEGACY_START, hs_time
from mock_apis.pipelines import Pipeline

DEFAULT_DEFINED_MS = (LEGACY_START - 700 * DAY) * 1000 + 164  # HubSpot's own properties
LIFECYCLE_STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "CONSTRUCTION",
    "FOOD_BEVERAGES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
]
SOURCES = [
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
]
CITIES = [
    # city, state, country, timezone
    ("Atlanta", "GA", "United States", "america_slash_new_york"),
    ("Austin", "TX", "United States", "america_slash_chicago"),
    ("Boston", "MA", "United States", "america_slash_new_york"),
    ("Chicago", "IL", "United States", "america_slash_chicago"),
    ("Denver", "CO", "United States", "america_slash_denver"),
    ("Seattle", "WA", "United States", "america_slash_los_angeles"),
    ("San Francisco", "CA", "United States", "america_slash_los_angeles"),
    ("New York", "NY", "United States", "america_slash_new_york"),
    ("Toronto", "ON", "Canada", "america_slash_toronto"),
    ("London", "England", "United Kingdom", "europe_slash_london"),
    ("Dublin", "Leinster", "Ireland", "europe_slash_dublin"),
    ("Berlin", "Berlin", "Germany", "europe_slash_berlin"),
    ("Sydney", "NSW", "Australia", "australia_slash_sydney"),
]
WORDS = [
    "quarterly",
    "review",
    "pricing",
    "onboarding",
    "integration",
    "renewal",
    "pilot",
    "expansion",
    "migration",
    "security",
    "dashboard",
    "training",
    "rollout",
    "budget",
    "forecast",
    "workshop",
    "analytics",
    "support",
]
REFERENCED = {  # enumerations whose options are the portal's users or teams
    "hubspot_owner_id": "OWNER",
    "hs_all_owner_ids": "OWNER",
    "hs_user_ids_of_all_owners": "OWNER",
    "hubspot_team_id": "TEAM",
}
KIND_SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}


@dataclass(frozen=True, slots=True)
class PropDef:
    """One property definition. `gen` says where a record's value comes from:
    "core" (stored by the world), "derived" (computed from core values) or a
    generator name for sparse values set on a `fill` share of records."""

    name: str
    label: str
    type: str  # string | number | datetime | date | enumeration | bool | phone_number
    field_type: str
    group: str
    gen: str = "core"
    fill: float = 0.0
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    hubspot_defined: bool = True
    calculated: bool = False
    display_order: int = -1
    created_ms: int = DEFAULT_DEFINED_MS
    updated_ms: int = DEFAULT_DEFINED_MS
    referenced: str = ""  # "OWNER" for owner pickers
    unique: bool = False
    description: str = ""


FIELD_TYPE = {
    "string": "text",
    "number": "number",
    "datetime": "date",
    "date": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
    "phone_number": "phonenumber",
}


def _opts(values: list[str], labels: list[str] | None = None) -> tuple[tuple[str, str], ...]:
    labels = labels or [v.replace("_", " ").title() for v in values]
    return tuple(zip(values, labels, strict=True))


def _table(rows: str, group: str) -> list[tuple[str, str, str, str, float]]:
    """Rows of `name type gen fill` (one per line) -> tuples with the group."""
    out = []
    for line in rows.strip().splitlines():
        name, typ, gen, fill = line.split()
        out.append((name, typ, gen, group, float(fill)))
    return out


# --------------------------------------------------------------------------- default catalogs
# name type gen fill: "core" values are stored by the world, "derived" computed from them,
# anything else is a generator for a sparse value on a `fill` share of records.
CONTACT_ROWS = _table(
    """
address string street 0.25
annualrevenue string int:10000:9000000 0.05
associatedcompanyid number core 0
city string city 0.4
company string core 0
company_size string enum 0.05
country string country 0.45
createdate datetime core 0
date_of_birth string date 0.03
degree string word 0.01
email string core 0
fax string phone 0.01
field_of_study string word 0.01
firstname string core 0
gender string enum 0.02
graduation_date string date 0.01
hs_object_id number core 0
hubspot_owner_id enumeration core 0
industry string enum 0.08
job_function string enum 0.05
jobtitle string core 0
lastmodifieddate datetime core 0
lastname string core 0
lifecyclestage enumeration core 0
marital_status string enum 0.01
message string text 0.05
military_status string enum 0.005
mobilephone string phone 0.15
numemployees enumeration enum 0.05
phone string core 0
relationship_status string enum 0.01
salutation string enum 0.05
school string word 0.01
seniority string enum 0.04
start_date string date 0.02
state string state 0.35
twitterhandle string word 0.03
website string url 0.2
work_email string email 0.03
zip string zip 0.3
owneremail string email 0.05
ownername string word 0.05
currentlyinworkflow enumeration bool 0.05
followercount number int:0:4000 0.02
linkedinconnections number int:0:500 0.02
kloutscoregeneral number int:0:80 0.005
linkedinbio string text 0.01
twitterbio string text 0.005
twitterprofilephoto string url 0.01
associatedcompanylastupdated number int:0:9999999 0.3
""",
    "contactinformation",
)
CONTACT_ROWS += _table(
    """
hs_analytics_average_page_views number int:1:12 0.6
hs_analytics_first_referrer string url 0.3
hs_analytics_first_timestamp datetime dt 0.6
hs_analytics_first_url string url 0.5
hs_analytics_first_visit_timestamp datetime dt 0.5
hs_analytics_last_referrer string url 0.3
hs_analytics_last_timestamp datetime dt 0.6
hs_analytics_last_url string url 0.5
hs_analytics_last_visit_timestamp datetime dt 0.5
hs_analytics_num_event_completions number int:0:20 0.6
hs_analytics_num_page_views number int:0:140 0.6
hs_analytics_num_visits number int:0:60 0.6
hs_analytics_revenue number num:0:5000 0.05
hs_analytics_source enumeration enum 0.7
hs_analytics_source_data_1 string word 0.5
hs_analytics_source_data_2 string word 0.4
hs_analytics_first_touch_converting_campaign string word 0.1
hs_analytics_last_touch_converting_campaign string word 0.1
hs_latest_source enumeration enum 0.6
hs_latest_source_data_1 string word 0.4
hs_latest_source_data_2 string word 0.3
hs_latest_source_timestamp datetime dt 0.6
hs_social_facebook_clicks number int:0:5 0.2
hs_social_linkedin_clicks number int:0:5 0.2
hs_social_num_broadcast_clicks number int:0:9 0.2
hs_social_twitter_clicks number int:0:3 0.1
hs_social_last_engagement datetime dt 0.05
ip_city string city 0.3
ip_country string country 0.3
ip_country_code string cc 0.3
ip_state string state 0.3
ip_state_code string state 0.3
""",
    "analyticsinformation",
)
CONTACT_ROWS += _table(
    """
hs_email_bad_address bool bool 0.02
hs_email_bounce number int:0:2 0.3
hs_email_click number int:0:30 0.4
hs_email_delivered number int:0:120 0.6
hs_email_domain string derived 0
hs_email_first_click_date datetime dt 0.3
hs_email_first_open_date datetime dt 0.5
hs_email_first_send_date datetime dt 0.6
hs_email_hard_bounce_reason_enum enumeration enum 0.01
hs_email_last_click_date datetime dt 0.3
hs_email_last_email_name string text 0.6
hs_email_last_open_date datetime dt 0.5
hs_email_last_send_date datetime dt 0.6
hs_email_open number int:0:90 0.5
hs_email_optout bool bool 0.1
hs_email_quarantined bool bool 0.01
hs_email_sends_since_last_engagement number int:0:40 0.5
hs_emailconfirmationstatus enumeration enum 0.1
""",
    "emailinformation",
)
CONTACT_ROWS += _table(
    """
first_conversion_date datetime dt 0.3
first_conversion_event_name string text 0.3
num_conversion_events number int:0:9 0.4
num_unique_conversion_events number int:0:6 0.4
recent_conversion_date datetime dt 0.3
recent_conversion_event_name string text 0.3
""",
    "conversioninformation",
)
CONTACT_ROWS += _table(
    """
closedate datetime dt 0.05
days_to_close number int:1:300 0.05
first_deal_created_date datetime dt 0.2
hs_buying_role enumeration enum 0.05
hs_count_is_unworked number int:0:1 0.4
hs_is_unworked bool bool 0.4
hs_last_sales_activity_date datetime dt 0.3
hs_last_sales_activity_timestamp datetime dt 0.3
hs_last_sales_activity_type enumeration enum 0.3
hs_lead_status enumeration enum 0.3
hs_persona enumeration enum 0.05
hs_predictivecontactscore_v2 number num:0:100 0.8
hs_predictivescoringtier enumeration enum 0.8
hs_sales_email_last_clicked datetime dt 0.1
hs_sales_email_last_opened datetime dt 0.2
hs_sales_email_last_replied datetime dt 0.1
hs_sequences_actively_enrolled_count number int:0:2 0.2
hs_sequences_is_enrolled bool bool 0.2
hs_time_between_contact_creation_and_deal_close number int:86400000:9000000000 0.05
hs_time_between_contact_creation_and_deal_creation number int:3600000:9000000000 0.1
hubspot_owner_assigneddate datetime dt 0.7
hubspot_team_id enumeration id 0.1
hubspotscore number int:0:100 0.3
notes_last_contacted datetime dt 0.4
notes_last_updated datetime dt 0.4
notes_next_activity_date datetime dt 0.1
num_associated_deals number int:0:3 0.3
num_contacted_notes number int:0:12 0.4
num_notes number int:0:20 0.4
recent_deal_amount number num:500:60000 0.1
recent_deal_close_date datetime dt 0.08
total_revenue number num:0:90000 0.05
""",
    "sales_properties",
)
CONTACT_ROWS += _table(
    """
hs_all_owner_ids enumeration owner 0.7
hs_associated_target_accounts number int:0:1 0.02
hs_calculated_phone_number string phone 0.3
hs_calculated_phone_number_country_code string cc 0.3
hs_content_membership_status enumeration enum 0.02
hs_created_by_user_id number int:4000001:4000040 0.3
hs_createdate datetime dt 0.02
hs_document_last_revisited datetime dt 0.02
hs_facebook_click_id string id 0.01
hs_first_engagement_object_id number int:1000000:90000000 0.3
hs_google_click_id string id 0.02
hs_is_contact bool derived 0
hs_language enumeration enum 0.1
hs_legal_basis enumeration enum 0.15
hs_lifecyclestage_customer_date datetime dt 0.1
hs_lifecyclestage_evangelist_date datetime dt 0.01
hs_lifecyclestage_lead_date datetime dt 0.5
hs_lifecyclestage_marketingqualifiedlead_date datetime dt 0.2
hs_lifecyclestage_opportunity_date datetime dt 0.1
hs_lifecyclestage_other_date datetime dt 0.02
hs_lifecyclestage_salesqualifiedlead_date datetime dt 0.15
hs_lifecyclestage_subscriber_date datetime dt 0.4
hs_marketable_reason_type enumeration enum 0.6
hs_marketable_status enumeration bool 0.9
hs_marketable_until_renewal enumeration bool 0.3
hs_object_source string enum 0.95
hs_object_source_id string word 0.3
hs_object_source_label string enum 0.95
hs_object_source_user_id number int:4000001:4000040 0.3
hs_pipeline enumeration enum 0.9
hs_registered_member number int:0:1 0.02
hs_sa_first_engagement_date datetime dt 0.2
hs_sa_first_engagement_descr enumeration enum 0.2
hs_sa_first_engagement_object_type enumeration enum 0.2
hs_searchable_calculated_mobile_number string phone 0.1
hs_searchable_calculated_phone_number string phone 0.3
hs_time_in_customer number int:3600000:9000000000 0.1
hs_time_in_lead number int:3600000:9000000000 0.4
hs_time_in_opportunity number int:3600000:9000000000 0.08
hs_time_in_subscriber number int:3600000:9000000000 0.3
hs_timezone enumeration enum 0.4
hs_updated_by_user_id number int:4000001:4000040 0.5
hs_user_ids_of_all_owners enumeration id 0.5
hs_was_imported bool bool 0.2
hs_whatsapp_phone_number string phone 0.01
""",
    "contactinformation",
)
COMPANY_ROWS = _table(
    """
about_us string text 0.1
address string street 0.4
address2 string word 0.05
annualrevenue number int:100000:500000000 0.3
city string core 0
country string country 0.6
createdate datetime core 0
description string text 0.3
domain string core 0
facebook_company_page string url 0.2
facebookfans number int:0:90000 0.05
founded_year string int:1950:2020 0.2
hs_ideal_customer_profile enumeration enum 0.05
hs_is_target_account bool bool 0.05
hs_lastmodifieddate datetime core 0
hs_lead_status enumeration enum 0.1
hs_num_child_companies number int:0:3 0.05
hs_object_id number core 0
hs_parent_company_id number int:5000001:5001500 0.02
hubspot_owner_id enumeration core 0
industry enumeration core 0
is_public bool bool 0.1
lifecyclestage enumeration enum 0.5
linkedin_company_page string url 0.4
linkedinbio string text 0.2
name string core 0
numberofemployees number core 0
phone string phone 0.5
state string state 0.5
timezone string enum 0.4
total_money_raised string int:0:90000000 0.05
twitterhandle string word 0.1
type enumeration enum 0.3
web_technologies enumeration enum 0.2
website string url 0.6
zip string zip 0.4
""",
    "companyinformation",
)
COMPANY_ROWS += _table(
    """
closedate datetime dt 0.15
days_to_close number int:1:300 0.1
engagements_last_meeting_booked datetime dt 0.05
first_contact_createdate datetime dt 0.8
first_conversion_date datetime dt 0.2
first_conversion_event_name string text 0.2
first_deal_created_date datetime dt 0.3
hs_all_owner_ids enumeration owner 0.7
hs_analytics_first_timestamp datetime dt 0.5
hs_analytics_first_visit_timestamp datetime dt 0.4
hs_analytics_last_timestamp datetime dt 0.5
hs_analytics_last_visit_timestamp datetime dt 0.4
hs_analytics_latest_source enumeration enum 0.5
hs_analytics_latest_source_timestamp datetime dt 0.5
hs_analytics_num_page_views number int:0:400 0.5
hs_analytics_num_visits number int:0:120 0.5
hs_analytics_source enumeration enum 0.6
hs_analytics_source_data_1 string word 0.4
hs_analytics_source_data_2 string word 0.3
hs_created_by_user_id number int:4000001:4000040 0.3
hs_createdate datetime dt 0.02
hs_last_sales_activity_date datetime dt 0.3
hs_last_sales_activity_timestamp datetime dt 0.3
hs_last_sales_activity_type enumeration enum 0.3
hs_num_blockers number int:0:2 0.05
hs_num_contacts_with_buying_roles number int:0:4 0.1
hs_num_decision_makers number int:0:3 0.1
hs_num_open_deals number int:0:4 0.3
hs_object_source string enum 0.95
hs_object_source_id string word 0.3
hs_object_source_label string enum 0.95
hs_pipeline enumeration enum 0.9
hs_total_deal_value number num:0:400000 0.3
hs_updated_by_user_id number int:4000001:4000040 0.5
hs_user_ids_of_all_owners enumeration id 0.6
hubspot_owner_assigneddate datetime dt 0.7
hubspot_team_id enumeration id 0.1
notes_last_contacted datetime dt 0.4
notes_last_updated datetime dt 0.4
notes_next_activity_date datetime dt 0.1
num_associated_contacts number int:0:40 0.8
num_associated_deals number int:0:8 0.4
num_contacted_notes number int:0:30 0.4
num_conversion_events number int:0:20 0.3
num_notes number int:0:60 0.4
recent_conversion_date datetime dt 0.2
recent_conversion_event_name string text 0.2
recent_deal_amount number num:500:90000 0.2
recent_deal_close_date datetime dt 0.2
total_revenue number num:0:400000 0.2
""",
    "company_activity",
)
DEAL_ROWS = _table(
    """
amount number core 0
amount_in_home_currency number derived 0
closed_lost_reason string text 0.1
closed_won_reason string text 0.1
closedate datetime core 0
createdate datetime core 0
days_to_close number int:1:300 0.3
deal_currency_code enumeration enum 0.6
dealname string core 0
dealstage enumeration core 0
dealtype enumeration core 0
description string text 0.2
hs_acv number num:500:90000 0.1
hs_arr number num:500:90000 0.1
hs_closed_amount number derived 0
hs_closed_amount_in_home_currency number derived 0
hs_deal_score number num:0:100 0.3
hs_deal_stage_probability number derived 0
hs_forecast_amount number num:0:60000 0.5
hs_forecast_category enumeration enum 0.3
hs_forecast_probability number num:0:1 0.3
hs_is_closed bool derived 0
hs_is_closed_won bool derived 0
hs_lastmodifieddate datetime core 0
hs_likelihood_to_close number num:0:1 0.3
hs_manual_forecast_category enumeration enum 0.1
hs_mrr number num:50:9000 0.1
hs_next_step string text 0.2
hs_object_id number core 0
hs_predicted_amount number num:500:60000 0.2
hs_priority enumeration enum 0.3
hs_projected_amount number num:0:60000 0.5
hs_projected_amount_in_home_currency number num:0:60000 0.5
hs_tcv number num:500:200000 0.1
hubspot_owner_id enumeration core 0
pipeline enumeration core 0
""",
    "dealinformation",
)
DEAL_ROWS += _table(
    """
engagements_last_meeting_booked datetime dt 0.1
engagements_last_meeting_booked_campaign string word 0.05
engagements_last_meeting_booked_medium string word 0.05
engagements_last_meeting_booked_source string word 0.05
hs_all_owner_ids enumeration owner 0.8
hs_analytics_source enumeration enum 0.3
hs_analytics_source_data_1 string word 0.2
hs_analytics_source_data_2 string word 0.2
hs_campaign string word 0.1
hs_created_by_user_id number int:4000001:4000040 0.5
hs_createdate datetime dt 0.02
hs_latest_meeting_activity datetime dt 0.1
hs_num_associated_deal_splits number int:0:2 0.02
hs_num_of_associated_line_items number int:0:5 0.3
hs_num_target_accounts number int:0:1 0.02
hs_object_source string enum 0.95
hs_object_source_id string word 0.3
hs_object_source_label string enum 0.95
hs_sales_email_last_replied datetime dt 0.1
hs_updated_by_user_id number int:4000001:4000040 0.6
hs_user_ids_of_all_owners enumeration id 0.7
hubspot_owner_assigneddate datetime dt 0.8
hubspot_team_id enumeration id 0.1
notes_last_contacted datetime dt 0.4
notes_last_updated datetime dt 0.5
notes_next_activity_date datetime dt 0.2
num_associated_contacts number int:0:6 0.9
num_contacted_notes number int:0:12 0.4
num_notes number int:0:30 0.5
""",
    "deal_activity",
)
for _stage in (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
):
    DEAL_ROWS += [
        (f"hs_date_entered_{_stage}", "datetime", "dt", "deal_activity", 0.3),
        (f"hs_date_exited_{_stage}", "datetime", "dt", "deal_activity", 0.2),
        (f"hs_time_in_{_stage}", "number", "int:3600000:9000000000", "deal_activity", 0.3),
    ]
DEFAULT_ROWS = {"contacts": CONTACT_ROWS, "companies": COMPANY_ROWS, "deals": DEAL_ROWS}

OPTIONS: dict[str, list[str]] = {
    "company_size": ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"],
    "numemployees": ["1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+"],
    "gender": ["female", "male", "non_binary", "prefer_not_to_say"],
    "industry": [i.lower() for i in INDUSTRIES],
    "job_function": ["accounting", "engineering", "marketing", "operations", "sales", "support"],
    "marital_status": ["single", "married", "divorced", "widowed"],
    "military_status": ["active_duty", "veteran", "none"],
    "relationship_status": ["single", "in_a_relationship", "married"],
    "salutation": ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."],
    "seniority": ["entry", "manager", "director", "vp", "executive", "owner"],
    "hs_analytics_source": SOURCES,
    "hs_latest_source": SOURCES,
    "hs_analytics_latest_source": SOURCES,
    "hs_email_hard_bounce_reason_enum": ["MAILBOX_FULL", "UNKNOWN_USER", "SPAM", "OTHER"],
    "hs_emailconfirmationstatus": ["Confirmation Pending", "Confirmed", "Never Confirmed"],
    "hs_buying_role": ["BLOCKER", "BUDGET_HOLDER", "CHAMPION", "DECISION_MAKER", "END_USER"],
    "hs_last_sales_activity_type": ["CALL", "EMAIL_REPLY", "MEETING_BOOKED", "FORM_SUBMITTED"],
    "hs_lead_status": ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "CONNECTED"],
    "hs_persona": ["persona_1", "persona_2", "persona_3"],
    "hs_predictivescoringtier": ["tier_1", "tier_2", "tier_3", "tier_4", "closed_won"],
    "hs_content_membership_status": ["active", "inactive"],
    "hs_language": ["en", "de", "fr", "es", "pt-br", "nl"],
    "hs_legal_basis": [
        "Legitimate interest – prospect/lead",
        "Legitimate interest - existing customer",
        "Freely given consent from contact",
    ],
    "hs_marketable_reason_type": ["MARKETABLE_IMPORT", "INTEGRATION", "FORM_SUBMISSION", "API"],
    "hs_object_source": ["CRM_UI", "IMPORT", "FORM", "INTEGRATION", "API", "EMAIL_INTEGRATION"],
    "hs_object_source_label": ["CRM_UI", "IMPORT", "FORM", "INTEGRATION", "API"],
    "hs_sa_first_engagement_descr": ["CALL", "EMAIL", "MEETING"],
    "hs_sa_first_engagement_object_type": ["CALL", "EMAIL", "MEETING_EVENT"],
    "hs_ideal_customer_profile": ["tier_1", "tier_2", "tier_3"],
    "lifecyclestage": LIFECYCLE_STAGES,
    "timezone": [c[3] for c in CITIES],
    "hs_timezone": [c[3] for c in CITIES],
    "type": ["PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"],
    "web_technologies": ["google_analytics", "hubspot", "salesforce", "shopify", "wordpress"],
    "deal_currency_code": ["USD", "EUR", "GBP", "CAD"],
    "hs_forecast_category": ["OMIT", "PIPELINE", "BEST_CASE", "COMMIT", "CLOSED"],
    "hs_manual_forecast_category": ["OMIT", "PIPELINE", "BEST_CASE", "COMMIT", "CLOSED"],
    "hs_priority": ["low", "medium", "high"],
    "dealtype": ["newbusiness", "existingbusiness"],
}
PIPELINE_OPTIONS = {
    "contacts": ["contacts-lifecycle-pipeline"],
    "companies": ["companies-lifecycle-pipeline"],
}
LABELS = {
    "email": "Email",
    "firstname": "First Name",
    "lastname": "Last Name",
    "hs_object_id": "Record ID",
    "createdate": "Create Date",
    "lastmodifieddate": "Last Modified Date",
    "hs_lastmodifieddate": "Last Modified Date",
    "hubspot_owner_id": "Contact owner",
    "lifecyclestage": "Lifecycle Stage",
    "dealstage": "Deal Stage",
    "dealname": "Deal Name",
    "closedate": "Close Date",
    "numberofemployees": "Number of Employees",
    "associatedcompanyid": "Primary Associated Company ID",
}
# Custom properties: "<qualifier>_<noun>", typed by the noun.
QUALIFIERS = [
    "legacy",
    "primary",
    "secondary",
    "marketing",
    "sales",
    "support",
    "partner",
    "webinar",
    "trial",
    "renewal",
    "billing",
    "product",
    "event",
    "survey",
    "onboarding",
    "erp",
    "campaign",
    "account",
    "regional",
    "preferred",
]
NOUNS = {
    "source": ("enumeration", ["website", "referral", "trade_show", "cold_call", "partner"]),
    "channel": ("enumeration", ["email", "phone", "chat", "in_person", "social"]),
    "tier": ("enumeration", ["platinum", "gold", "silver", "bronze"]),
    "segment": ("enumeration", ["smb", "mid_market", "enterprise", "public_sector"]),
    "status": ("enumeration", ["active", "inactive", "pending", "churned"]),
    "region": ("enumeration", ["na", "emea", "apac", "latam"]),
    "plan": ("enumeration", ["free", "starter", "pro", "enterprise"]),
    "interest": ("enumeration", ["analytics", "automation", "integrations", "security"]),
    "score": ("number", []),
    "budget": ("number", []),
    "count": ("number", []),
    "rating": ("number", []),
    "date": ("date", []),
    "renewal_date": ("date", []),
    "last_touch": ("datetime", []),
    "attended": ("bool", []),
    "opt_in": ("bool", []),
    "id": ("string", []),
    "competitor": ("string", []),
    "use_case": ("string", []),
    "notes": ("string", []),
    "owner_email": ("string", []),
    "url": ("string", []),
    "code": ("string", []),
}
CUSTOM_FILL = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.3, 0.5, 0.8)
CUSTOM_GEN = {"number": "int:0:500", "date": "date", "datetime": "dt", "bool": "bool"}
STRING_GEN = {"id": "uid", "owner_email": "email", "url": "url", "notes": "text", "code": "id"}


def _label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    return name.removeprefix("hs_").replace("_", " ").capitalize()


def _core_options(kind: str, name: str, pipelines: list[Pipeline]) -> tuple:
    if name == "dealstage":
        return tuple((s.id, f"{s.label} ({p.label})") for p in pipelines for s in p.stages)
    if name == "pipeline":
        return tuple((p.id, p.label) for p in pipelines)
    if name == "hs_pipeline":
        return _opts(PIPELINE_OPTIONS.get(kind, []))
    if name in ("hs_marketable_status", "hs_marketable_until_renewal", "currentlyinworkflow"):
        return (("true", "Yes"), ("false", "No"))
    if name == "industry" and kind == "companies":
        return _opts(INDUSTRIES)
    return _opts(OPTIONS.get(name, []))


def _default_def(kind: str, order: int, row: tuple, pipelines: list[Pipeline]) -> PropDef:
    name, typ, gen, group, fill = row
    options = _core_options(kind, name, pipelines) if typ in ("enumeration", "bool") else ()
    if typ == "bool":
        options = (("true", "Yes"), ("false", "No"))
    return PropDef(
        name=name,
        label=_label(name),
        type=typ,
        field_type=FIELD_TYPE[typ] if name not in ("message", "description") else "textarea",
        group=group,
        gen=gen,
        fill=fill,
        options=options,
        calculated=gen == "derived" or name.startswith(("hs_time_", "hs_date_", "num_")),
        display_order=order if gen == "core" else -1,
        referenced=REFERENCED.get(name, ""),
        unique=name == "hs_object_id",
        description=f"The {_label(name).lower()} of the {KIND_SINGULAR[kind]}.",
    )


def _custom_defs(kind: str, n: int, seed: int) -> list[PropDef]:
    rng = random.Random(f"properties:{seed}:{kind}")
    combos = [(q, noun) for q in QUALIFIERS for noun in NOUNS]
    if n > len(combos):
        raise ValueError(f"at most {len(combos)} custom {kind} properties, got {n}")
    group = f"northwind_{KIND_SINGULAR[kind]}_fields"
    out = []
    for i, (q, noun) in enumerate(rng.sample(combos, n)):
        typ, values = NOUNS[noun]
        created = (LEGACY_START + rng.randint(0, 3000) * DAY) * 1000 + rng.randint(0, 999)
        gen = "enum" if typ == "enumeration" else CUSTOM_GEN.get(typ, STRING_GEN.get(noun, "word"))
        out.append(
            PropDef(
                name=f"{q}_{noun}",
                label=f"{q.capitalize()} {noun.replace('_', ' ')}",
                type=typ,
                field_type="radio" if typ == "enumeration" and len(values) < 4 else FIELD_TYPE[typ],
                group=group,
                gen=gen,
                fill=rng.choice(CUSTOM_FILL),
                options=_opts(values) if typ == "enumeration" else _bool_opts(typ),
                hubspot_defined=False,
                display_order=i,
                created_ms=created,
                updated_ms=created + rng.randint(0, 400) * DAY * 1000,
                unique=gen == "uid",
                description=rng.choice(["", f"Set by the {q} team."]),
            )
        )
    return out


def _bool_opts(typ: str) -> tuple:
    return (("true", "Yes"), ("false", "No")) if typ == "bool" else ()


def build_catalog(kind: str, n_custom: int, seed: int, pipelines: list[Pipeline]) -> list[PropDef]:
    """Every property `kind` defines, sorted by name: HubSpot's defaults + `n_custom` custom."""
    defs = [_default_def(kind, i, row, pipelines) for i, row in enumerate(DEFAULT_ROWS[kind])]
    names = {d.name for d in defs}
    defs += [d for d in _custom_defs(kind, n_custom, seed) if d.name not in names]
    return sorted(defs, key=lambda d: d.name)


def definition(d: PropDef) -> dict[str, Any]:
    """The property in the shape `GET /crm/v3/properties/{type}` returns it."""
    out: dict[str, Any] = {
        "updatedAt": hs_time(d.updated_ms),
        "createdAt": hs_time(d.created_ms),
        "name": d.name,
        "label": d.label,
        "type": d.type,
        "fieldType": d.field_type,
        "description": d.description,
        "groupName": d.group,
        "options": [
            {"label": label, "value": value, "displayOrder": i, "hidden": False}
            for i, (value, label) in enumerate(d.options)
        ],
        "displayOrder": d.display_order,
        "calculated": d.calculated,
        "externalOptions": bool(d.referenced),
        "hasUniqueValue": d.unique,
        "hidden": False,
        "hubspotDefined": d.hubspot_defined,
        "modificationMetadata": {
            "archivable": not d.hubspot_defined or d.gen != "core",
            "readOnlyDefinition": d.hubspot_defined,
            "readOnlyValue": d.calculated or d.name == "hs_object_id",
        },
        "formField": d.type in ("string", "enumeration", "bool") and not d.calculated,
        "dataSensitivity": "non_sensitive",
        "archived": False,
    }
    if d.referenced:
        out["referencedObjectType"] = d.referenced
    if d.name in ("amount", "hs_closed_amount", "hs_forecast_amount", "hs_projected_amount"):
        out["showCurrencySymbol"] = True
    return out


# --------------------------------------------------------------------------- values
COUNTRY_CODES = {"United States": "US", "Canada": "CA", "United Kingdom": "GB", "Ireland": "IE",
                 "Germany": "DE", "Australia": "AU"}  # fmt: skip
STREETS = ["Main St", "Oak Ave", "Peachtree Rd", "Market St", "Elm St", "Park Blvd", "High St"]
Generator = Callable[[random.Random, Any], str]
SIMPLE_GEN: dict[str, Generator] = {
    "city": lambda r, o: r.choice(CITIES)[0],
    "state": lambda r, o: r.choice(CITIES)[1],
    "country": lambda r, o: r.choice(CITIES)[2],
    "cc": lambda r, o: COUNTRY_CODES[r.choice(CITIES)[2]],
    "zip": lambda r, o: f"{r.randint(1001, 99950):05d}",
    "street": lambda r, o: f"{r.randint(1, 9999)} {r.choice(STREETS)}",
    "phone": lambda r, o: f"+1 {r.randint(201, 989)}-555-{r.randint(1000, 9999)}",
    "url": lambda r, o: f"https://www.{r.choice(WORDS)}{r.choice(WORDS)}.com/{r.choice(WORDS)}",
    "word": lambda r, o: r.choice(WORDS),
    "text": lambda r, o: " ".join(r.sample(WORDS, r.randint(2, 7))).capitalize(),
    "email": lambda r, o: f"{r.choice(WORDS)}.{o.id}@northwind-demo.com",
    "id": lambda r, o: str(r.randint(10**6, 10**9)),
    "uid": lambda r, o: f"NW-{o.id}",
    "dt": lambda r, o: hs_time(r.randint(o.created, max(o.created, o.updated))),
    "date": lambda r, o: hs_time(r.randint(o.created, max(o.created, o.updated)))[:10],
}


class SparseValues:
    """Values of the properties the world does not store, for one object type.

    Derived from (seed, object id, last change): deterministic, no storage beyond a
    small cache, and they change whenever the record does. Derived properties
    (`hs_is_closed`, `hs_email_domain`, ...) follow the stored values they mirror.
    """

    CACHE_MAX = 2_000  # enough for a client reading a few pages in property chunks

    def __init__(
        self, kind: str, defs: list[PropDef], seed: int, owner_ids: list[int], stages: dict
    ) -> None:
        self.kind, self.seed, self.stages = kind, seed, stages
        self.owner_ids = [str(o) for o in owner_ids] or ["0"]
        self.noise = [(d.name, d.fill, self._generator(d)) for d in defs if d.fill > 0]
        self._cache: dict[tuple[int, int], dict[str, str]] = {}

    def _generator(self, d: PropDef) -> Generator:
        kind, _, rest = d.gen.partition(":")
        if kind == "int":
            lo, hi = (int(x) for x in rest.split(":"))
            return lambda r, o: str(r.randint(lo, hi))
        if kind == "num":
            flo, fhi = (float(x) for x in rest.split(":"))
            return lambda r, o: f"{r.uniform(flo, fhi):.2f}"
        if kind == "owner":
            return lambda r, o: r.choice(self.owner_ids)
        if kind in ("enum", "bool"):
            values = [v for v, _ in d.options] or OPTIONS.get(d.name) or ["true", "false"]
            return lambda r, o: r.choice(values)
        return SIMPLE_GEN[kind]

    def values(self, obj: Any) -> dict[str, str]:
        """Every set non-core value of `obj` (unset ones are absent)."""
        key = (obj.id, obj.updated)
        out = self._cache.get(key)
        if out is None:
            if len(self._cache) >= self.CACHE_MAX:
                self._cache.clear()
            rng = random.Random(f"{self.seed}:{self.kind}:{obj.id}:{obj.updated}")
            roll = rng.random
            out = {name: gen(rng, obj) for name, fill, gen in self.noise if roll() < fill}
            out.update(self._derived(obj))
            self._cache[key] = out
        return out

    def _derived(self, obj: Any) -> dict[str, str]:
        props = obj.props
        if self.kind == "contacts":
            email = (props.get("email") or "").strip().lower()
            out = {"hs_is_contact": "true"}
            if "@" in email and email.split("@", 1)[1]:
                out["hs_email_domain"] = email.split("@", 1)[1]
            return out
        if self.kind == "deals":
            stage = self.stages.get(props.get("dealstage"))
            amount = props.get("amount") or ""
            won = stage is not None and stage.is_closed and stage.probability >= 1.0
            out = {
                "hs_is_closed": str(bool(stage and stage.is_closed)).lower(),
                "hs_is_closed_won": str(won).lower(),
                "hs_closed_amount": amount if won and amount else "0",
                "hs_closed_amount_in_home_currency": amount if won and amount else "0",
            }
            if stage is not None:
                out["hs_deal_stage_probability"] = str(stage.probability)
            if amount:
                out["amount_in_home_currency"] = amount
            return out
        return {}
