{#- Casts for the string properties HubSpot sends. Blank strings are null. -#}

{% macro hubspot_timestamp(column) -%}
    case
        when {{ regexp_full_match('trim(' ~ column ~ ')', "'[0-9]{10,13}'") }}
            then to_timestamp(cast(trim({{ column }}) as bigint) / 1000.0)
        else {{ try_cast_to('nullif(trim(' ~ column ~ "), '')", 'timestamptz') }}
    end
{%- endmacro %}

{% macro hubspot_number(column, data_type='decimal(18, 2)') -%}
    {{ try_cast_to('nullif(trim(' ~ column ~ "), '')", data_type) }}
{%- endmacro %}

{% macro hubspot_boolean(column) -%}
    {{ try_cast_to('nullif(lower(trim(' ~ column ~ ")), '')", 'boolean') }}
{%- endmacro %}

{#- Blank or whitespace-only text becomes null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- True when a timestamp lies after `reference` (plus the
    `future_tolerance_hours` var): a dirty value the source could not have
    known yet. The reference is the record's own last-modified cursor where it
    has one (never in the future, and the source's clock rather than ours),
    else the extraction time. -#}
{% macro is_future(ts_column, reference='_extracted_at') -%}
    coalesce(
        {{ ts_column }}
        > {{ add_interval(reference, var('future_tolerance_hours'), 'hour') }},
        false
    )
{%- endmacro %}

{#- The timestamp, or null when it is in the future (see is_future). -#}
{% macro unless_future(ts_column, reference='_extracted_at') -%}
    case
        when not {{ is_future(ts_column, reference) }} then {{ ts_column }}
    end
{%- endmacro %}

{#- A HubSpot property as plain text, read from the `properties` JSON (a JSON
    null is SQL null), else from the typed raw column of the same name. -#}
{% macro hubspot_property(name) -%}
    coalesce({{ hubspot_property_value(name) }}, {{ name }})
{%- endmacro %}

{#- One HubSpot property from the `properties` JSON object (text). On DuckDB it
    reads `_properties`, the struct `hubspot_parse_properties` adds in the
    import CTE: a real contact's `properties` holds hundreds of keys (~9 KB),
    and parsing it once per row instead of once per property made
    stg_hubspot__contacts 3x faster (60,000 contacts: 7.1 s -> 2.2 s). -#}
{% macro hubspot_property_value(name) -%}
    {%- if target.type == 'duckdb' -%}
        _properties."{{ name }}"
    {%- else -%}
        {{ json_text('properties', '$.' ~ name) }}
    {%- endif -%}
{%- endmacro %}

{#- `_properties`: the named keys of the `properties` JSON, parsed once per row
    (DuckDB's json_transform into a struct of text; absent keys are null). For
    `select *, {{ hubspot_parse_properties([...]) }} from <raw table>`. On
    PostgreSQL each property is read from the JSON where used. -#}
{% macro hubspot_parse_properties(names) -%}
    {%- set keys = [] -%}
    {%- for n in names -%}
        {%- do keys.append('"' ~ n ~ '": "VARCHAR"') -%}
    {%- endfor -%}
    {%- if target.type == 'duckdb' -%}
        json_transform(properties, '{{ "{" ~ keys | join(", ") ~ "}" }}') as _properties
    {%- else -%}
        cast(null as text) as _properties
    {%- endif -%}
{%- endmacro %}

{#- The typeIds of a v4 association's `associationTypes` JSON array. -#}
{% macro association_type_ids(column) -%}
    coalesce(
        {{ json_array_field(column, 'typeId', 'integer') }},
        cast(array[] as integer[])
    )
{%- endmacro %}

{#- True when one of the association's types is labelled 'Primary'. -#}
{% macro association_is_primary(column) -%}
    coalesce(
        {{ list_has(json_array_field(column, 'label', 'varchar'), "'Primary'") }},
        false
    )
{%- endmacro %}
