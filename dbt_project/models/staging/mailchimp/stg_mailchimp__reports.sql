with

source as (

    select * from {{ raw_source('mailchimp', 'reports') }}
    {{ exclude_quarantined('mailchimp', 'reports', ['id']) }}

),

renamed as (

    select
        id as campaign_id,
        campaign_title,
        list_id,
        send_time as sent_at,
        emails_sent,
        abuse_reports,
        unsubscribed as unsubscribes,
        hard_bounces,
        soft_bounces,
        {{ try_cast_to(json_text('_raw', '$.bounces.syntax_errors'), 'integer') }} as syntax_errors,
        {{ try_cast_to(json_text('_raw', '$.forwards.forwards_count'), 'integer') }} as forwards,
        opens_total,
        unique_opens,
        open_rate,
        clicks_total,
        unique_clicks,
        click_rate,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from source

)

select * from renamed
