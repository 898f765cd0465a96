with

campaigns as (

    select * from {{ ref('stg_mailchimp__campaigns') }}

),

lists as (

    select * from {{ ref('stg_mailchimp__lists') }}

),

reports as (

    select * from {{ ref('stg_mailchimp__reports') }}

),

final as (

    select
        campaigns.campaign_id,
        campaigns.campaign_title,
        campaigns.subject_line,
        campaigns.campaign_type,
        campaigns.campaign_status,
        campaigns.from_name,
        campaigns.list_id,
        lists.list_name,
        campaigns.created_at,
        campaigns.sent_at,
        campaigns.emails_sent,
        reports.unique_opens as reported_unique_opens,
        reports.open_rate as reported_open_rate,
        reports.unique_clicks as reported_unique_clicks,
        reports.click_rate as reported_click_rate,
        reports.hard_bounces as reported_hard_bounces,
        reports.soft_bounces as reported_soft_bounces,
        reports.unsubscribes as reported_unsubscribes,
        reports.abuse_reports as reported_abuse_reports
    from campaigns
    left join lists on campaigns.list_id = lists.list_id
    left join reports on campaigns.campaign_id = reports.campaign_id

)

select * from final
