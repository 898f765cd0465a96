with

source as (

    select * from {{ raw_source('hubspot', 'contact_companies') }}
    {{ exclude_quarantined('hubspot', 'contact_companies', ['contact_id', 'company_id']) }}

),

renamed as (

    select
        {{ surrogate_key(['contact_id', 'company_id']) }} as association_key,
        contact_id,
        company_id,
        association_types,
        {{ association_type_ids('association_types') }} as association_type_ids,
        {{ association_is_primary('association_types') }} as is_primary,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
