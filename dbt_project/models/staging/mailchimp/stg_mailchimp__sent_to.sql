with

source as (

    select * from {{ raw_source('mailchimp', 'sent_to') }}
    {{ exclude_quarantined('mailchimp', 'sent_to', ['campaign_id', 'email_id']) }}

),

renamed as (

    select
        {{ surrogate_key(['campaign_id', 'email_id']) }} as recipient_key,
        campaign_id,
        list_id,
        email_id as member_id,
        email_address,
        {{ normalize_email('email_address') }} as email,
        {{ is_valid_email('email_address') }} as is_valid_email,
        status as delivery_status,
        open_count,
        last_open as last_opened_at,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
