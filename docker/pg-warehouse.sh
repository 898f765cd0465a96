#!/usr/bin/env bash
# pg-warehouse: the raw DuckDB files -> PostgreSQL, then the same dbt project
# built there (`--target postgres`). docker-compose.yml's `pg-warehouse` profile
# runs it; tests/stack/test_pg_warehouse.py runs it natively and compares the
# marts with the DuckDB build's. Connection: libpq's PG* variables.
set -euo pipefail

: "${PGDATABASE:?set PGDATABASE (the warehouse database) and the other PG* variables}"
: "${ELT_DATA_DIR:?set ELT_DATA_DIR (where the raw files are)}"
project="$(cd "$(dirname "$0")/../dbt_project" && pwd)"

python -m elt.pg_warehouse --dbname "${PGDATABASE}" --create-database

dbt build --project-dir "${project}" --profiles-dir "${project}" --target postgres \
    --target-path "${ELT_DATA_DIR}/dbt_postgres/target" \
    --log-path "${ELT_DATA_DIR}/dbt_postgres/logs"
