{#- Incremental (merge on contact_id, dbt_project.yml): a real contact's
    `properties` is ~9 KB of JSON, so parsing every contact on every run, and
    again for each of its tests as a view, was the largest cost of an hourly
    build. -#}
{#- The HubSpot properties this model reads: those the loader also lands as
    typed raw columns (the property wins, the column is the fallback), and
    those read from `properties` only. Parsed once per row. -#}
{%- set typed_properties = [
    'email',
    'firstname',
    'lastname',
    'company',
    'lifecyclestage',
    'hubspot_owner_id',
    'createdate',
    'lastmodifieddate',
    'associatedcompanyid',
] -%}
{%- set json_only_properties = [
    'phone',
    'jobtitle',
] -%}
with

source as (

    select
        *,
        {{ hubspot_parse_properties(typed_properties + json_only_properties) }}
    from {{ raw_source('hubspot', 'contacts') }}
    {{ exclude_quarantined('hubspot', 'contacts', ['id']) }}

),

properties as (

    select
        {{ star_except(source('hubspot', 'contacts'), typed_properties) }},
        {{ hubspot_property('email') }} as email,
        {{ hubspot_property('firstname') }} as firstname,
        {{ hubspot_property('lastname') }} as lastname,
        {{ hubspot_property('company') }} as company,
        {{ hubspot_property('lifecyclestage') }} as lifecyclestage,
        {{ hubspot_property('hubspot_owner_id') }} as hubspot_owner_id,
        {{ hubspot_property('createdate') }} as createdate,
        {{ hubspot_property('lastmodifieddate') }} as lastmodifieddate,
        {{ hubspot_property('associatedcompanyid') }} as associatedcompanyid
    from source
    {% if is_incremental() %}
        -- contacts are merged by the loader, never deleted: only what it wrote since
        where _extracted_at > (select max(built.extracted_at) from {{ this }} as built)
    {% endif %}

),

casted as (

    select
        *,
        {{ hubspot_timestamp('createdate') }} as createdate_ts,
        {{ hubspot_timestamp('lastmodifieddate') }} as lastmodifieddate_ts,
        coalesce(
            {{ hubspot_timestamp('lastmodifieddate') }}, updated_at, _extracted_at
        ) as modified_reference
    from properties

),

renamed as (

    select
        id as contact_id,
        email as email_address,
        {{ normalize_email('email') }} as email,
        {{ is_valid_email('email') }} as is_valid_email,
        {{ clean_text('firstname') }} as first_name,
        {{ clean_text('lastname') }} as last_name,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('lifecyclestage') }} as lifecycle_stage,
        {{ clean_text('hubspot_owner_id') }} as owner_id,
        {{ clean_text('associatedcompanyid') }} as associated_company_id,
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
        {{ hubspot_property_value('phone') }} as phone,
        {{ hubspot_property_value('jobtitle') }} as job_title,
        _extracted_at as extracted_at,
        _sync_id as sync_id

    from casted

)

select * from renamed
