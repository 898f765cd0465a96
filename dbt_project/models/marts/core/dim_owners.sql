with

owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

final as (

    select
        owner_id,
        email,
        first_name,
        last_name,
        nullif(concat_ws(' ', first_name, last_name), '') as full_name,
        user_id,
        created_at,
        updated_at,
        is_archived as is_deleted
    from owners

)

select * from final
