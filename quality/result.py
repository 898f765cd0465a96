"""What a check run returns: per-suite outcomes and the roll-up the CLI and DAG print."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["passed", "failed", "skipped", "error"]


@dataclass
class SuiteResult:
    """One table's suite. `skipped` and `error` suites evaluated nothing."""

    name: str
    layer: str
    table: str
    path: Path
    status: Status
    evaluated: int = 0
    successful: int = 0
    unsuccessful: int = 0
    #: Names of the failed expectations, e.g. `expect_column_values_to_be_unique(id)`.
    failed_expectations: list[str] = field(default_factory=list)
    #: One line per failed expectation: its name, then what GX observed.
    failures: list[str] = field(default_factory=list)
    #: Why the suite was skipped or could not run.
    reason: str | None = None
    rows: int | None = None

    @property
    def success(self) -> bool:
        return self.status == "passed"


@dataclass
class QualityResult:
    """The outcome of `run_checks`.

    `passed`/`failed` count expectations. A suite that could not run (a locked
    file, a missing column) counts every expectation it declares as failed;
    skipped suites (table not built yet) count in neither.
    """

    results: list[SuiteResult]
    docs_index: Path | None = None
    declared: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return sum(r.successful for r in self.results)

    @property
    def failed(self) -> int:
        return sum(
            self.declared.get(r.name, 0) if r.status == "error" else r.unsuccessful
            for r in self.results
        )

    @property
    def skipped(self) -> list[SuiteResult]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def errors(self) -> list[SuiteResult]:
        return [r for r in self.results if r.status == "error"]

    @property
    def ok(self) -> bool:
        """No expectation failed, no suite errored, and something was actually checked."""
        return self.failed == 0 and self.passed > 0

    def suite(self, name: str) -> SuiteResult:
        """The result of one suite by name, e.g. `raw.hubspot.deals`."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no suite named {name!r}; suites: {[r.name for r in self.results]}")

    def summary(self) -> str:
        """A short table: one line per suite, then failures and skips with reasons."""
        width = max((len(r.name) for r in self.results), default=10)
        lines = [f"{'suite':<{width}}  {'status':<7}  {'rows':>7}  expectations"]
        for r in self.results:
            rows = "" if r.rows is None else str(r.rows)
            counts = f"{r.successful}/{r.evaluated} passed" if r.evaluated else "-"
            lines.append(f"{r.name:<{width}}  {r.status:<7}  {rows:>7}  {counts}")
        for r in self.results:
            for failure in r.failures:
                lines.append(f"FAILED  {r.name}: {failure}")
            if r.status in ("skipped", "error"):
                lines.append(f"{r.status.upper():<7} {r.name}: {r.reason}")
        verdict = "OK" if self.ok else "NOT OK"
        if not self.passed and not self.failed:
            verdict += " (nothing was checked: build the raw layer or the warehouse first)"
        lines.append(
            f"{verdict}: {self.passed} expectations passed, {self.failed} failed, "
            f"{len(self.errors)} suite(s) could not run, {len(self.skipped)} skipped"
        )
        if self.docs_index:
            lines.append(f"data docs: {self.docs_index}")
        return "\n".join(lines)
