{#- Contact <-> company bridge: the association table plus the contact's
    `associatedcompanyid` property, one row per pair, with one primary company
    per contact. Pairs pointing at a company that was never loaded are dropped
    (dangling association). -#}
with

associations as (

    select * from {{ ref('stg_hubspot__contact_companies') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

pairs as (

    select
        contact_id,
        company_id,
        is_primary or {{ list_has('association_type_ids', 1) }} as is_primary_association,
        false as is_property
    from associations

    union all

    select
        contact_id,
        associated_company_id as company_id,
        true as is_primary_association,
        true as is_property
    from contacts
    where associated_company_id is not null

),

deduplicated as (

    select
        pairs.contact_id,
        pairs.company_id,
        bool_or(pairs.is_primary_association) as is_primary_association,
        bool_or(pairs.is_property) as is_property
    from pairs
    inner join companies on pairs.company_id = companies.company_id
    inner join contacts on pairs.contact_id = contacts.contact_id
    group by pairs.contact_id, pairs.company_id

),

final as (

    select
        {{ surrogate_key(['contact_id', 'company_id']) }} as contact_company_key,
        contact_id,
        company_id,
        is_property as is_from_contact_property,
        row_number() over (
            partition by contact_id
            order by is_property desc, is_primary_association desc, company_id asc
        ) = 1 as is_primary_company
    from deduplicated

)

select * from final
