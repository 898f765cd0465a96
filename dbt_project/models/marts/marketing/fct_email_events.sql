{#- Incremental (merge on event_id, see dbt_project.yml): each run reads only
    raw rows extracted since the newest row already here; rows seen again are
    merged, never duplicated. -#}
with

{% if is_incremental() %}
    watermark as (

        select coalesce(max(extracted_at), '1900-01-01'::timestamptz) as max_extracted_at
        from {{ this }}

    ),
{% endif %}

events as (

    select * from {{ ref('int_email_events_unioned') }}
    {% if is_incremental() %}
        where extracted_at >= (select watermark.max_extracted_at from watermark)
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
