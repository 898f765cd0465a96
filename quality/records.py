"""Record checks: which raw records the warehouse must not see, in DuckDB SQL.

Each `RecordCheck` is a predicate over one raw row (alias `r`) that is true for
a record to quarantine, with the reason in words. They run over the whole raw
table on every raw gate (a scan DuckDB does in milliseconds), so the quarantine
is recomputed each time: a record that is clean on its next sync is released.
Nothing is deleted from raw.

The rules, per docs/contracts.md §3:
- invalid_email: an email present (non-blank) that does not match the dbt
  `is_valid_email` pattern after trim/lower (a missing email is no reason);
- unknown_status: a member or campaign status, a contact lifecycle stage outside
  its vocabulary, a deal stage that is not a stage of the deal's pipeline;
- future_timestamp: later than its reference plus the tolerance. The reference
  is the extraction time, or the record's own last-modified time when earlier
  (the source's clock: a modification time is never ahead of the record's other
  timestamps), as dbt staging's `is_future` macro does. Campaign send times are
  left alone (a scheduled campaign's lies ahead), and a deal's close date counts
  only once the deal sits in a closed stage (open deals carry an expected date);
- unparseable_amount: a deal amount present, non-blank and not a decimal number
  (e.g. "1,234.50"), where dbt would cast it to null.

Live HubSpot contacts sharing one valid email (duplicate people) are reported as
a warning, not quarantined: dbt's identity resolution merges them.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.suites import CAMPAIGN_STATUSES, EMAIL_REGEX, LIFECYCLE_STAGES, MEMBER_STATUSES

#: The kinds of defect, as the quarantine's `reason` says them.
REASONS = {
    "invalid_email": "invalid email",
    "unknown_status": "unknown status",
    "future_timestamp": "future timestamp",
    "unparseable_amount": "unparseable amount",
}


@dataclass(frozen=True)
class RecordCheck:
    """One quarantine rule over one column of one raw table."""

    kind: str  # a key of REASONS
    source: str
    stream: str
    column: str
    bad: str  # SQL: true for a record to quarantine (the row is `r`)
    detail: str  # SQL VARCHAR: the offending value and what it was compared with

    @property
    def check_name(self) -> str:
        """The quarantine's `check_name`, e.g. `future_timestamp(createdate)`."""
        return f"{self.kind}({self.column})"

    @property
    def reason(self) -> str:
        return REASONS[self.kind]


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _col(name: str) -> str:
    return f'r."{name}"'


def _present(sql: str) -> str:
    return f"nullif(trim({sql}), '') IS NOT NULL"


def invalid_email(source: str, stream: str, column: str) -> RecordCheck:
    c = _col(column)
    return RecordCheck(
        "invalid_email",
        source,
        stream,
        column,
        f"{_present(c)} AND NOT regexp_full_match(lower(trim({c})), {_lit(EMAIL_REGEX)})",
        f"format('{column} {{}} is not an email address', to_json({c}))",
    )


def unknown_value(
    source: str, stream: str, column: str, values: tuple[str, ...], what: str
) -> RecordCheck:
    c = _col(column)
    vocabulary = ", ".join(_lit(v) for v in values)
    return RecordCheck(
        "unknown_status",
        source,
        stream,
        column,
        f"{_present(c)} AND {c} NOT IN ({vocabulary})",
        f"format('{column} {{}} is not a known {what}', to_json({c}))",
    )


def deal_stage_outside_pipeline() -> RecordCheck:
    return RecordCheck(
        "unknown_status",
        "hubspot",
        "deals",
        "dealstage",
        f"{_present('r.dealstage')} AND NOT EXISTS (SELECT 1 FROM raw_hubspot.deal_pipeline_stages"
        " s WHERE s.pipeline_id = r.pipeline AND s.id = r.dealstage)",
        "format('dealstage {} is not a stage of pipeline {}', to_json(r.dealstage), "
        "to_json(r.pipeline))",
    )


def hubspot_time(sql: str) -> str:
    """A HubSpot timestamp property: ISO-8601 text, or epoch milliseconds (or seconds)."""
    t = f"trim({sql})"
    return (
        f"CASE WHEN regexp_full_match({t}, '[0-9]{{12,13}}') THEN to_timestamp({t}::BIGINT / 1000)"
        f" WHEN regexp_full_match({t}, '[0-9]{{9,10}}') THEN to_timestamp({t}::BIGINT)"
        f" ELSE TRY_CAST(nullif({t}, '') AS TIMESTAMPTZ) END"
    )


def future(
    source: str,
    stream: str,
    column: str,
    *,
    value: str | None = None,
    reference: str = "r._extracted_at",
    only_if: str = "",
) -> RecordCheck:
    """`value` (default the typed column) later than `reference` + the tolerance, which
    the gate binds as the parameter `$tolerance_hours`."""
    ts = value or _col(column)
    ref = f"least({reference}, r._extracted_at)"
    bad = f"{ts} > {ref} + to_microseconds(CAST($tolerance_hours * 3600e6 AS BIGINT))"
    return RecordCheck(
        "future_timestamp",
        source,
        stream,
        column,
        f"{only_if} AND {bad}" if only_if else bad,
        f"format('{column} {{}} is later than {{}} (+ tolerance)', {ts}, {ref})",
    )


def unparseable_amount() -> RecordCheck:
    return RecordCheck(
        "unparseable_amount",
        "hubspot",
        "deals",
        "amount",
        f"{_present('r.amount')} AND TRY_CAST(trim(r.amount) AS DECIMAL(18, 2)) IS NULL",
        "format('amount {} is not a number', to_json(r.amount))",
    )


def _hubspot_object(stream: str, modified: str) -> list[RecordCheck]:
    mod_ts = hubspot_time(_col(modified))
    ref = f"coalesce({mod_ts}, r.updated_at)"
    return [
        future("hubspot", stream, modified, value=mod_ts),
        future("hubspot", stream, "updated_at"),
        future("hubspot", stream, "createdate", value=hubspot_time("r.createdate"), reference=ref),
        future("hubspot", stream, "created_at", reference=ref),
    ]


CLOSED_STAGE = (
    "EXISTS (SELECT 1 FROM raw_hubspot.deal_pipeline_stages s WHERE s.pipeline_id = r.pipeline "
    "AND s.id = r.dealstage AND s.is_closed)"
)

RECORD_CHECKS: list[RecordCheck] = [
    invalid_email("mailchimp", "members", "email_address"),
    unknown_value("mailchimp", "members", "status", MEMBER_STATUSES, "member status"),
    future("mailchimp", "members", "last_changed"),
    future("mailchimp", "members", "timestamp_opt", reference="r.last_changed"),
    future("mailchimp", "lists", "date_created"),
    unknown_value("mailchimp", "campaigns", "status", CAMPAIGN_STATUSES, "campaign status"),
    future("mailchimp", "campaigns", "create_time"),
    future("mailchimp", "reports", "send_time"),
    future("mailchimp", "sent_to", "last_open"),
    future("mailchimp", "email_activity", "timestamp"),
    future("mailchimp", "unsubscribes", "timestamp"),
    invalid_email("hubspot", "contacts", "email"),
    unknown_value("hubspot", "contacts", "lifecyclestage", LIFECYCLE_STAGES, "lifecycle stage"),
    *_hubspot_object("contacts", "lastmodifieddate"),
    *_hubspot_object("companies", "hs_lastmodifieddate"),
    deal_stage_outside_pipeline(),
    unparseable_amount(),
    *_hubspot_object("deals", "hs_lastmodifieddate"),
    future(
        "hubspot",
        "deals",
        "closedate",
        value=hubspot_time("r.closedate"),
        reference=f"coalesce({hubspot_time('r.hs_lastmodifieddate')}, r.updated_at)",
        only_if=CLOSED_STAGE,
    ),
    future("hubspot", "owners", "created_at"),
    future("hubspot", "owners", "updated_at"),
]


#: (source, stream, email column): one person, one live record. Duplicates are reported
#: (a warning: dbt's identity resolution merges them), not quarantined.
DUPLICATE_PEOPLE = [("hubspot", "contacts", "email")]


def record_key(key: tuple[str, ...]) -> str:
    """The store's `record_key`: key values as VARCHAR joined with '|' (as dbt's macro)."""
    parts = ", ".join(f'CAST(r."{k}" AS VARCHAR)' for k in key)
    return f"concat_ws('|', {parts})"


def candidates_sql(checks: list[RecordCheck], key: tuple[str, ...]) -> str:
    """One stream's failing records: one row per (record, check)."""
    first = checks[0]
    table = f'raw_{first.source}."{first.stream}"'
    return " UNION ALL ".join(
        f"SELECT {record_key(key)} AS record_key, {_lit(c.check_name)} AS check_name, "
        f"{_lit(c.kind)} AS kind, {_lit(c.column)} AS column_name, {_lit(c.reason)} AS reason, "
        f"{c.detail} AS detail, r._sync_id AS sync_id FROM {table} r WHERE {c.bad}"
        for c in checks
    )


def duplicate_people_sql(source: str, stream: str, column: str, key: tuple[str, ...]) -> str:
    """Live records sharing one valid email (after trim/lower): one row per email."""
    email = f"lower(trim({_col(column)}))"
    return (
        f"SELECT {email} AS email, list({record_key(key)} ORDER BY {record_key(key)}) AS keys "
        f'FROM raw_{source}."{stream}" r WHERE NOT coalesce(r.archived, false) '
        f"AND regexp_full_match({email}, {_lit(EMAIL_REGEX)}) GROUP BY 1 HAVING count(*) > 1 "
        "ORDER BY 1"
    )
