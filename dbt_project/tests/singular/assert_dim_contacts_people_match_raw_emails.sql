-- People with a valid email in dim_contacts = distinct normalised valid emails
-- across both raw sources (MailChimp members and the recipients of its email
-- events, HubSpot contacts); people without one = raw records that have none
-- (distinct MailChimp member ids + HubSpot contacts). Records the quality gates
-- hold back are left out, as staging leaves them out. Returns rows on mismatch.
with

members as (

    select * from {{ raw_source('mailchimp', 'members') }}
    {{ exclude_quarantined('mailchimp', 'members', ['list_id', 'id']) }}

),

sent_to as (

    select * from {{ raw_source('mailchimp', 'sent_to') }}
    {{ exclude_quarantined('mailchimp', 'sent_to', ['campaign_id', 'email_id']) }}

),

email_activity as (

    select * from {{ raw_source('mailchimp', 'email_activity') }}
    {{ exclude_quarantined('mailchimp', 'email_activity', ['activity_id']) }}

),

unsubscribes as (

    select * from {{ raw_source('mailchimp', 'unsubscribes') }}
    {{ exclude_quarantined('mailchimp', 'unsubscribes', ['campaign_id', 'email_id']) }}

),

contacts as (

    select * from {{ raw_source('hubspot', 'contacts') }}
    {{ exclude_quarantined('hubspot', 'contacts', ['id']) }}

),

raw_recipients as (

    select
        id as email_id,
        email_address
    from members
    union all
    select
        email_id,
        email_address
    from sent_to
    union all
    select
        email_id,
        email_address
    from email_activity
    union all
    select
        email_id,
        email_address
    from unsubscribes

),

raw_emails as (

    select email_address as email_raw from raw_recipients
    union all
    select {{ json_text('properties', '$.email') }} as email_raw
    from contacts

),

expected_valid as (

    select count(distinct {{ normalize_email('email_raw') }}) as n
    from raw_emails
    where {{ is_valid_email('email_raw') }}

),

expected_invalid as (

    select
        (
            select count(distinct email_id) from raw_recipients
            where not {{ is_valid_email('email_address') }}
        )
        + (
            select count(*) from contacts
            where not {{ is_valid_email(json_text('properties', '$.email')) }}
        ) as n

),

actual as (

    select
        count(*) filter (where has_valid_email) as n_valid,
        count(*) filter (where not has_valid_email) as n_invalid
    from {{ ref('dim_contacts') }}

)

select
    actual.n_valid,
    expected_valid.n as expected_valid,
    actual.n_invalid,
    expected_invalid.n as expected_invalid
from actual
cross join expected_valid
cross join expected_invalid
where actual.n_valid != expected_valid.n or actual.n_invalid != expected_invalid.n
