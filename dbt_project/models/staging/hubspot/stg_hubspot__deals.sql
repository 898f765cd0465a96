with

source as (

    select * from {{ source('hubspot', 'deals') }}

),

casted as (

    select
        *,
        {{ hubspot_number('amount') }} as amount_number,
        {{ hubspot_timestamp('closedate') }} as closedate_ts,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('hs_lastmodifieddate') }} as lastmodifieddate_ts
    from source

),

renamed as (

    select
        id as deal_id,
        {{ clean_text('dealname') }} as deal_name,
        amount_number as amount,
        amount_number is null as has_missing_amount,
        pipeline as pipeline_id,
        dealstage as deal_stage_id,
        {{ surrogate_key(['pipeline', 'dealstage']) }} as deal_stage_key,
        {{ clean_text('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ unless_future('createdate_ts') }}, {{ unless_future('created_at') }}
        ) as created_at,
        {{ unless_future('closedate_ts') }} as closed_at,
        {{ unless_future('lastmodifieddate_ts') }} as last_modified_at,
        (
            {{ is_future('createdate_ts') }}
            or {{ is_future('created_at') }}
            or {{ is_future('closedate_ts') }}
            or {{ is_future('lastmodifieddate_ts') }}
        ) as has_future_timestamp,
        updated_at,
        archived as is_archived,
        archived_at,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
