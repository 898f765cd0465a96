{#- By month: how many people reached each funnel step for the first time in
    that month (subscribed -> engaged -> CRM contact -> deal -> won), plus the
    won deals and revenue booked in the month. Deleted people and deals are
    left out. -#}
with

contacts as (

    select * from {{ ref('dim_contacts') }}

),

deals as (

    select * from {{ ref('fct_deals') }}

),

live_contacts as (

    select * from contacts
    where not is_deleted

),

live_deals as (

    select * from deals
    where not is_deleted

),

identities as (

    select * from {{ ref('int_identities_resolved') }}
    where source_system = 'hubspot'

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_bridged') }}

),

first_crm as (

    select
        person_key,
        min(source_created_at) as reached_at
    from identities
    group by person_key

),

person_deals as (

    select
        deal_contacts.person_key,
        min(live_deals.created_at) as first_deal_at,
        min(live_deals.booked_at) filter (where live_deals.is_won) as first_won_at
    from deal_contacts
    inner join live_deals on deal_contacts.deal_id = live_deals.deal_id
    group by deal_contacts.person_key

),

steps as (

    select
        'subscribed' as step,
        person_key,
        first_opted_in_at as reached_at
    from live_contacts
    union all
    select
        'engaged' as step,
        person_key,
        first_engaged_at as reached_at
    from live_contacts
    union all
    select
        'crm_contact' as step,
        live_contacts.person_key,
        first_crm.reached_at
    from live_contacts
    inner join first_crm on live_contacts.person_key = first_crm.person_key
    union all
    select
        'deal' as step,
        live_contacts.person_key,
        person_deals.first_deal_at as reached_at
    from live_contacts
    inner join person_deals on live_contacts.person_key = person_deals.person_key
    union all
    select
        'won' as step,
        live_contacts.person_key,
        person_deals.first_won_at as reached_at
    from live_contacts
    inner join person_deals on live_contacts.person_key = person_deals.person_key

),

people_by_month as (

    select
        date_trunc('month', reached_at) as month_start,
        count(distinct person_key) filter (where step = 'subscribed') as subscribed_people,
        count(distinct person_key) filter (where step = 'engaged') as engaged_people,
        count(distinct person_key) filter (where step = 'crm_contact') as crm_contacts,
        count(distinct person_key) filter (where step = 'deal') as people_with_deals,
        count(distinct person_key) filter (where step = 'won') as won_people
    from steps
    where reached_at is not null
    group by date_trunc('month', reached_at)

),

deals_by_month as (

    select
        date_trunc('month', booked_at) as month_start,
        count(*) as won_deals,
        coalesce(sum(amount), 0) as won_revenue
    from live_deals
    where is_won
    group by date_trunc('month', booked_at)

),

months as (

    select month_start from people_by_month
    union
    select month_start from deals_by_month

),

final as (

    select
        cast(months.month_start as date) as month_start,
        coalesce(people_by_month.subscribed_people, 0) as subscribed_people,
        coalesce(people_by_month.engaged_people, 0) as engaged_people,
        coalesce(people_by_month.crm_contacts, 0) as crm_contacts,
        coalesce(people_by_month.people_with_deals, 0) as people_with_deals,
        coalesce(people_by_month.won_people, 0) as won_people,
        coalesce(deals_by_month.won_deals, 0) as won_deals,
        coalesce(deals_by_month.won_revenue, 0) as won_revenue
    from months
    left join people_by_month on months.month_start = people_by_month.month_start
    left join deals_by_month on months.month_start = deals_by_month.month_start

)

select * from final
