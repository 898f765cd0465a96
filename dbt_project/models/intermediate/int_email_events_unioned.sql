{#- Every email event in one shape: sends from `sent_to` (timed at the
    campaign's send time), opens/clicks/bounces from `email_activity`,
    unsubscribes from `unsubscribes`. The event id is stable across runs. -#}
with

sent_to as (

    select * from {{ ref('stg_mailchimp__sent_to') }}

),

activity as (

    select * from {{ ref('stg_mailchimp__email_activity') }}

),

unsubscribes as (

    select * from {{ ref('stg_mailchimp__unsubscribes') }}

),

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

sends as (

    select
        md5('send|' || sent_to.campaign_id || '|' || sent_to.member_id) as event_id,
        'send' as event_type,
        sent_to.campaign_id,
        sent_to.list_id,
        sent_to.member_id,
        sent_to.email,
        sent_to.is_valid_email,
        campaigns.sent_at as occurred_at,
        false as has_future_timestamp,
        sent_to.delivery_status,
        cast(null as varchar) as url,
        cast(null as varchar) as bounce_type,
        cast(null as varchar) as unsubscribe_reason,
        sent_to.extracted_at
    from sent_to
    left join campaigns on sent_to.campaign_id = campaigns.campaign_id

),

actions as (

    select
        activity_id as event_id,
        action as event_type,
        campaign_id,
        list_id,
        member_id,
        email,
        is_valid_email,
        occurred_at,
        has_future_timestamp,
        cast(null as varchar) as delivery_status,
        url,
        bounce_type,
        cast(null as varchar) as unsubscribe_reason,
        extracted_at
    from activity

),

unsubscribe_events as (

    select
        md5('unsubscribe|' || campaign_id || '|' || member_id) as event_id,
        'unsubscribe' as event_type,
        campaign_id,
        list_id,
        member_id,
        email,
        is_valid_email,
        unsubscribed_at as occurred_at,
        has_future_timestamp,
        cast(null as varchar) as delivery_status,
        cast(null as varchar) as url,
        cast(null as varchar) as bounce_type,
        reason as unsubscribe_reason,
        extracted_at
    from unsubscribes

),

unioned as (

    select * from sends
    union all
    select * from actions
    union all
    select * from unsubscribe_events

),

final as (

    select
        event_id,
        event_type,
        campaign_id,
        list_id,
        member_id,
        {{ person_key('email', 'mailchimp', 'member_id') }} as person_key,
        email,
        is_valid_email,
        occurred_at,
        has_future_timestamp,
        delivery_status,
        url,
        bounce_type,
        unsubscribe_reason,
        extracted_at
    from unioned

)

select * from final
