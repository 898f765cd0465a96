{#- Identity helpers shared by staging and identity resolution. Written here
    instead of taken from dbt_utils: the hub is not reachable from the build. -#}

{#- Lower-cased email without surrounding whitespace (spaces, tabs, line
    breaks); empty strings become null. -#}
{% macro normalize_email(column) -%}
    nullif(lower(regexp_replace({{ column }}, '^\s+|\s+$', '', 'g')), '')
{%- endmacro %}

{#- True when a normalised email looks deliverable (one @, a dotted domain,
    no whitespace). Null or malformed -> false. -#}
{% macro is_valid_email(column) -%}
    coalesce(
        {{ regexp_full_match(
            normalize_email(column),
            "'[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}'"
        ) }},
        false
    )
{%- endmacro %}

{#- md5 over the given columns, null-safe and order-sensitive. -#}
{% macro surrogate_key(columns) -%}
    md5(concat_ws('|'
    {%- for column in columns %}, coalesce(cast({{ column }} as varchar), '_null_')
    {%- endfor %}))
{%- endmacro %}

{#- The person key: md5 of the normalised email when it is valid (stable across
    runs and sources); otherwise md5 of "<source>:<source id>", so a record that
    cannot join on email is still one person of its own. -#}
{% macro person_key(email_column, source_system, source_id_column) -%}
    case
        when {{ is_valid_email(email_column) }}
            then md5({{ normalize_email(email_column) }})
        else md5('{{ source_system }}:' || cast({{ source_id_column }} as varchar))
    end
{%- endmacro %}
