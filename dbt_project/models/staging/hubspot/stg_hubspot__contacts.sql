with

source as (

    select * from {{ source('hubspot', 'contacts') }}

),

casted as (

    select
        *,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('lastmodifieddate') }} as lastmodifieddate_ts
    from source

),

renamed as (

    select
        id as contact_id,
        email as email_address,
        {{ normalize_email('email') }} as email,
        {{ is_valid_email('email') }} as is_valid_email,
        {{ clean_text('firstname') }} as first_name,
        {{ clean_text('lastname') }} as last_name,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('lifecyclestage') }} as lifecycle_stage,
        {{ clean_text('hubspot_owner_id') }} as owner_id,
        {{ clean_text('associatedcompanyid') }} as associated_company_id,
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
        json_extract_string(properties, '$.phone') as phone,
        json_extract_string(properties, '$.jobtitle') as job_title,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
