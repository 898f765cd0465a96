-- fct_email_events holds exactly one event per raw sent_to row, email_activity
-- row (by action) and unsubscribes row, less the records the quality gates
-- hold back. Returns the event types that differ.
with

sent_to as (

    select * from {{ raw_source('mailchimp', 'sent_to') }}
    {{ exclude_quarantined('mailchimp', 'sent_to', ['campaign_id', 'email_id']) }}

),

email_activity as (

    select * from {{ raw_source('mailchimp', 'email_activity') }}
    {{ exclude_quarantined('mailchimp', 'email_activity', ['activity_id']) }}

),

unsubscribes as (

    select * from {{ raw_source('mailchimp', 'unsubscribes') }}
    {{ exclude_quarantined('mailchimp', 'unsubscribes', ['campaign_id', 'email_id']) }}

),

raw_counts as (

    select
        'send' as event_type,
        count(*) as n
    from sent_to
    union all
    select
        action as event_type,
        count(*) as n
    from email_activity
    group by action
    union all
    select
        'unsubscribe' as event_type,
        count(*) as n
    from unsubscribes

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
    coalesce(raw_counts.n, 0) as raw_n,
    coalesce(fct_counts.n, 0) as fct_n
from raw_counts
full outer join fct_counts on raw_counts.event_type = fct_counts.event_type
-- an event type with no rows is 0 on both sides (an empty raw stream has no fact rows)
where coalesce(raw_counts.n, 0) != coalesce(fct_counts.n, 0)
