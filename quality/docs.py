"""Data docs: static HTML pages rendered from the store's audit rows, readable offline.

GX's own Data Docs load bootstrap-table and its CSS from CDNs and fill their
tables with JavaScript, so offline the validation table is empty. They also
know nothing of the gates' SQL checks (quarantine, volume, drift) or of a
finding's sample keys. So the docs are ours: plain server-rendered tables with
inline CSS, no scripts, no network, built from the audit rows (the evidence
itself) after every gate run:

- `index.html`: the latest gate runs, newest first, each linking to its page;
- `runs/<run_id>-<gate>.html`: one gate run: its verdict, then every result
  (failures first) with severity, observed value and sample keys.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from quality.store import audit_rows, gate_runs, open_store

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tr.critical td { background: #fde2e1; } tr.warning td { background: #fff4d6; }
tr.info td { background: #e8f1fd; }
.ok { color: #137333; font-weight: bold; } .failed { color: #b3261e; font-weight: bold; }
code { font-size: 12px; }
td.keys code { white-space: pre-wrap; }
#validation-results { table-layout: fixed; }
#validation-results td { overflow-wrap: anywhere; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
""" + "".join(  # the results table's column widths, in %
    f"#validation-results th:nth-child({i}) {{ width: {w}%; }}\n"
    for i, w in enumerate((11, 13, 15, 6, 5, 24, 6, 11, 9), start=1)
)


def page_path(docs_dir: Path, run_id: str, gate: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    return docs_dir / "runs" / f"{safe}-{gate}.html"


def render(store: Path, docs_dir: Path, run_id: str, gate: str, *, runs: int = 50) -> Path:
    """Write this run's page and the index; return the page."""
    with open_store(store) as con:
        rows = audit_rows(con, run_id, gate)
        recent = gate_runs(con, runs)
    this = next((r for r in recent if r["run_id"] == run_id and r["gate"] == gate), None)
    page = page_path(docs_dir, run_id, gate)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(_run_page(run_id, gate, this, rows), encoding="utf-8")
    (docs_dir / "index.html").write_text(_index(docs_dir, recent), encoding="utf-8")
    return page


def _html(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _table(table_id: str, headers: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """`rows` are (css class, cells already escaped); a column's class is its header's."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    classes = [h.split()[-1] for h in headers]
    body = "".join(
        f'<tr class="{cls}">'
        + "".join(f'<td class="{k}">{c}</td>' for k, c in zip(classes, cells, strict=True))
        + "</tr>"
        for cls, cells in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _verdict(ok: bool) -> str:
    return '<span class="ok">passed</span>' if ok else '<span class="failed">FAILED</span>'


def _index(docs_dir: Path, runs: list[dict[str, Any]]) -> str:
    rows = []
    for r in runs:
        href = page_path(docs_dir, r["run_id"], r["gate"]).relative_to(docs_dir).as_posix()
        cells = [
            f'<a href="{escape(href)}">{escape(r["run_id"])}</a>',
            escape(r["gate"]),
            _verdict(r["ok"]),
            f"{r['passed']}/{r['checks']}",
            str(r["critical"]),
            str(r["warnings"]),
            str(r["infos"]),
            escape(f"{r['finished_at']:%Y-%m-%d %H:%M:%S %Z}"),
        ]
        rows.append(("" if r["ok"] else "critical", cells))
    headers = ["run", "gate", "verdict", "passed", "critical", "warnings", "info", "finished"]
    body = (
        "<h1>Data quality: gate runs</h1>"
        "<p>Each raw gate runs before dbt, each marts gate on a new build before it is "
        "published. The evidence is the <code>quality.audit</code> table of the quality store.</p>"
        + _table("validation-runs", headers, rows)
    )
    return _html("Data quality: gate runs", body)


def _run_page(run_id: str, gate: str, run: dict[str, Any] | None, rows: list[dict]) -> str:
    order = {"critical": 0, "warning": 1, "info": 2}
    rows = sorted(rows, key=lambda r: (r["success"], order.get(r["severity"], 3), r["suite"]))
    cells = []
    for r in rows:
        keys = "\n".join(r["sample_keys"] or [])
        if keys and r["key_columns"]:
            keys = f"{'|'.join(r['key_columns'])}:\n{keys}"
        where = ".".join(p for p in (r["table_name"], r["column_name"]) if p)
        cls = "" if r["success"] else r["severity"]
        cells.append(
            (
                cls,
                [
                    escape(r["suite"]),
                    f"<code>{escape(where)}</code>",
                    escape(r["expectation"]),
                    escape(r["severity"]),
                    "passed" if r["success"] else "failed",
                    escape(r["observed_value"] or ""),
                    "" if r["unexpected_count"] is None else str(r["unexpected_count"]),
                    f"<code>{escape(keys)}</code>",
                    escape(r["hint"] or ""),
                ],
            )
        )
    headers = [
        "suite",
        "table.column",
        "expectation",
        "severity",
        "result",
        "observed",
        "unexpected",
        "sample keys",
        "what to do",
    ]
    verdict = _verdict(run["ok"]) if run else "unknown"
    body = (
        f'<p><a href="../index.html">all gate runs</a></p>'
        f"<h1>{escape(gate)} gate, run {escape(run_id)}: {verdict}</h1>"
        + (f"<pre>{escape(run['summary'] or '')}</pre>" if run else "")
        + "<h2>Every result, failures first</h2>"
        + _table("validation-results", headers, cells)
    )
    return _html(f"{gate} gate {run_id}", body)
