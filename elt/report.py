"""The run report: one static HTML page per published run (no server, no script).

Written by the `saas_elt_report` DAG on every marts update (and `elt report`):
rows per marts table, the gates' verdicts, the pipeline summary, links to dbt docs
and the data-quality docs. `data/reports/latest.html` is always the newest.
"""

from __future__ import annotations

import html
import os
from datetime import UTC, datetime
from pathlib import Path

from elt.settings import Settings


def write(settings: Settings, *, run_id: str | None = None) -> Path:
    from elt import stages

    current = stages.warehouses(settings).current()
    run_id = run_id or (current.run_id if current else "unpublished")
    tables = stages.marts_row_counts(settings) if settings.warehouse.exists() else {}
    gates = stages.last_gate_runs(settings)
    summary = stages.pipeline_summary(settings)
    docs = next((p for p in stages.docs_indexes(settings) if p.exists()), None)
    qdocs = settings.quality_docs_dir / "index.html"
    out = settings.data_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    page = _page(run_id, tables, gates, summary, docs, qdocs if qdocs.exists() else None, out)
    path = out / f"run_{run_id}.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page)
    os.replace(tmp, path)
    latest = out / "latest.html"
    tmp.with_name("latest.tmp").write_text(page)
    os.replace(tmp.with_name("latest.tmp"), latest)
    return path


def _page(run_id, tables, gates, summary, docs, qdocs, out: Path) -> str:
    esc = html.escape
    rows = "".join(f"<tr><td>{esc(t)}</td><td>{n:,}</td></tr>" for t, n in tables.items())
    gate_rows = "".join(
        f"<tr><td>{esc(g)}</td><td>{'passed' if ok else 'FAILED'}</td><td>{c}</td><td>{w}</td>"
        f"<td>{esc(str(r))}</td></tr>"
        for g, ok, c, w, r in gates
    )
    links = "".join(
        f'<li><a href="{esc(os.path.relpath(p, out))}">{label}</a></li>'
        for label, p in (("dbt docs", docs), ("data-quality docs", qdocs))
        if p
    )
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run {esc(run_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}
pre{{background:#f6f6f6;padding:1em}}
</style></head><body>
<h1>Pipeline run {esc(run_id)}</h1><p>written {made}</p>
<h2>Marts</h2><table id="marts"><tr><th>table</th><th>rows</th></tr>{rows}</table>
<h2>Gates</h2><table id="gates"><tr><th>gate</th><th>verdict</th><th>critical</th>
<th>warnings</th><th>run</th></tr>{gate_rows}</table>
<h2>Links</h2><ul>{links}</ul>
<h2>Summary</h2><pre>{esc(summary)}</pre>
</body></html>
"""
