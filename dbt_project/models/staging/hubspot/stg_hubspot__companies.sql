{#- The HubSpot properties this model reads: those the loader also lands as
    typed raw columns (the property wins, the column is the fallback), and
    those read from `properties` only. Parsed once per row. -#}
{%- set typed_properties = [
    'name',
    'domain',
    'industry',
    'hubspot_owner_id',
    'createdate',
    'hs_lastmodifieddate',
] -%}
{%- set json_only_properties = [
    'city',
    'country',
    'numberofemployees',
    'annualrevenue',
] -%}
with

source as (

    select
        *,
        {{ hubspot_parse_properties(typed_properties + json_only_properties) }}
    from {{ raw_source('hubspot', 'companies') }}
    {{ exclude_quarantined('hubspot', 'companies', ['id']) }}

),

properties as (

    select
        {{ star_except(source('hubspot', 'companies'), typed_properties) }},
        {{ hubspot_property('name') }} as company_name_property,
        {{ hubspot_property('domain') }} as domain_property,
        {{ hubspot_property('industry') }} as industry,
        {{ hubspot_property('hubspot_owner_id') }} as hubspot_owner_id,
        {{ hubspot_property('createdate') }} as createdate,
        {{ hubspot_property('hs_lastmodifieddate') }} as hs_lastmodifieddate
    from source

),

casted as (

    select
        *,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('hs_lastmodifieddate') }} as lastmodifieddate_ts,
        coalesce(
            {{ hubspot_timestamp('hs_lastmodifieddate') }}, updated_at, _extracted_at
        ) as modified_reference
    from properties

),

renamed as (

    select
        id as company_id,
        {{ clean_text('company_name_property') }} as company_name,
        lower({{ clean_text('domain_property') }}) as company_domain,
        {{ clean_text('industry') }} as industry,
        {{ clean_text('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ unless_future('createdate_ts', 'modified_reference') }},
            {{ unless_future('created_at', 'modified_reference') }}
        ) as created_at,
        lastmodifieddate_ts as last_modified_at,
        (
            {{ is_future('createdate_ts', 'modified_reference') }}
            or {{ is_future('created_at', 'modified_reference') }}
        ) as has_future_timestamp,
        updated_at,
        archived as is_archived,
        archived_at,
        {{ hubspot_property_value('city') }} as city,
        {{ hubspot_property_value('country') }} as country,
        {{ hubspot_number(hubspot_property_value('numberofemployees'), 'integer') }}
            as number_of_employees,
        {{ hubspot_number(hubspot_property_value('annualrevenue')) }}
            as annual_revenue,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
