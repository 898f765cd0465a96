{#- Incremental email events: per raw stream (sends from `sent_to`,
    unsubscribes, the rest from `email_activity`), the newest extraction time
    already built into `existing`. A run reads the rows extracted strictly
    after it: a build holds the raw files' shared locks and an extract their
    exclusive one, so a row extracted later was fetched after the build
    (elt.stages); per stream, because the streams commit independently. -#}
{% macro email_event_watermarks(existing) -%}
    select
        coalesce(
            max(extracted_at) filter (where event_type = 'send'),
            '-infinity'::timestamptz
        ) as sends_from,
        coalesce(
            max(extracted_at) filter (where event_type = 'unsubscribe'),
            '-infinity'::timestamptz
        ) as unsubscribes_from,
        coalesce(
            max(extracted_at) filter (where event_type not in ('send', 'unsubscribe')),
            '-infinity'::timestamptz
        ) as activity_from
    from {{ existing }}
{%- endmacro %}

{#- The campaigns whose send time differs from the one their `send` events
    were built with (`existing`: an incremental email-events relation already
    built; `campaigns`: a relation or CTE with `campaign_id`, `sent_at`). An
    incremental run rebuilds those sends even though their `sent_to` rows were
    not extracted again. -#}
{% macro campaigns_with_changed_send_time(existing, campaigns) -%}
    select distinct built.campaign_id
    from {{ existing }} as built
    inner join {{ campaigns }} as changed on built.campaign_id = changed.campaign_id
    where
        built.event_type = 'send'
        and built.occurred_at is distinct from changed.sent_at
{%- endmacro %}
