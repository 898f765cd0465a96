-- fct_email_events holds exactly one event per raw sent_to row, email_activity
-- row (by action) and unsubscribes row. Returns the event types that differ.
with

raw_counts as (

    select
        'send' as event_type,
        count(*) as n
    from {{ source('mailchimp', 'sent_to') }}
    union all
    select
        action as event_type,
        count(*) as n
    from {{ source('mailchimp', 'email_activity') }}
    group by action
    union all
    select
        'unsubscribe' as event_type,
        count(*) as n
    from {{ source('mailchimp', 'unsubscribes') }}

),

fct_counts as (

    select
        event_type,
        count(*) as n
    from {{ ref('fct_email_events') }}
    group by event_type

)

select
    coalesce(raw_counts.event_type, fct_counts.event_type) as event_type,
    raw_counts.n as raw_n,
    fct_counts.n as fct_n
from raw_counts
full outer join fct_counts on raw_counts.event_type = fct_counts.event_type
where raw_counts.n is distinct from fct_counts.n
