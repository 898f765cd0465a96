with

stages as (

    select * from {{ ref('int_deal_stages_classified') }}

),

final as (

    select
        deal_stage_key,
        pipeline_id,
        pipeline_label,
        deal_stage_id,
        deal_stage_label,
        display_order,
        probability,
        is_closed,
        is_won,
        is_lost,
        funnel_step,
        funnel_step_order,
        is_archived as is_deleted
    from stages

)

select * from final
