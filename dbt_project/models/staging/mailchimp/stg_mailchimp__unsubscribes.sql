with

source as (

    select * from {{ raw_source('mailchimp', 'unsubscribes') }}
    {{ exclude_quarantined('mailchimp', 'unsubscribes', ['campaign_id', 'email_id']) }}

),

renamed as (

    select
        {{ surrogate_key(['campaign_id', 'email_id']) }} as unsubscribe_key,
        campaign_id,
        list_id,
        email_id as member_id,
        email_address,
        {{ normalize_email('email_address') }} as email,
        {{ is_valid_email('email_address') }} as is_valid_email,
        {{ unless_future('timestamp') }} as unsubscribed_at,
        {{ is_future('timestamp') }} as has_future_timestamp,
        {{ clean_text('reason') }} as reason,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
