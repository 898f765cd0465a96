-- Won revenue is the same in fct_deals, mart_marketing_funnel and raw HubSpot
-- (live deals in stage closedwon, blank amounts count as nothing). Raw values are
-- read from the `properties` JSON, as the API sent them.
with

raw_won as (

    select
        coalesce(
            sum(
                try_cast(
                    nullif(trim(json_extract_string(properties, '$.amount')), '')
                    as decimal(18, 2)
                )
            ),
            0
        ) as revenue
    from {{ source('hubspot', 'deals') }}
    where json_extract_string(properties, '$.dealstage') = 'closedwon' and not archived

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
