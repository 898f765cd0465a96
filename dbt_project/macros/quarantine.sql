{#- The records the quality gates hold back never reach the warehouse: every
    staging model reads its raw table through this macro, so intermediate,
    marts and snapshots inherit the exclusion from one place.

    Renders the `where` clause of `select * from <raw table>` that leaves out
    the records of `stream` with a row in `quality.quarantine` (the quality
    store, quality/store.py) whose `released_at` is null. The store's
    `record_key` is the primary-key values cast to varchar and joined with '|'
    in primary-key order, so `key_columns` is the connector's primary key
    (connectors/<source>.py), in its order.

    On a target without the quality store (postgres: the raw layer is copied
    there and no gate runs against it) it renders nothing: no filter, and no
    dependency on the `quality` source. -#}
{% macro exclude_quarantined(source_name, stream, key_columns) -%}
    {%- if not key_columns -%}
        {{ exceptions.raise_compiler_error(
            "exclude_quarantined: no key_columns for " ~ source_name ~ "." ~ stream
            ~ "; pass the stream's primary key, as declared in connectors/" ~ source_name ~ ".py"
        ) }}
    {%- endif -%}
    {%- if target.type == 'duckdb' -%}
        where {{ quarantine_record_key(key_columns) }} not in (
            select quarantine.record_key
            from {{ source('quality', 'quarantine') }} as quarantine
            where
                quarantine.source = '{{ source_name }}'
                and quarantine.stream = '{{ stream }}'
                and quarantine.released_at is null
                and quarantine.record_key is not null
        )
    {%- endif -%}
{%- endmacro %}

{#- A record's key in the quality store: its primary-key values as varchar,
    joined with '|' (primary-key columns are never null in the raw tables). -#}
{% macro quarantine_record_key(key_columns) -%}
    concat_ws('|'
    {%- for column in key_columns %}, cast({{ column }} as varchar)
    {%- endfor %})
{%- endmacro %}
