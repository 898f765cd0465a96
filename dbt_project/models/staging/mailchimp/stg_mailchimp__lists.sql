with

source as (

    select * from {{ raw_source('mailchimp', 'lists') }}
    {{ exclude_quarantined('mailchimp', 'lists', ['id']) }}

),

renamed as (

    select
        id as list_id,
        name as list_name,
        date_created as created_at,
        list_rating,
        member_count,
        unsubscribe_count,
        cleaned_count,
        {{ json_text('_raw', '$.campaign_defaults.from_name') }} as default_from_name,
        {{ json_text('_raw', '$.campaign_defaults.from_email') }} as default_from_email,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
