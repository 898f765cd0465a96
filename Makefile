# Front door. The README's quickstart is `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.DEFAULT_GOAL := help
.PHONY: help install demo test test-all test-stack lint format airflow trigger dbt-graph report mock-apis extract transform check bench soak compose-check clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(VENV)/bin/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	$(VENV)/bin/python -m pip check
	@touch $(STAMP)

install: $(STAMP) ## Create .venv (if missing) and install the pinned dependency set

demo: $(STAMP) ## Run the whole pipeline on embedded defaults (mock APIs, DuckDB, Airflow dags test)
	$(BIN)/elt run --airflow

test: $(STAMP) lint ## Lint, then the whole pytest suite (slow soaks excluded)
	$(BIN)/python -m pytest -m "not slow" -q --durations=25

test-all: $(STAMP) ## Every test, including the slow ones (soaks, 10x scale)
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff (lint + format check), import contracts (.importlinter), sqlfluff on the dbt SQL
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project

format: $(STAMP) ## Apply ruff format and sqlfluff fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project

soak: $(STAMP) ## Many runs under fault storms and SIGKILLs; prints a table of verdicts (~15 min)
	$(BIN)/python tests/e2e/soak.py --rounds 6 --kills 3

mock-apis: $(STAMP) ## Serve the mock MailChimp + HubSpot APIs (MOCK_PORT, MOCK_SEED, MOCK_SCALE)
	$(BIN)/elt mock-apis

extract: $(STAMP) ## Extract both sources into data/raw (needs APIs: real or `make mock-apis`)
	$(BIN)/elt extract

transform: $(STAMP) ## dbt build + docs over data/raw into data/warehouse.duckdb
	$(BIN)/elt transform

check: $(STAMP) ## Great Expectations checks on the warehouse
	$(BIN)/elt check

airflow: $(STAMP) ## Airflow UI on http://127.0.0.1:8080 (airflow standalone, SQLite; prints user + password file; Ctrl-C stops)
	$(BIN)/elt airflow --with-mock standalone

trigger: $(STAMP) ## Trigger a saas_elt run in the Airflow that `make airflow` runs (CONF='{"full_refresh": true}')
	$(BIN)/elt airflow dags trigger saas_elt $(if $(CONF),--conf '$(CONF)')

report: $(STAMP) ## Write the run report of the published warehouse (data/reports/latest.html)
	$(BIN)/elt report

dbt-graph: $(STAMP) ## Rewrite dags/dbt_graph.json (the DAG's dbt tasks) after changing dbt models
	$(BIN)/elt dbt-graph

bench: $(STAMP) ## Benchmarks that print numbers, then bench/results/latest.md, .json and PNG plots
	$(BIN)/python bench/bench_mock_apis.py
	$(BIN)/python bench/bench_extract.py
	$(BIN)/python bench/bench_dbt.py
	$(BIN)/python bench/bench_gates.py
	$(BIN)/python bench/bench_airflow.py
	$(BIN)/python bench/bench_hourly.py
	$(BIN)/python bench/results.py

compose-check: $(STAMP) ## Check docker-compose.yml offline (Compose v2 binary per profile, mounts, variables, ports, pins)
	$(BIN)/python -m pytest tests/stack/test_compose.py -q

test-stack: $(STAMP) ## The compose stack run natively (Debian's PostgreSQL + Redis, Airflow on Celery) + the Postgres warehouse
	$(BIN)/python -m pytest -m stack -q

clean: ## Remove generated data, dbt target, caches (keeps .venv)
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
