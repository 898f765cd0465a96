with

source as (

    select * from {{ raw_source('hubspot', 'deal_pipeline_stages') }}
    {{ exclude_quarantined('hubspot', 'deal_pipeline_stages', ['pipeline_id', 'id']) }}

),

renamed as (

    select
        {{ surrogate_key(['pipeline_id', 'id']) }} as deal_stage_key,
        pipeline_id,
        id as deal_stage_id,
        label as deal_stage_label,
        display_order,
        coalesce(is_closed, false) as is_closed,
        probability,
        coalesce(archived, false) as is_archived,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
