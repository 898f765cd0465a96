{#- Campaign -> deal attribution: {{ doc('attribution_window') }} -#}
with

events as (

    select * from {{ ref('int_email_events_unioned') }}

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_bridged') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

stages as (

    select * from {{ ref('int_deal_stages_classified') }}

),

engagements as (

    select
        campaign_id,
        person_key,
        occurred_at as engaged_at
    from events
    where event_type in ('open', 'click') and occurred_at is not null

),

creditable_deals as (

    select
        deals.deal_id,
        deals.created_at,
        deals.amount,
        coalesce(stages.is_won, false) as is_won
    from deals
    left join stages on deals.deal_stage_key = stages.deal_stage_key
    where not deals.is_archived and deals.created_at is not null

),

deal_people as (

    select distinct
        deal_id,
        person_key
    from deal_contacts

),

matched as (

    select
        engagements.campaign_id,
        creditable_deals.deal_id,
        creditable_deals.amount,
        creditable_deals.is_won,
        creditable_deals.created_at as deal_created_at,
        engagements.engaged_at
    from creditable_deals
    inner join deal_people on creditable_deals.deal_id = deal_people.deal_id
    inner join engagements
        on
            deal_people.person_key = engagements.person_key
            and creditable_deals.created_at >= engagements.engaged_at
            and creditable_deals.created_at
            <= {{ add_interval('engagements.engaged_at', var('attribution_window_days'), 'day') }}

),

final as (

    select
        {{ surrogate_key(['campaign_id', 'deal_id']) }} as campaign_deal_key,
        campaign_id,
        deal_id,
        {{ any_value_of('amount') }} as amount,
        bool_or(is_won) as is_won,
        {{ any_value_of('deal_created_at') }} as deal_created_at,
        min(engaged_at) as first_engaged_at,
        max(engaged_at) as last_engaged_at
    from matched
    group by campaign_id, deal_id

)

select * from final
