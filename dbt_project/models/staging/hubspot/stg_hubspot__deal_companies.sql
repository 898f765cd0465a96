with

source as (

    select * from {{ source('hubspot', 'deal_companies') }}

),

renamed as (

    select
        {{ surrogate_key(['deal_id', 'company_id']) }} as association_key,
        deal_id,
        company_id,
        association_types,
        coalesce(
            cast(json_extract(association_types, '$[*].typeId') as integer[]),
            cast([] as integer[])
        ) as association_type_ids,
        coalesce(
            list_contains(
                cast(json_extract_string(association_types, '$[*].label') as varchar[]),
                'Primary'
            ),
            false
        ) as is_primary,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
