-- Per campaign, recipients, unique opens, unique clicks and unsubscribes in
-- mart_campaign_performance equal the counts taken straight from raw MailChimp
-- (less the records the quality gates hold back, as staging leaves them out).
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

mart as (

    select * from {{ ref('mart_campaign_performance') }}

),

raw_sent as (

    select
        campaign_id,
        count(distinct email_id) as recipients
    from sent_to
    group by campaign_id

),

raw_activity as (

    select
        campaign_id,
        count(distinct email_id) filter (where action = 'open') as unique_opens,
        count(distinct email_id) filter (where action = 'click') as unique_clicks
    from email_activity
    group by campaign_id

),

raw_unsubscribes as (

    select
        campaign_id,
        count(distinct email_id) as unsubscribes
    from unsubscribes
    group by campaign_id

)

select
    mart.campaign_id,
    mart.recipients,
    raw_sent.recipients as raw_recipients,
    mart.unique_opens,
    raw_activity.unique_opens as raw_unique_opens
from mart
left join raw_sent on mart.campaign_id = raw_sent.campaign_id
left join raw_activity on mart.campaign_id = raw_activity.campaign_id
left join raw_unsubscribes on mart.campaign_id = raw_unsubscribes.campaign_id
where
    mart.recipients != coalesce(raw_sent.recipients, 0)
    or mart.unique_opens != coalesce(raw_activity.unique_opens, 0)
    or mart.unique_clicks != coalesce(raw_activity.unique_clicks, 0)
    or mart.unsubscribes != coalesce(raw_unsubscribes.unsubscribes, 0)
