"""`elt mock-apis`: serve the mock APIs (MOCK_* settings), or drive a running one.

elt mock-apis --port 8900 --seed 42 --scale 1          # serve (Ctrl-C stops)
elt mock-apis advance --url http://127.0.0.1:8900 --days 1 --change-rate 0.01
elt mock-apis faults --url ... --kind 503 --rate 0.1 --seed 7
elt mock-apis clear-faults --url ...
elt mock-apis ground-truth --url ... --out truth.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from elt.settings import get_settings

app = typer.Typer(
    help="Mock MailChimp Marketing v3 + HubSpot CRM v3 APIs (serve, advance time, faults).",
    invoke_without_command=True,
    add_completion=False,
)


def _default_url() -> str:
    s = get_settings()
    return f"http://{s.mock_host}:{s.mock_port or 8900}"


URL = typer.Option(None, "--url", help="Running mock server (default http://MOCK_HOST:MOCK_PORT).")


def _call(method: str, url: str | None, path: str, body: dict | None = None) -> dict:
    import requests

    base = (url or _default_url()).rstrip("/")
    try:
        resp = requests.request(method, f"{base}/_admin/{path}", json=body, timeout=300)
    except requests.ConnectionError as exc:
        typer.echo(
            f"cannot reach the mock APIs at {base}: {exc}. Is `elt mock-apis` running?", err=True
        )
        raise typer.Exit(2) from None
    if resp.status_code != 200:
        typer.echo(
            f"{method} {base}/_admin/{path} failed ({resp.status_code}): {resp.text}", err=True
        )
        raise typer.Exit(1)
    return resp.json()


@app.callback()
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Bind address (default MOCK_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default MOCK_PORT; 0 = a free port, printed)."),
    seed: int = typer.Option(None, help="World seed (default MOCK_SEED)."),
    scale: float = typer.Option(None, help="Entity-count multiplier (default MOCK_SCALE)."),
    overlap_rate: float = typer.Option(None, help="Share of HubSpot contacts also in MailChimp."),
    dirty_rate: float = typer.Option(None, help="Share of dirty records."),
    hubspot_rate_limit: int = typer.Option(
        None, help="HubSpot requests per 10 s (TEN_SECONDLY_ROLLING); default off."
    ),
    fault: list[str] = typer.Option(
        [], help="Fault at start-up as KIND:RATE[:SEED], e.g. 503:0.05:1 (repeatable)."
    ),
) -> None:
    """Serve both APIs until Ctrl-C (when no subcommand is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from mock_apis.app import Limits
    from mock_apis.serve import parse_fault, serve
    from mock_apis.world import WorldConfig

    s = get_settings()
    config = WorldConfig(
        seed=s.mock_seed if seed is None else seed,
        scale=s.mock_scale if scale is None else scale,
        overlap_rate=s.mock_overlap_rate if overlap_rate is None else overlap_rate,
        dirty_rate=s.mock_dirty_rate if dirty_rate is None else dirty_rate,
    )
    serve(
        config,
        host=host or s.mock_host,
        port=s.mock_port if port is None else port,
        limits=Limits(hubspot_max=hubspot_rate_limit),
        faults=[parse_fault(spec) for spec in fault],
    )


@app.command()
def advance(
    url: str = URL,
    days: float = typer.Option(1.0, help="How far to move the world clock."),
    change_rate: float = typer.Option(0.01, help="Share of records changed per day."),
) -> None:
    """Move the world clock: new, updated, unsubscribed and archived records."""
    typer.echo(
        json.dumps(_call("POST", url, "advance", {"days": days, "change_rate": change_rate}))
    )


@app.command()
def faults(
    url: str = URL,
    kind: str = typer.Option(
        ..., help="429_retry_after, 429, 500, 502, 503, slow, truncated_json, drop_connection"
    ),
    rate: float = typer.Option(0.1, help="Share of data requests hit."),
    seed: int = typer.Option(0, help="Seed: the same seed hits the same requests."),
    ms: int = typer.Option(1000, help="Delay for `slow`."),
    retry_after: int = typer.Option(1, help="Retry-After seconds for 429_retry_after."),
    path_prefix: str = typer.Option("", help="Only requests under this path, e.g. /3.0/lists."),
) -> None:
    """Inject a fault into the data endpoints (replaces an earlier fault of the same kind)."""
    body = {"kind": kind, "rate": rate, "seed": seed, "ms": ms, "retry_after": retry_after,
            "path_prefix": path_prefix}  # fmt: skip
    typer.echo(json.dumps(_call("POST", url, "faults", body)))


@app.command("clear-faults")
def clear_faults(url: str = URL) -> None:
    """Remove every injected fault."""
    typer.echo(json.dumps(_call("DELETE", url, "faults")))


@app.command("ground-truth")
def ground_truth(
    url: str = URL,
    out: Path = typer.Option(None, help="Write the JSON here (default: stdout)."),
) -> None:
    """What the server holds now, per raw stream (see mock_apis.groundtruth)."""
    truth = _call("GET", url, "ground-truth")
    text = json.dumps(truth, indent=1, sort_keys=True)
    if out is None:
        sys.stdout.write(text + "\n")
        return
    out.write_text(text)
    typer.echo(f"wrote {out}: " + ", ".join(f"{k}={len(v)}" for k, v in truth.items()), err=True)
