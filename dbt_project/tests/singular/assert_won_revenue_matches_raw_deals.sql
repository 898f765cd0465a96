-- Won revenue is the same in fct_deals, mart_marketing_funnel and raw HubSpot
-- (live deals in a won stage of their pipeline: closed with probability 1, as
-- HubSpot's stage metadata says; blank amounts count as nothing). Raw values are
-- read from the `properties` JSON, as the API sent them. Records the quality
-- gates hold back are left out, as staging leaves them out.
with

deal_pipeline_stages as (

    select * from {{ raw_source('hubspot', 'deal_pipeline_stages') }}
    {{ exclude_quarantined('hubspot', 'deal_pipeline_stages', ['pipeline_id', 'id']) }}

),

deals as (

    select * from {{ raw_source('hubspot', 'deals') }}
    {{ exclude_quarantined('hubspot', 'deals', ['id']) }}

),

won_stages as (

    select
        pipeline_id,
        id as stage_id
    from deal_pipeline_stages
    where is_closed and probability >= 1.0

),

raw_won as (

    select
        coalesce(
            sum(
                {{ try_cast_to(
                    "nullif(trim(" ~ json_text('properties', '$.amount') ~ "), '')",
                    'decimal(18, 2)'
                ) }}
            ),
            0
        ) as revenue
    from deals
    inner join won_stages
        on
            {{ json_text('deals.properties', '$.pipeline') }} = won_stages.pipeline_id
            and {{ json_text('deals.properties', '$.dealstage') }} = won_stages.stage_id
    where not deals.archived

),

fct_won as (

    select coalesce(sum(amount), 0) as revenue
    from {{ ref('fct_deals') }}
    where is_won and not is_deleted

),

funnel_won as (

    select coalesce(sum(won_revenue), 0) as revenue
    from {{ ref('mart_marketing_funnel') }}

)

select
    raw_won.revenue as raw_revenue,
    fct_won.revenue as fct_revenue,
    funnel_won.revenue as funnel_revenue
from raw_won
cross join fct_won
cross join funnel_won
where raw_won.revenue != fct_won.revenue or raw_won.revenue != funnel_won.revenue
