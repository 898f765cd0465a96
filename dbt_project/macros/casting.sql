{#- Casts for the string properties HubSpot sends. Blank strings are null. -#}

{% macro hubspot_timestamp(column) -%}
    case
        when regexp_full_match(trim({{ column }}), '[0-9]{10,13}')
            then to_timestamp(cast(trim({{ column }}) as bigint) / 1000.0)
        else try_cast(nullif(trim({{ column }}), '') as timestamptz)
    end
{%- endmacro %}

{% macro hubspot_number(column, data_type='decimal(18, 2)') -%}
    try_cast(nullif(trim({{ column }}), '') as {{ data_type }})
{%- endmacro %}

{% macro hubspot_boolean(column) -%}
    try_cast(nullif(lower(trim({{ column }})), '') as boolean)
{%- endmacro %}

{#- Blank or whitespace-only text becomes null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- True when a timestamp lies after the record was extracted (plus the
    `future_tolerance_hours` var): a dirty value the source could not know. -#}
{% macro is_future(ts_column, extracted_at_column='_extracted_at') -%}
    coalesce(
        {{ ts_column }} > {{ extracted_at_column }}
        + to_hours(cast({{ var('future_tolerance_hours') }} as bigint)),
        false
    )
{%- endmacro %}

{#- The timestamp, or null when it is in the future (see is_future). -#}
{% macro unless_future(ts_column, extracted_at_column='_extracted_at') -%}
    case
        when not {{ is_future(ts_column, extracted_at_column) }} then {{ ts_column }}
    end
{%- endmacro %}
