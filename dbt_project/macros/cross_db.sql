{#- Cross-database macros: the models spell an operation once; DuckDB's SQL (the
    default, exactly what the models said before) and PostgreSQL's sit behind it.
    They branch on target.type rather than adapter.dispatch so that sqlfluff's
    jinja templater, which knows `target` but not `adapter`, can lint the models.
    Another warehouse (Snowflake, BigQuery) is one more branch in each. -#}

{#- Text at a JSONPath ('$.a.b') of a JSON column; JSON null is SQL null. -#}
{% macro json_text(column, path) -%}
    {%- if target.type == 'postgres' -%}
        ({{ column }})::json #>> '{{ "{" ~ path[2:].split(".") | join(",") ~ "}" }}'
    {%- else -%}
        json_extract_string({{ column }}, '{{ path }}')
    {%- endif -%}
{%- endmacro %}

{#- The `field` of every object in a JSON array column, as a list of `data_type`
    (objects without the field are skipped). -#}
{% macro json_array_field(column, field, data_type) -%}
    {%- if target.type == 'postgres' -%}
        case
            when json_typeof({{ column }}) = 'array' then array(
                select cast(elements.value ->> '{{ field }}' as {{ data_type }})
                from json_array_elements({{ column }}) with ordinality as elements (value, n)
                where elements.value -> '{{ field }}' is not null
                order by elements.n
            )
        end
    {%- elif data_type == 'varchar' -%}
        cast(json_extract_string({{ column }}, '$[*].{{ field }}') as varchar[])
    {%- else -%}
        cast(json_extract({{ column }}, '$[*].{{ field }}') as {{ data_type }}[])
    {%- endif -%}
{%- endmacro %}

{#- True when the list holds the value. -#}
{% macro list_has(list, value) -%}
    {%- if target.type == 'postgres' -%}
        ({{ value }} = any({{ list }}))
    {%- else -%}
        list_contains({{ list }}, {{ value }})
    {%- endif -%}
{%- endmacro %}

{#- The whole string matches the regular expression (a SQL string literal). -#}
{% macro regexp_full_match(expression, pattern) -%}
    {%- if target.type == 'postgres' -%}
        ({{ expression }} ~ ('^(?:' || {{ pattern }} || ')$'))
    {%- else -%}
        regexp_full_match({{ expression }}, {{ pattern }})
    {%- endif -%}
{%- endmacro %}

{#- The value cast to `data_type`, or null when it does not parse. PostgreSQL has
    no TRY_CAST (pg_input_is_valid arrives in 16): a pattern decides, for the types
    the models cast text to (numbers, booleans, ISO-8601 timestamps). -#}
{% macro try_cast_to(expression, data_type) -%}
    {%- if target.type == 'postgres' -%}
        {{ _postgres_try_cast(expression, data_type | lower) }}
    {%- else -%}
        try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{% macro _postgres_try_cast(expression, kind) -%}
    {%- set number = '^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$' -%}
    {%- set iso_timestamp = '^\\s*\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?'
        ~ '\\s*(Z|[+-]\\d{2}(:?\\d{2})?)?\\s*$' -%}
    {%- if kind == 'boolean' -%}
        case
            when lower(trim({{ expression }})) in ('true', 't', 'yes', 'y', 'on', '1') then true
            when lower(trim({{ expression }})) in ('false', 'f', 'no', 'n', 'off', '0') then false
        end
    {%- elif kind in ('timestamptz', 'timestamp with time zone') -%}
        case when {{ expression }} ~ '{{ iso_timestamp }}' then cast({{ expression }} as timestamptz) end
    {%- elif kind.split('(')[0] in ('integer', 'bigint', 'smallint', 'double', 'decimal', 'numeric', 'real') -%}
        case
            when {{ expression }} ~ '{{ number }}'
                then cast(cast({{ expression }} as numeric) as {{ 'double precision' if kind == 'double' else kind }})
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("try_cast_to: no PostgreSQL pattern for type " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- `ts` plus `n` hours / days (dbt.dateadd's SQL, spelt here for sqlfluff). -#}
{% macro add_interval(ts, n, unit) -%}
    {%- if target.type == 'postgres' -%}
        ({{ ts }} + (interval '1 {{ unit }}') * ({{ n }}))
    {%- elif unit == 'hour' -%}
        ({{ ts }} + to_hours(cast({{ n }} as bigint)))
    {%- else -%}
        ({{ ts }} + to_days(cast({{ n }} as integer)))
    {%- endif -%}
{%- endmacro %}

{#- Any one value of the group (the groups the models use hold one value). -#}
{% macro any_value_of(column) -%}
    {%- if target.type == 'postgres' -%}
        min({{ column }})
    {%- else -%}
        any_value({{ column }})
    {%- endif -%}
{%- endmacro %}

{#- The value of `column` on the row with the smallest `order_by` among those
    where `column` is not null (and `condition` holds). -#}
{% macro arg_min(column, order_by, condition=none) -%}
    {%- if target.type == 'postgres' -%}
        {%- set keep = column ~ ' is not null' ~ (' and (' ~ condition ~ ')' if condition else '') -%}
        (array_agg({{ column }} order by {{ order_by }}) filter (where {{ keep }}))[1]
    {%- else -%}
        arg_min({{ column }}, {{ order_by }}){{ _filter_clause(condition) }}
    {%- endif -%}
{%- endmacro %}

{#- The values of `column` as a list in `order_by` order (nulls kept). -#}
{% macro list_agg(column, order_by, condition=none) -%}
    {%- if target.type == 'postgres' -%}
        array_agg({{ column }} order by {{ order_by }}){{ _filter_clause(condition) }}
    {%- else -%}
        list({{ column }} order by {{ order_by }}){{ _filter_clause(condition) }}
    {%- endif -%}
{%- endmacro %}

{% macro _filter_clause(condition) -%}
    {{- ' filter (where ' ~ condition ~ ')' if condition else '' -}}
{%- endmacro %}

{#- A JSON object built from the group's key/value pairs. -#}
{% macro json_object_agg(key, value) -%}
    {%- if target.type == 'postgres' -%}
        json_object_agg({{ key }}, {{ value }})
    {%- else -%}
        json_group_object({{ key }}, {{ value }})
    {%- endif -%}
{%- endmacro %}

{#- Every column of `relation` but the `except` ones (DuckDB: `* exclude`). -#}
{% macro star_except(relation, except) -%}
    {%- if target.type == 'postgres' -%}
        {{ _columns_except(relation, except) }}
    {%- else -%}
        * exclude ({{ except | join(', ') }})
    {%- endif -%}
{%- endmacro %}

{#- Column names from the catalog (at parse time, before the catalog is read: *). -#}
{% macro _columns_except(relation, except) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- set names = columns | map(attribute='name') | list if execute else ['*'] -%}
    {{- names | reject('in', except) | join(', ') -}}
{%- endmacro %}
