{#- One row per source identity (a MailChimp member across its lists, a HubSpot
    contact) with the person it resolves to. -#}
with

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

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
        min(coalesce(opted_in_at, last_changed_at)) as source_created_at,
        bool_and(is_archived) as is_deleted,
        bool_or(has_future_timestamp) as has_future_timestamp
    from members
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
        has_future_timestamp
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
        has_future_timestamp
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
