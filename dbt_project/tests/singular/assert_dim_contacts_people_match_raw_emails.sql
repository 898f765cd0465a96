-- People with a valid email in dim_contacts = distinct normalised valid emails
-- across both raw sources; people without one = raw records that have none
-- (distinct MailChimp member ids + HubSpot contacts). Returns rows on mismatch.
with

raw_emails as (

    select email_address as email_raw from {{ source('mailchimp', 'members') }}
    union all
    select json_extract_string(properties, '$.email') as email_raw
    from {{ source('hubspot', 'contacts') }}

),

expected_valid as (

    select count(distinct {{ normalize_email('email_raw') }}) as n
    from raw_emails
    where {{ is_valid_email('email_raw') }}

),

expected_invalid as (

    select
        (
            select count(distinct id) from {{ source('mailchimp', 'members') }}
            where not {{ is_valid_email('email_address') }}
        )
        + (
            select count(*) from {{ source('hubspot', 'contacts') }}
            where not {{ is_valid_email("json_extract_string(properties, '$.email')") }}
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
