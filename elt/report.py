"""The run report: one static HTML page per published run, readable offline.

What a marketing or data person opens after a run: rows per layer and per stream
(this run's sync), the gates' verdicts and what is quarantined, dbt's time per
model, the sync log, and a small marketing dashboard from the marts (campaign
performance, the funnel by month, won revenue by source, people in both tools)
as plotly charts (the plotly library is embedded once: no CDN, no server).
Links lead to the dbt docs and the data-quality docs.

`collect` reads the figures (every file read-only, under shared locks); `render`
turns them into HTML. The figures are also embedded as JSON
(`<script id="report-data" type="application/json">`), so a test or a script
reads the same numbers the page shows. Written by the `saas_elt_report` DAG on
every marts update, by `elt run` and by `elt report`, to
`data/reports/run_<run_id>.html` and `data/reports/latest.html`.
"""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from elt.settings import Settings

SYNC_LOG_ROWS = 30
KEEP_PAGES = 48  # run pages kept (each embeds plotly, ~5 MB); latest.html is always there


def write(settings: Settings, *, run_id: str | None = None) -> Path:
    figures = collect(settings, run_id=run_id)
    out = settings.data_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    page = render(figures, out)
    path = out / f"run_{figures['run_id']}.html"
    for target in (path, out / "latest.html"):
        tmp = target.with_suffix(".tmp")
        tmp.write_text(page)
        os.replace(tmp, target)
    for old in sorted(out.glob("run_*.html"))[:-KEEP_PAGES]:
        old.unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- figures
def collect(settings: Settings, *, run_id: str | None = None) -> dict:
    from elt import stages

    current = stages.warehouses(settings).current()
    run_id = run_id or (current.run_id if current else "unpublished")
    layers = {f"warehouse.{k}": v for k, v in stages.layer_row_counts(settings.warehouse).items()}
    streams, sync_log = [], []
    for source in stages.SOURCES:
        with stages.locked(settings, "run report", shared=[f"raw-{source}"]):
            raw = settings.raw_path(source)
            layers |= {f"raw.{k}": v for k, v in stages.layer_row_counts(raw).items()}
            s, log = _syncs(raw, source)
        streams += s
        sync_log += log
    return {
        "run_id": run_id,
        "written_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "layers": layers,
        "streams": streams,
        "sync_log": sorted(sync_log, key=lambda r: r["started_at"], reverse=True),
        "gates": [
            {"gate": g, "ok": bool(ok), "critical": c, "warnings": w, "run_id": r}
            for g, ok, c, w, r in stages.last_gate_runs(settings)
        ],
        "quarantined": _quarantined(settings),
        "dbt": _dbt_timings(current.path.parent if current else None),
        "marketing": _marketing(settings) if settings.warehouse.exists() else {},
        "links": _links(settings),
    }


def _rows(con, sql: str, *params) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _syncs(raw: Path, source: str) -> tuple[list[dict], list[dict]]:
    """The newest sync's streams (this run's work) and the last rows of the sync log."""
    import duckdb

    if not raw.exists():
        return [], []
    con = duckdb.connect(str(raw), read_only=True)
    try:
        log = _rows(
            con,
            "select sync_id, stream, mode, status, records_read, records_written, pages, "
            "retries, strftime(started_at, '%Y-%m-%d %H:%M:%S') as started_at, "
            "round(epoch(finished_at - started_at), 2) as seconds, error "
            f"from raw_{source}._sync_log order by started_at desc limit {SYNC_LOG_ROWS}",
        )
        newest = log[0]["sync_id"] if log else None
        tables = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [f"raw_{source}"],
            ).fetchall()
        }
        streams = []
        for r in (x for x in log if x["sync_id"] == newest):
            total = None
            if r["stream"] in tables:
                q = f'select count(*) from raw_{source}."{r["stream"]}"'
                total = con.execute(q).fetchone()[0]
            keep = {k: v for k, v in r.items() if k not in ("sync_id", "error", "started_at")}
            streams.append({"source": source, **keep, "table_rows": total})
    finally:
        con.close()
    return streams, [{"source": source, **r} for r in log]


def _quarantined(settings: Settings) -> list[dict]:
    import duckdb

    if not settings.quality_db.exists():
        return []
    from elt import stages

    with stages.locked(settings, "run report", shared=["quality"]):
        con = duckdb.connect(str(settings.quality_db), read_only=True)
        try:
            return _rows(
                con,
                "select source, stream, reason, count(*) as records "
                "from quality.quality.quarantine where released_at is null "
                "group by all order by records desc",
            )
        except duckdb.CatalogException:
            return []
        finally:
            con.close()


def _dbt_timings(version_dir: Path | None) -> list[dict]:
    from elt.stages import DBT_RESULTS

    path = version_dir / DBT_RESULTS if version_dir else None
    if not path or not path.exists():
        return []
    out = []
    for r in json.loads(path.read_text())["results"]:
        kind, _, *rest = r["unique_id"].split(".")
        if kind in ("model", "seed", "snapshot"):
            out.append(
                {"node": rest[-1], "kind": kind, "status": r["status"],
                 "seconds": round(r.get("execution_time") or 0.0, 2)}
            )  # fmt: skip
    return sorted(out, key=lambda r: r["seconds"], reverse=True)


def _marketing(settings: Settings) -> dict:
    import duckdb

    from elt import stages

    with stages.locked(settings, "run report", shared=["warehouse"]):
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            return _marketing_queries(con)
        finally:
            con.close()


def _marketing_queries(con) -> dict:
    campaigns = _rows(
        con,
        "select campaign_title, strftime(sent_at, '%Y-%m-%d') as sent_on, recipients, "
        "unique_opens, unique_clicks, round(open_rate, 4) as open_rate, "
        "round(click_through_rate, 4) as click_through_rate, attributed_won_deals, "
        "attributed_won_revenue::double as attributed_won_revenue "
        "from marts.mart_campaign_performance order by sent_at",
    )
    funnel = _rows(
        con,
        "select strftime(month_start, '%Y-%m') as month, subscribed_people, engaged_people, "
        "crm_contacts, people_with_deals, won_people, won_deals, won_revenue::double as "
        "won_revenue from marts.mart_marketing_funnel order by month_start",
    )
    won = con.execute(
        "select coalesce(sum(won_amount), 0)::double from marts.fct_deals "
        "where is_won and not is_deleted"
    ).fetchone()[0]
    email = sum(c["attributed_won_revenue"] or 0 for c in campaigns)
    people = _rows(
        con,
        "select count(*) filter (where is_in_both_tools) as in_both_tools, "
        "count(*) filter (where is_in_mailchimp and not is_in_hubspot) as mailchimp_only, "
        "count(*) filter (where is_in_hubspot and not is_in_mailchimp) as hubspot_only "
        "from marts.dim_contacts where not is_deleted",
    )[0]
    return {
        "campaigns": campaigns,
        "funnel": funnel,
        "won_revenue_by_source": {
            "email campaigns (attributed)": round(email, 2),
            "other sources": round(won - email, 2),
        },
        "people": people,
    }


def _links(settings: Settings) -> dict[str, str]:
    from elt import stages

    docs = next((p for p in stages.docs_indexes(settings) if p.exists()), None)
    qdocs = settings.quality_docs_dir / "index.html"
    found = {"dbt docs": docs, "data-quality docs": qdocs if qdocs.exists() else None}
    out = settings.data_dir / "reports"
    return {k: os.path.relpath(v, out) for k, v in found.items() if v}


# --------------------------------------------------------------------------- HTML
def render(f: dict, out: Path | None = None) -> str:
    charts = _charts(f.get("marketing") or {})
    esc = html.escape
    gates = "".join(
        f"<li>{esc(g['gate'])} gate: <b>{'passed' if g['ok'] else 'FAILED'}</b>, "
        f"{g['critical']} critical, {g['warnings']} warning(s) (run {esc(str(g['run_id']))})</li>"
        for g in f["gates"]
    )
    links = "".join(f'<li><a href="{esc(h)}">{esc(k)}</a></li>' for k, h in f["links"].items())
    people = (f.get("marketing") or {}).get("people", {})
    data = json.dumps(f, default=str).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run {esc(f["run_id"])}</title>
<style>{CSS}</style></head><body>
<h1>Pipeline run {esc(f["run_id"])}</h1><p class="muted">written {esc(f["written_at"])}</p>
<div class="kpis">{_kpi("people in both tools", people.get("in_both_tools"))}
{_kpi("MailChimp only", people.get("mailchimp_only"))}
{_kpi("HubSpot only", people.get("hubspot_only"))}
{_kpi("rows in the marts", f["layers"].get("warehouse.marts"))}</div>
<h2>Marketing</h2><div class="charts">{charts}</div>
<h2>Quality gates</h2><ul>{gates or "<li>no gate has run</li>"}</ul>
<h3>Quarantined records (held back from the warehouse)</h3>{_table(f["quarantined"], "quarantine")}
<h2>Rows per layer</h2>{_table([{"layer": k, "rows": v} for k, v in f["layers"].items()], "layers")}
<h2>This run per stream</h2>{_table(f["streams"], "streams")}
<h2>dbt: time per model</h2>{_table(f["dbt"], "dbt")}
<h2>Sync log (newest {SYNC_LOG_ROWS} per source)</h2>{_table(f["sync_log"], "sync-log")}
<h2>Links</h2><ul>{links}</ul>
<script id="report-data" type="application/json">{data}</script>
</body></html>
"""


CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;font-size:.85em;margin-bottom:1em}"
    "td,th{border:1px solid #ddd;padding:.2em .6em;text-align:right}"
    "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
    ".kpis{display:flex;gap:1em}.kpi{border:1px solid #ddd;padding:.6em 1em;border-radius:6px}"
    ".kpi b{font-size:1.6em;display:block}.muted{color:#777}"
    ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1em}"
)


def _kpi(label: str, value) -> str:
    shown = f"{value:,}" if isinstance(value, int | float) else "-"
    return f'<div class="kpi"><b>{shown}</b>{html.escape(label)}</div>'


def _table(rows: list[dict], name: str) -> str:
    if not rows:
        return f'<p class="muted" id="{name}">none</p>'
    esc = html.escape
    head = "".join(f"<th>{esc(k)}</th>" for k in rows[0])

    def cell(v) -> str:
        if v is None:
            return ""
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else esc(str(v))

    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r.values()) + "</tr>" for r in rows
    )
    return f'<table id="{name}"><tr>{head}</tr>{body}</table>'


def _charts(m: dict) -> str:
    """Four plotly charts; the library is embedded once, in the first."""
    if not m:
        return '<p class="muted">nothing published yet</p>'
    import plotly.graph_objects as go

    camp, funnel, by_source = m["campaigns"], m["funnel"], m["won_revenue_by_source"]
    titles = [c["campaign_title"] for c in camp]
    figs = [
        go.Figure(
            [go.Bar(name="open rate", x=titles, y=[c["open_rate"] for c in camp]),
             go.Bar(name="click-through rate", x=titles,
                    y=[c["click_through_rate"] for c in camp])],
            layout={"title": "Campaign performance", "barmode": "group"},
        ),
        go.Figure(
            [go.Scatter(name=k.replace("_", " "), x=[r["month"] for r in funnel],
                        y=[r[k] for r in funnel], mode="lines")
             for k in ("subscribed_people", "engaged_people", "crm_contacts",
                       "people_with_deals", "won_people")],
            layout={"title": "Funnel by month"},
        ),
        go.Figure(
            [go.Bar(x=list(by_source), y=list(by_source.values()))],
            layout={"title": "Won revenue by source"},
        ),
        go.Figure(
            [go.Pie(labels=[k.replace("_", " ") for k in m["people"]],
                    values=list(m["people"].values()), hole=0.4)],
            layout={"title": "People in MailChimp and HubSpot"},
        ),
    ]  # fmt: skip
    parts = []
    for i, fig in enumerate(figs):
        fig.update_layout(height=360, margin={"l": 40, "r": 10, "t": 50, "b": 40})
        parts.append(
            fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"responsive": True})
        )
    return "".join(f'<div class="chart">{p}</div>' for p in parts)
