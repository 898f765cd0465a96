with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

contact_companies as (

    select * from {{ ref('int_contact_companies_bridged') }}

),

deal_companies as (

    select * from {{ ref('int_deal_companies_bridged') }}

),

contact_counts as (

    select
        company_id,
        count(distinct contact_id) as contact_count
    from contact_companies
    group by company_id

),

deal_counts as (

    select
        company_id,
        count(distinct deal_id) as deal_count
    from deal_companies
    group by company_id

),

final as (

    select
        companies.company_id,
        companies.company_name,
        companies.company_domain,
        companies.industry,
        companies.city,
        companies.country,
        companies.number_of_employees,
        companies.annual_revenue,
        companies.owner_id,
        coalesce(contact_counts.contact_count, 0) as contact_count,
        coalesce(deal_counts.deal_count, 0) as deal_count,
        companies.created_at,
        companies.last_modified_at,
        companies.is_archived as is_deleted,
        companies.has_future_timestamp
    from companies
    left join contact_counts on companies.company_id = contact_counts.company_id
    left join deal_counts on companies.company_id = deal_counts.company_id

)

select * from final
