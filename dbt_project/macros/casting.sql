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
    coalesce({{ json_text('properties', '$.' ~ name) }}, {{ name }})
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
