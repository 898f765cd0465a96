with

people as (

    select * from {{ ref('int_people_resolved') }}

),

identities as (

    select * from {{ ref('int_identities_resolved') }}

),

members as (

    select * from {{ ref('stg_mailchimp__members') }}

),

contact_companies as (

    select * from {{ ref('int_contact_companies_bridged') }}
    where is_primary_company

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

events as (

    select * from {{ ref('int_email_events_unioned') }}

),

subscriptions as (

    select
        identities.person_key,
        {{ json_object_agg('members.list_id', 'members.subscription_status') }}
            as subscription_status_by_list,
        count(*) as list_count,
        count(*) filter (where members.is_subscribed) as subscribed_list_count,
        min(members.opted_in_at) as first_opted_in_at
    from members
    inner join identities
        on
            identities.source_system = 'mailchimp'
            and members.member_id = identities.source_id
    group by identities.person_key

),

engagement as (

    select
        person_key,
        max(occurred_at) filter (where event_type in ('open', 'click')) as last_engaged_at,
        min(occurred_at) filter (where event_type in ('open', 'click')) as first_engaged_at,
        min(occurred_at) as first_event_at
    from events
    group by person_key

),

final as (

    select
        people.person_key,
        people.email,
        people.has_valid_email,
        people.hubspot_contact_id,
        people.hubspot_contact_ids,
        people.hubspot_contact_count,
        people.has_duplicate_hubspot_contacts,
        people.mailchimp_member_id,
        people.first_name,
        people.last_name,
        nullif(concat_ws(' ', people.first_name, people.last_name), '') as full_name,
        contact_companies.company_id,
        coalesce(companies.company_name, people.company_name) as company_name,
        people.owner_id,
        people.lifecycle_stage,
        coalesce(subscriptions.subscription_status_by_list, '{}') as subscription_status_by_list,
        coalesce(subscriptions.list_count, 0) as list_count,
        coalesce(subscriptions.subscribed_list_count, 0) as subscribed_list_count,
        coalesce(subscriptions.subscribed_list_count, 0) > 0 as is_subscribed,
        subscriptions.first_opted_in_at,
        least(people.first_seen_at, engagement.first_event_at) as first_seen_at,
        engagement.first_engaged_at,
        engagement.last_engaged_at,
        people.is_in_mailchimp,
        people.is_in_hubspot,
        people.is_in_both_tools,
        people.is_deleted,
        people.has_future_timestamp,
        people.is_known_only_from_email_events
    from people
    left join contact_companies on people.hubspot_contact_id = contact_companies.contact_id
    left join companies on contact_companies.company_id = companies.company_id
    left join subscriptions on people.person_key = subscriptions.person_key
    left join engagement on people.person_key = engagement.person_key

)

select * from final
