with

source as (

    select * from {{ source('hubspot', 'companies') }}

),

casted as (

    select
        *,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('hs_lastmodifieddate') }} as lastmodifieddate_ts
    from source

),

renamed as (

    select
        id as company_id,
        {{ clean_text('name') }} as company_name,
        lower({{ clean_text('domain') }}) as company_domain,
        {{ clean_text('industry') }} as industry,
        {{ clean_text('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ unless_future('createdate_ts') }}, {{ unless_future('created_at') }}
        ) as created_at,
        {{ unless_future('lastmodifieddate_ts') }} as last_modified_at,
        (
            {{ is_future('createdate_ts') }}
            or {{ is_future('created_at') }}
            or {{ is_future('lastmodifieddate_ts') }}
        ) as has_future_timestamp,
        updated_at,
        archived as is_archived,
        archived_at,
        json_extract_string(properties, '$.city') as city,
        json_extract_string(properties, '$.country') as country,
        {{ hubspot_number("json_extract_string(properties, '$.numberofemployees')", 'integer') }}
            as number_of_employees,
        {{ hubspot_number("json_extract_string(properties, '$.annualrevenue')") }}
            as annual_revenue,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
