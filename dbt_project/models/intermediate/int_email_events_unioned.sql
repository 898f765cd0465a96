{#- Every email event in one shape: sends from `sent_to` (timed at the
    campaign's send time), opens/clicks/bounces from `email_activity`,
    unsubscribes from `unsubscribes`. The event id is stable across runs.

    Incremental (merge on event_id, see dbt_project.yml): a run reads only the
    raw rows each stream extracted after the newest it already holds (late
    activity and unsubscribes arrive with a new extraction time), plus the sends
    of a campaign whose send time changed since they were built. Strictly
    after is exact: a build holds the raw files' shared locks, so every row
    extracted later was fetched after it (macros/incremental.sql). The email
    streams are merged by the loader, never deleted from; a change to the
    quarantine makes the pipeline run a full refresh (elt.gates). -#}
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

{% if is_incremental() %}
    watermarks as (

        {{ email_event_watermarks(this) }}

    ),

    resent_campaigns as (

        {{ campaigns_with_changed_send_time(this, 'campaigns') }}

    ),
{% endif %}

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
    {% if is_incremental() %}
        where
            sent_to.extracted_at > (select watermarks.sends_from from watermarks)
            or sent_to.campaign_id in (select resent_campaigns.campaign_id from resent_campaigns)
    {% endif %}

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
    {% if is_incremental() %}
        where extracted_at > (select watermarks.activity_from from watermarks)
    {% endif %}

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
    {% if is_incremental() %}
        where extracted_at > (select watermarks.unsubscribes_from from watermarks)
    {% endif %}

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
