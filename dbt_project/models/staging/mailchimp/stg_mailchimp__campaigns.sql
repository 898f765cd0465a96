with

source as (

    select * from {{ raw_source('mailchimp', 'campaigns') }}
    {{ exclude_quarantined('mailchimp', 'campaigns', ['id']) }}

),

renamed as (

    select
        id as campaign_id,
        type as campaign_type,
        status as campaign_status,
        {{ clean_text('title') }} as campaign_title,
        subject_line,
        list_id,
        {{ json_text('_raw', '$.settings.from_name') }} as from_name,
        {{ json_text('_raw', '$.settings.reply_to') }} as reply_to,
        create_time as created_at,
        send_time as sent_at,
        emails_sent,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
