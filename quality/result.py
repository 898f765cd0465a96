"""What a gate returns: every result as a `Finding`, rolled up per suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from quality.spec import Severity

Gate = Literal["raw", "marts"]
#: Where a finding comes from: a GX expectation, or one of the gate's SQL checks.
Kind = Literal["gx", "quarantine", "volume", "drift", "error"]


@dataclass(frozen=True)
class Finding:
    """One result, passed or failed: what the audit table keeps a row of."""

    suite: str  # e.g. raw.mailchimp.members
    table: str | None  # schema.table
    column: str | None
    expectation: str  # e.g. expect_column_values_to_be_in_set(status)
    severity: Severity
    success: bool
    observed: str = ""
    unexpected_count: int | None = None
    #: Primary-key values of offending rows, each joined with '|' in key order.
    sample_keys: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
    kind: Kind = "gx"
    #: What to do about it, for a failure.
    hint: str = ""

    @property
    def failed(self) -> bool:
        return not self.success

    def message(self) -> str:
        """One line: severity, suite, table.column, expectation, observed value, sample keys."""
        where = ".".join(p for p in (self.table, self.column) if p) or "-"
        line = f"{self.severity.upper()} {self.suite}: {where} {self.expectation}: {self.observed}"
        if self.sample_keys:
            keys = "|".join(self.key_columns) or "key"
            line += f"; keys ({keys}): {', '.join(self.sample_keys)}"
        if self.hint:
            line += f" -> {self.hint}"
        return line


@dataclass
class SuiteRun:
    """One suite's line in the summary: rows checked and its findings' verdict."""

    name: str
    table: str | None = None
    rows: int | None = None  # rows in the table
    checked: int | None = None  # rows the row-level expectations saw
    note: str = ""


@dataclass
class GateResult:
    """The outcome of one gate run. `ok`: no critical finding failed."""

    gate: Gate
    run_id: str
    findings: list[Finding] = field(default_factory=list)
    suites: list[SuiteRun] = field(default_factory=list)
    quarantine_changed: bool = False
    #: quarantined now (open rows after this run), new this run, released this run
    quarantine: dict[str, int] = field(default_factory=dict)
    docs_index: Path | None = None
    docs_page: Path | None = None
    seconds: float = 0.0

    @property
    def critical(self) -> list[Finding]:
        return [f for f in self.findings if f.failed and f.severity == "critical"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.failed and f.severity == "warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.failed and f.severity == "info"]

    @property
    def ok(self) -> bool:
        return not self.critical

    def suite(self, name: str) -> list[Finding]:
        """The findings of one suite, e.g. `raw.hubspot.deals`."""
        found = [f for f in self.findings if f.suite == name]
        if not found and name not in {s.name for s in self.suites}:
            raise KeyError(f"no suite {name!r}; suites: {[s.name for s in self.suites]}")
        return found

    def suite_line(self, run: SuiteRun) -> str:
        mine = [f for f in self.findings if f.suite == run.name]
        passed = sum(f.success for f in mine)
        counts = [f"{passed}/{len(mine)} passed"]
        for severity in ("critical", "warning", "info"):
            n = sum(f.failed and f.severity == severity for f in mine)
            if n:
                counts.append(f"{n} {severity}")
        rows = "" if run.rows is None else f"{run.rows:,}"
        checked = "" if run.checked is None else f"{run.checked:,}"
        note = f" ({run.note})" if run.note else ""
        return (
            f"{run.name}  rows {rows or '-'}  checked {checked or '-'}  {', '.join(counts)}{note}"
        )

    def summary(self) -> str:
        """One line per suite, one per critical failure and warning, then the verdict."""
        lines = [f"{self.gate} gate, run {self.run_id}:"]
        lines += [f"  {self.suite_line(s)}" for s in self.suites]
        lines += [f.message() for f in self.critical]
        lines += [f.message() for f in self.warnings]
        verdict = "passed" if self.ok else "FAILED"
        tail = (
            f"{self.gate} gate {verdict}: {len(self.critical)} critical, "
            f"{len(self.warnings)} warning(s), {len(self.infos)} info, "
            f"{sum(f.success for f in self.findings)} of {len(self.findings)} checks passed"
        )
        if self.quarantine:
            q = self.quarantine
            tail += (
                f"; quarantine: {q.get('open', 0)} record(s) held, "
                f"{q.get('new', 0)} new, {q.get('released', 0)} released"
            )
        lines.append(tail)
        if self.docs_page:
            lines.append(f"data docs: {self.docs_page} (index {self.docs_index})")
        return "\n".join(lines)
