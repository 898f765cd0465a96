{#- Incremental (merge on event_id, see dbt_project.yml), as
    int_email_events_unioned: each run reads only the events each stream
    extracted after the newest already here, plus the sends of a campaign whose
    send time changed; rows seen again are merged, never duplicated. -#}
-- depends_on: {{ ref('stg_mailchimp__campaigns') }}
with

{% if is_incremental() %}
    watermarks as (

        {{ email_event_watermarks(this) }}

    ),

    resent_campaigns as (

        {{ campaigns_with_changed_send_time(this, ref('stg_mailchimp__campaigns')) }}

    ),
{% endif %}

events as (

    select * from {{ ref('int_email_events_unioned') }}
    {% if is_incremental() %}
        where
            (event_type = 'send' and extracted_at > (select watermarks.sends_from from watermarks))
            or (
                event_type = 'unsubscribe'
                and extracted_at > (select watermarks.unsubscribes_from from watermarks)
            )
            or (
                event_type not in ('send', 'unsubscribe')
                and extracted_at > (select watermarks.activity_from from watermarks)
            )
            or (
                event_type = 'send'
                and campaign_id in (select resent_campaigns.campaign_id from resent_campaigns)
            )
    {% endif %}

),

final as (

    select
        event_id,
        event_type,
        campaign_id,
        list_id,
        member_id,
        person_key,
        email,
        is_valid_email,
        occurred_at,
        has_future_timestamp,
        delivery_status,
        url,
        bounce_type,
        unsubscribe_reason,
        extracted_at
    from events

)

select * from final
