-- When did each deal move to closedwon? The first SCD2 version of the deal
-- in that stage (snapshot history starts at the first `dbt build`).
with

deal_versions as (

    select * from {{ ref('snap_hubspot__deals') }}

),

final as (

    select
        deal_id,
        min(dbt_valid_from) as moved_to_closed_won_at
    from deal_versions
    where deal_stage_id = 'closedwon'
    group by deal_id

)

select * from final
