with

source as (

    select * from {{ raw_source('mailchimp', 'email_activity') }}
    {{ exclude_quarantined('mailchimp', 'email_activity', ['activity_id']) }}

),

renamed as (

    select
        activity_id,
        campaign_id,
        list_id,
        email_id as member_id,
        email_address,
        {{ normalize_email('email_address') }} as email,
        {{ is_valid_email('email_address') }} as is_valid_email,
        action,
        {{ unless_future('timestamp') }} as occurred_at,
        {{ is_future('timestamp') }} as has_future_timestamp,
        url,
        ip,
        bounce_type,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
