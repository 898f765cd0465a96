{#- Deal <-> company bridge with one primary company per deal (HubSpot's
    "Primary" association, type 5, else the smallest id). Associations to
    companies that were never loaded are dropped. -#}
with

associations as (

    select * from {{ ref('stg_hubspot__deal_companies') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

joined as (

    select
        associations.deal_id,
        associations.company_id,
        associations.is_primary
        or {{ list_has('associations.association_type_ids', 5) }} as is_primary_association
    from associations
    inner join companies on associations.company_id = companies.company_id
    inner join deals on associations.deal_id = deals.deal_id

),

final as (

    select
        {{ surrogate_key(['deal_id', 'company_id']) }} as deal_company_key,
        deal_id,
        company_id,
        row_number() over (
            partition by deal_id
            order by is_primary_association desc, company_id asc
        ) = 1 as is_primary_company
    from joined

)

select * from final
