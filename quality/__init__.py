"""Data-quality checks: Great Expectations (GX Core 1.x) suites over DuckDB.

Where things are:

- `quality/suites.py` declares one suite per table, as data: which DuckDB file
  (`mailchimp`/`hubspot` raw files or the dbt `warehouse`), which table, and its
  expectations (keys, status vocabularies, rates, ...). Start reading there.
- `quality/runner.py` reads each table read-only into pandas and validates it
  with GX; `quality/reader.py` owns the DuckDB side.

Public API::

    from quality import QualityConfig, run_checks

    config = QualityConfig(databases={"mailchimp": raw_mc, "hubspot": raw_hs,
                                      "warehouse": wh}, gx_dir=..., docs_dir=...)
    result = run_checks(config, layers=("raw", "warehouse"))
    # suites=[...] runs a subset of SUITES; `elt` builds the config from its settings
    result.ok            # True when no expectation failed, no suite errored,
                         # and at least one expectation was evaluated
    result.passed        # expectations that passed (all suites)
    result.failed        # expectations that failed; a suite that could not run
                         # (file locked by a writer, column missing) counts all of its own
    result.results       # list[SuiteResult]: name, table, status
                         # (passed/failed/skipped/error), success, evaluated,
                         # successful, unsuccessful, failed_expectations
                         # (names), failures (one line each: "<expectation>:
                         # <what GX observed>"), reason, rows
    result.skipped, result.errors   # the suites that evaluated nothing, and why (.reason)
    result.suite("raw.hubspot.deals")  # one SuiteResult by name
    result.docs_index    # Path to the data-docs index.html, or None
    print(result.summary())

A table or file that does not exist yet (e.g. the warehouse before `elt
transform`) is reported as `skipped` with the reason; it is never counted as
passed. All reads use `read_only=True` and fail fast, naming the file, when a
writer holds it. GX's own project lives under `config.gx_dir`; data docs under
`config.docs_dir`. `elt check` runs everything and exits 1 unless `ok`.
"""

from quality.result import QualityResult, SuiteResult
from quality.runner import QualityConfig, run_checks
from quality.suites import SUITES

__all__ = ["SUITES", "QualityConfig", "QualityResult", "SuiteResult", "run_checks"]
