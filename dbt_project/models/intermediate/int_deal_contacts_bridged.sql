{#- Deal <-> contact bridge with the person each contact resolves to and one
    primary contact per deal (the oldest live contact). Associations to
    contacts that were never loaded are dropped. -#}
with

associations as (

    select * from {{ ref('stg_hubspot__deal_contacts') }}

),

identities as (

    select * from {{ ref('int_identities_resolved') }}
    where source_system = 'hubspot'

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

joined as (

    select
        associations.deal_id,
        associations.contact_id,
        identities.person_key,
        identities.is_deleted as is_contact_deleted,
        identities.source_created_at as contact_created_at,
        associations.is_primary
    from associations
    inner join identities on associations.contact_id = identities.source_id
    inner join deals on associations.deal_id = deals.deal_id

),

final as (

    select
        {{ surrogate_key(['deal_id', 'contact_id']) }} as deal_contact_key,
        deal_id,
        contact_id,
        person_key,
        row_number() over (
            partition by deal_id
            order by
                is_primary desc,
                is_contact_deleted asc,
                contact_created_at asc nulls last,
                contact_id asc
        ) = 1 as is_primary_contact
    from joined

)

select * from final
