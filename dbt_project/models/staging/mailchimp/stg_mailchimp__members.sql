with

source as (

    select * from {{ raw_source('mailchimp', 'members') }}
    {{ exclude_quarantined('mailchimp', 'members', ['list_id', 'id']) }}

),

renamed as (

    select
        {{ surrogate_key(['list_id', 'id']) }} as list_member_key,
        id as member_id,
        list_id,
        email_address,
        {{ normalize_email('email_address') }} as email,
        {{ is_valid_email('email_address') }} as is_valid_email,
        status as subscription_status,
        status = 'subscribed' as is_subscribed,
        status = 'archived' as is_archived,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ unless_future('timestamp_opt', 'coalesce(last_changed, _extracted_at)') }}
            as opted_in_at,
        last_changed as last_changed_at,
        {{ is_future('timestamp_opt', 'coalesce(last_changed, _extracted_at)') }}
            as has_future_timestamp,
        member_rating,
        tags,
        coalesce(
            {{ json_array_field('tags', 'name', 'varchar') }},
            cast(array[] as varchar[])
        ) as tag_names,
        {{ json_text('_raw', '$.location.country_code') }} as country_code,
        {{ json_text('_raw', '$.location.timezone') }} as timezone,
        {{ try_cast_to(json_text('_raw', '$.stats.avg_open_rate'), 'double') }} as avg_open_rate,
        {{ try_cast_to(json_text('_raw', '$.stats.avg_click_rate'), 'double') }} as avg_click_rate,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
