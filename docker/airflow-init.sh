#!/usr/bin/env bash
# airflow-init: the one-shot job every other Airflow service waits for
# (docker-compose.yml: service_completed_successfully). The native stack test
# runs this same script with the same environment.
#   1. migrate the metadata database (Airflow's and the FAB auth manager's tables)
#   2. create the admin user named in .env, or reset its password to .env's
#   3. print the version, so the log says what was initialised
set -euo pipefail

: "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:?the metadata database URL is not set}"
: "${_AIRFLOW_WWW_USER_USERNAME:?set _AIRFLOW_WWW_USER_USERNAME in .env}"
: "${_AIRFLOW_WWW_USER_PASSWORD:?set _AIRFLOW_WWW_USER_PASSWORD in .env}"

airflow db migrate

user="${_AIRFLOW_WWW_USER_USERNAME}"
if airflow users list --output plain | awk 'NR > 1 {print $2}' | grep -qxF "${user}"; then
    airflow users reset-password --username "${user}" --password "${_AIRFLOW_WWW_USER_PASSWORD}"
else
    airflow users create --role Admin --username "${user}" \
        --password "${_AIRFLOW_WWW_USER_PASSWORD}" \
        --firstname Admin --lastname User --email "${user}@example.invalid"
fi

airflow version
