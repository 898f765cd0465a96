{#- The HubSpot properties this model reads: those the loader also lands as
    typed raw columns (the property wins, the column is the fallback), and
    those read from `properties` only. Parsed once per row. -#}
{%- set typed_properties = [
    'dealname',
    'amount',
    'dealstage',
    'pipeline',
    'closedate',
    'createdate',
    'hs_lastmodifieddate',
    'hubspot_owner_id',
] -%}
{%- set json_only_properties = [] -%}
with

source as (

    select
        *,
        {{ hubspot_parse_properties(typed_properties + json_only_properties) }}
    from {{ raw_source('hubspot', 'deals') }}
    {{ exclude_quarantined('hubspot', 'deals', ['id']) }}

),

properties as (

    select
        {{ star_except(source('hubspot', 'deals'), typed_properties) }},
        {{ hubspot_property('dealname') }} as dealname,
        {{ hubspot_property('amount') }} as amount,
        {{ hubspot_property('dealstage') }} as dealstage,
        {{ hubspot_property('pipeline') }} as pipeline,
        {{ hubspot_property('closedate') }} as closedate,
        {{ hubspot_property('createdate') }} as createdate,
        {{ hubspot_property('hs_lastmodifieddate') }} as hs_lastmodifieddate,
        {{ hubspot_property('hubspot_owner_id') }} as hubspot_owner_id
    from source

),

casted as (

    select
        *,
        {{ hubspot_number('amount') }} as amount_number,
        {{ hubspot_timestamp('closedate') }} as closedate_ts,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('hs_lastmodifieddate') }} as lastmodifieddate_ts,
        coalesce(
            {{ hubspot_timestamp('hs_lastmodifieddate') }}, updated_at, _extracted_at
        ) as modified_reference
    from properties

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
            {{ unless_future('createdate_ts', 'modified_reference') }},
            {{ unless_future('created_at', 'modified_reference') }}
        ) as created_at,
        -- expected close for open deals (may be ahead), actual close for closed
        closedate_ts as close_date,
        {{ is_future('closedate_ts', 'modified_reference') }} as is_close_date_after_last_change,
        lastmodifieddate_ts as last_modified_at,
        (
            {{ is_future('createdate_ts', 'modified_reference') }}
            or {{ is_future('created_at', 'modified_reference') }}
        ) as has_future_created_date,
        updated_at,
        archived as is_archived,
        archived_at,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
