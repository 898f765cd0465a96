{#- One row per source identity (a MailChimp member across all its lists, a
    HubSpot contact) with the person it resolves to. A recipient seen in email
    events whose member row has not arrived (yet) is an inferred member, so
    every event has its person even after a partial sync. -#}
with

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

email_events as (

    -- every recipient of a send, open, click, bounce or unsubscribe, already
    -- unioned (and read incrementally) once
    select * from {{ ref('int_email_events_unioned') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

member_records as (

    select
        member_id,
        email,
        first_name,
        last_name,
        coalesce(opted_in_at, last_changed_at) as seen_at,
        is_archived,
        has_future_timestamp,
        false as is_inferred
    from members

),

recipients as (

    select
        member_id,
        email
    from email_events

),

inferred_records as (

    select distinct
        member_id,
        email,
        cast(null as varchar) as first_name,
        cast(null as varchar) as last_name,
        cast(null as timestamptz) as seen_at,
        false as is_archived,
        false as has_future_timestamp,
        true as is_inferred
    from recipients
    where not exists (
        select 1 from members
        where members.member_id = recipients.member_id
    )

),

mailchimp_records as (

    select * from member_records
    union all
    select * from inferred_records

),

mailchimp_identities as (

    -- member_id is md5(lower(email)): one identity across all its lists
    select
        'mailchimp' as source_system,
        member_id as source_id,
        min(email) as email,
        max(first_name) as first_name,
        max(last_name) as last_name,
        cast(null as varchar) as company_name,
        cast(null as varchar) as lifecycle_stage,
        cast(null as varchar) as owner_id,
        min(seen_at) as source_created_at,
        bool_and(is_archived) as is_deleted,
        bool_or(has_future_timestamp) as has_future_timestamp,
        bool_and(is_inferred) as is_inferred
    from mailchimp_records
    group by member_id

),

hubspot_identities as (

    select
        'hubspot' as source_system,
        contact_id as source_id,
        email,
        first_name,
        last_name,
        company_name,
        lifecycle_stage,
        owner_id,
        created_at as source_created_at,
        is_archived as is_deleted,
        has_future_timestamp,
        false as is_inferred
    from contacts

),

unioned as (

    select * from mailchimp_identities
    union all
    select * from hubspot_identities

),

resolved as (

    select
        {{ surrogate_key(['source_system', 'source_id']) }} as identity_key,
        source_system,
        source_id,
        case
            when source_system = 'hubspot'
                then {{ person_key('email', 'hubspot', 'source_id') }}
            else {{ person_key('email', 'mailchimp', 'source_id') }}
        end as person_key,
        email,
        {{ is_valid_email('email') }} as is_valid_email,
        first_name,
        last_name,
        company_name,
        lifecycle_stage,
        owner_id,
        source_created_at,
        is_deleted,
        has_future_timestamp,
        is_inferred
    from unioned

),

final as (

    select
        *,
        -- which record speaks for the person: live HubSpot contacts first,
        -- then the oldest, then the smallest id (deterministic)
        row_number() over (
            partition by person_key
            order by
                source_system = 'hubspot' desc,
                is_deleted asc,
                source_created_at asc nulls last,
                source_id asc
        ) as identity_rank
    from resolved

)

select * from final
