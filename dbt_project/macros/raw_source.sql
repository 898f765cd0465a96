{#- Where the raw layer comes from: our connectors' raw tables (`native`, the
    default) or the final tables Airbyte's DuckDB destination writes (`airbyte`).
    The var `raw_format` is the one switch, set with `--vars`: the profile reads
    it to ATTACH the matching file(s), the sources yml to point `mailchimp` and
    `hubspot` at them, and `raw_source` to read them in our loader's shape. -#}
{% macro raw_format() -%}
    {%- set raw_format = var('raw_format', 'native') -%}
    {%- if execute and raw_format not in ('native', 'airbyte') -%}
        {{ exceptions.raise_compiler_error(
            "var raw_format is " ~ raw_format ~ "; set it to native (our connectors' raw "
            ~ "tables) or airbyte (Airbyte's DuckDB destination), with --vars or ELT_RAW_FORMAT"
        ) }}
    {%- endif -%}
    {{ return(raw_format) }}
{%- endmacro %}

{#- A raw table as our loader shapes it (docs/contracts.md §2), whichever
    `raw_format` wrote it: what staging and the singular tests select from.

    native: the source itself. airbyte: a subquery over the source (so lineage
    and freshness stay the source's) that keeps the stream's columns, casts back
    those whose type Airbyte's JSON-schema typing changes (the `data_type` a
    source column declares: integers arrive as BIGINT), maps
    `_airbyte_extracted_at` to `_extracted_at` and the Airbyte job id in
    `_airbyte_meta.sync_id` to `_sync_id`, and drops the other `_airbyte_*`
    columns. The job id, not `_airbyte_raw_id`: `_sync_id` says which sync wrote
    a row (the raw gate validates rows sync by sync), and a per-record uuid
    would make every row a sync of its own. -#}
{% macro raw_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if raw_format() == 'airbyte' and execute -%}
        {{ _airbyte_as_native(relation, source_name, table_name) }}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{% macro _airbyte_as_native(relation, source_name, table_name) -%}
    {%- if target.type != 'duckdb' -%}
        {{ exceptions.raise_compiler_error(
            "raw_format airbyte reads Airbyte's DuckDB destination: it needs the duckdb "
            ~ "target, not " ~ target.type
        ) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {%- set names = columns | map(attribute='name') | list -%}
    {%- if '_airbyte_extracted_at' not in names or '_airbyte_meta' not in names -%}
        {{ exceptions.raise_compiler_error(
            "raw_format is airbyte but " ~ relation ~ " is not an Airbyte final table "
            ~ "(columns: " ~ (names | join(', ') or 'none: no such table') ~ "); set "
            ~ "raw_format with --vars (the profile ATTACHes the Airbyte file only then), point "
            ~ "ELT_AIRBYTE_RAW_PATH at the file Airbyte's DuckDB destination writes, and sync "
            ~ "the stream " ~ table_name ~ " into schema airbyte_" ~ source_name
        ) }}
    {%- endif -%}
    {%- set declared = _source_column_types(source_name, table_name) -%}
    {%- set kept = [] -%}
    {%- for name in names if not name.startswith('_airbyte_') -%}
        {%- set column = adapter.quote(name) -%}
        {%- do kept.append(
            'cast(' ~ column ~ ' as ' ~ declared[name] ~ ') as ' ~ column
            if name in declared else column
        ) -%}
    {%- endfor -%}
    (
        select
            {{ kept | join(',\n            ') }},
            _airbyte_extracted_at as _extracted_at,
            {{ json_text('_airbyte_meta', '$.sync_id') }} as _sync_id
        from {{ relation }}
    ) as {{ adapter.quote(table_name) }}
{%- endmacro %}

{#- {column: data_type} of the source table's columns that declare one. -#}
{% macro _source_column_types(source_name, table_name) -%}
    {%- set types = {} -%}
    {%- for node in graph.sources.values()
        if node.source_name == source_name and node.name == table_name -%}
        {%- for name, column in node.columns.items() if column.data_type -%}
            {%- do types.update({name: column.data_type}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
