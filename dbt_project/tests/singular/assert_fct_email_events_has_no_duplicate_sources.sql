-- Row count == distinct source-key count in fct_email_events, after every run
-- (incremental merges must never duplicate an event under a new id).
select
    event_type,
    campaign_id,
    member_id,
    occurred_at,
    url,
    count(*) as n
from {{ ref('fct_email_events') }}
where event_type in ('send', 'unsubscribe')
group by event_type, campaign_id, member_id, occurred_at, url
having count(*) > 1
