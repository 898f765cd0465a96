{#- Per campaign: audience and engagement from the event stream, and the
    pipeline / won revenue of attributed deals. Rates use MailChimp's
    convention: divided by delivered recipients (recipients - bounced). -#}
with

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

events as (

    select * from {{ ref('fct_email_events') }}

),

attributed_deals as (

    select * from {{ ref('int_campaign_deals_attributed') }}

),

engagement as (

    select
        campaign_id,
        count(distinct member_id) filter (where event_type = 'send') as recipients,
        count(distinct member_id) filter (where event_type = 'bounce') as bounced_recipients,
        count(*) filter (where event_type = 'bounce') as bounces,
        count(*) filter (where event_type = 'open') as total_opens,
        count(distinct member_id) filter (where event_type = 'open') as unique_opens,
        count(*) filter (where event_type = 'click') as total_clicks,
        count(distinct member_id) filter (where event_type = 'click') as unique_clicks,
        count(distinct member_id) filter (where event_type = 'unsubscribe') as unsubscribes
    from events
    group by campaign_id

),

attribution as (

    select
        campaign_id,
        count(*) as attributed_deals,
        count(*) filter (where is_won) as attributed_won_deals,
        coalesce(sum(amount), 0) as attributed_pipeline_amount,
        coalesce(sum(amount) filter (where is_won), 0) as attributed_won_revenue
    from attributed_deals
    group by campaign_id

),

final as (

    select
        campaigns.campaign_id,
        campaigns.campaign_title,
        campaigns.list_id,
        campaigns.sent_at,
        coalesce(engagement.recipients, 0) as recipients,
        coalesce(engagement.recipients, 0)
        - coalesce(engagement.bounced_recipients, 0) as delivered,
        coalesce(engagement.bounces, 0) as bounces,
        coalesce(engagement.total_opens, 0) as total_opens,
        coalesce(engagement.unique_opens, 0) as unique_opens,
        coalesce(engagement.total_clicks, 0) as total_clicks,
        coalesce(engagement.unique_clicks, 0) as unique_clicks,
        coalesce(engagement.unsubscribes, 0) as unsubscribes,
        cast(coalesce(engagement.unique_opens, 0) as double precision)
        / nullif(engagement.recipients - engagement.bounced_recipients, 0) as open_rate,
        cast(coalesce(engagement.unique_clicks, 0) as double precision)
        / nullif(engagement.recipients - engagement.bounced_recipients, 0) as click_through_rate,
        cast(coalesce(engagement.unique_clicks, 0) as double precision)
        / nullif(engagement.unique_opens, 0) as click_to_open_rate,
        {{ var('attribution_window_days') }} as attribution_window_days,
        coalesce(attribution.attributed_deals, 0) as attributed_deals,
        coalesce(attribution.attributed_won_deals, 0) as attributed_won_deals,
        coalesce(attribution.attributed_pipeline_amount, 0) as attributed_pipeline_amount,
        coalesce(attribution.attributed_won_revenue, 0) as attributed_won_revenue
    from campaigns
    left join engagement on campaigns.campaign_id = engagement.campaign_id
    left join attribution on campaigns.campaign_id = attribution.campaign_id

)

select * from final
