with

source as (

    select * from {{ raw_source('hubspot', 'owners') }}
    {{ exclude_quarantined('hubspot', 'owners', ['id']) }}

),

renamed as (

    select
        id as owner_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        user_id,
        created_at,
        updated_at,
        coalesce(archived, false) as is_archived,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
