{#- One row per person: identities collapsed on person_key, attributes taken
    from the best-ranked identity that has them. -#}
with

identities as (

    select * from {{ ref('int_identities_resolved') }}

),

people as (

    select
        person_key,
        {{ arg_min('email', 'identity_rank') }} as email,
        bool_or(is_valid_email) as has_valid_email,
        {{ arg_min('source_id', 'identity_rank', "source_system = 'hubspot'") }}
            as hubspot_contact_id,
        {{ list_agg('source_id', 'identity_rank', "source_system = 'hubspot'") }}
            as hubspot_contact_ids,
        min(source_id) filter (where source_system = 'mailchimp') as mailchimp_member_id,
        count(*) filter (where source_system = 'hubspot') as hubspot_contact_count,
        {{ arg_min('first_name', 'identity_rank', 'first_name is not null') }} as first_name,
        {{ arg_min('last_name', 'identity_rank', 'last_name is not null') }} as last_name,
        {{ arg_min('company_name', 'identity_rank', 'company_name is not null') }}
            as company_name,
        {{ arg_min('lifecycle_stage', 'identity_rank', 'lifecycle_stage is not null') }}
            as lifecycle_stage,
        {{ arg_min('owner_id', 'identity_rank', 'owner_id is not null') }} as owner_id,
        min(source_created_at) as first_seen_at,
        bool_or(source_system = 'mailchimp') as is_in_mailchimp,
        bool_or(source_system = 'hubspot') as is_in_hubspot,
        bool_and(is_deleted) as is_deleted,
        bool_or(has_future_timestamp) as has_future_timestamp,
        bool_and(is_inferred) as is_known_only_from_email_events
    from identities
    group by person_key

),

final as (

    select
        person_key,
        email,
        has_valid_email,
        hubspot_contact_id,
        coalesce(hubspot_contact_ids, cast(array[] as varchar[])) as hubspot_contact_ids,
        mailchimp_member_id,
        hubspot_contact_count,
        hubspot_contact_count > 1 as has_duplicate_hubspot_contacts,
        first_name,
        last_name,
        company_name,
        lifecycle_stage,
        owner_id,
        first_seen_at,
        is_in_mailchimp,
        is_in_hubspot,
        is_in_mailchimp and is_in_hubspot as is_in_both_tools,
        is_deleted,
        has_future_timestamp,
        is_known_only_from_email_events
    from people

)

select * from final
