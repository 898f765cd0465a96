{#- Pipeline stages with their pipeline and funnel step. The seed classifies the
    known stages; a stage it does not know falls back to HubSpot's own
    metadata (closed with probability 1 = won, closed otherwise = lost). -#}
with

stages as (

    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}

),

pipelines as (

    select * from {{ ref('stg_hubspot__deal_pipelines') }}

),

funnel_steps as (

    select * from {{ ref('deal_stage_funnel_steps') }}

),

final as (

    select
        stages.deal_stage_key,
        stages.pipeline_id,
        pipelines.pipeline_label,
        stages.deal_stage_id,
        stages.deal_stage_label,
        stages.display_order,
        stages.probability,
        stages.is_closed,
        coalesce(
            funnel_steps.is_won, stages.is_closed and stages.probability >= 1.0
        ) as is_won,
        coalesce(
            funnel_steps.is_lost, stages.is_closed and coalesce(stages.probability, 0) < 1.0
        ) as is_lost,
        coalesce(
            funnel_steps.funnel_step,
            case
                when stages.is_closed and stages.probability >= 1.0 then 'won'
                when stages.is_closed then 'lost'
                else 'open'
            end
        ) as funnel_step,
        coalesce(funnel_steps.funnel_step_order, stages.display_order + 1) as funnel_step_order,
        stages.is_archived
    from stages
    left join pipelines on stages.pipeline_id = pipelines.pipeline_id
    left join funnel_steps on stages.deal_stage_id = funnel_steps.deal_stage_id

)

select * from final
