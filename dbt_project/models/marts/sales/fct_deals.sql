with

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

stages as (

    select * from {{ ref('int_deal_stages_classified') }}

),

deal_companies as (

    select * from {{ ref('int_deal_companies_bridged') }}
    where is_primary_company

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_bridged') }}

),

contact_counts as (

    select
        deal_id,
        count(*) as contact_count
    from deal_contacts
    group by deal_id

),

primary_contacts as (

    select * from deal_contacts
    where is_primary_contact

),

final as (

    select
        deals.deal_id,
        deals.deal_name,
        deals.amount,
        deals.has_missing_amount,
        deals.pipeline_id,
        stages.pipeline_label,
        deals.deal_stage_key,
        deals.deal_stage_id,
        stages.deal_stage_label,
        stages.funnel_step,
        coalesce(stages.is_closed, false) as is_closed,
        coalesce(stages.is_won, false) as is_won,
        coalesce(stages.is_lost, false) as is_lost,
        case when stages.is_won then deals.amount end as won_amount,
        deals.created_at,
        case
            when stages.is_closed and not deals.is_close_date_after_last_change
                then deals.close_date
        end as closed_at,
        case when not stages.is_closed then deals.close_date end as expected_close_at,
        -- the time revenue is booked at: close date, else the last change
        -- (closed deals with a missing or future close date still count)
        case
            when stages.is_closed
                then coalesce(
                    case when not deals.is_close_date_after_last_change then deals.close_date end,
                    deals.last_modified_at,
                    deals.updated_at
                )
        end as booked_at,
        deals.last_modified_at,
        deals.owner_id,
        deal_companies.company_id,
        primary_contacts.contact_id as primary_contact_id,
        primary_contacts.person_key as primary_person_key,
        coalesce(contact_counts.contact_count, 0) as contact_count,
        deals.is_archived as is_deleted,
        deals.has_future_created_date
        or (
            coalesce(stages.is_closed, false) and deals.is_close_date_after_last_change
        ) as has_future_timestamp
    from deals
    left join stages on deals.deal_stage_key = stages.deal_stage_key
    left join deal_companies on deals.deal_id = deal_companies.deal_id
    left join primary_contacts on deals.deal_id = primary_contacts.deal_id
    left join contact_counts on deals.deal_id = contact_counts.deal_id

)

select * from final
