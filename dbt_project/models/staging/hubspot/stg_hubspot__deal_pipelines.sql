with

source as (

    select * from {{ raw_source('hubspot', 'deal_pipelines') }}
    {{ exclude_quarantined('hubspot', 'deal_pipelines', ['id']) }}

),

renamed as (

    select
        id as pipeline_id,
        label as pipeline_label,
        display_order,
        coalesce(archived, false) as is_archived,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
