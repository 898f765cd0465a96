"""`elt`: run each stage of the pipeline alone, or all of them.

The command line is the only place that wires the packages together: it starts
the mock APIs, hands settings to the connectors, runs dbt and the checks.
Heavy imports happen inside the commands so `elt --help` stays fast.
"""

from __future__ import annotations

import typer

from elt import errors
from elt.errors import SettingsError
from elt.extract import extract
from elt.mock_cli import app as mock_apis_app
from elt.settings import get_settings

app = typer.Typer(
    help=__doc__.split("\n\n")[0] + "\n\nStages: mock-apis -> extract -> transform -> check.",
    no_args_is_help=True,
    add_completion=False,
)


app.add_typer(mock_apis_app, name="mock-apis")
app.command("extract")(extract)

airbyte_app = typer.Typer(
    help="Run the connectors in an Airbyte you run (AIRBYTE_* settings, docs/airbyte.md).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(airbyte_app, name="airbyte")


@airbyte_app.command("deploy")
def airbyte_deploy(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (create/update/unchanged); change nothing."
    ),
    resend_secrets: bool = typer.Option(
        False,
        "--resend-secrets",
        help="Send the sources' secrets again: Airbyte returns stored ones masked, so a "
        "rotated key is not seen as a change otherwise.",
    ),
) -> None:
    """Register the connectors in Airbyte: definitions, sources, destination, connections.

    One custom source definition, source and connection per connector, into one DuckDB
    destination; a second run changes nothing. Prints the connection ids the DAG needs
    and writes them to <data>/airbyte/connections.json.
    """
    from connectors.redact import install
    from elt import airbyte

    install()  # whatever a library logs passes through the redactor too
    result = airbyte.deploy(
        get_settings(),
        airbyte.load_settings(),
        dry_run=dry_run,
        resend_secrets=resend_secrets,
        echo=typer.echo,
    )
    for line in result.report_lines():
        typer.echo(line)


@airbyte_app.command("run")
def airbyte_run() -> None:
    """Run the airbyte_elt DAG once through `airflow dags test` (SQLite): Airbyte syncs the
    deployed connections, then the raw gate, dbt, marts gate and publish, then the report.

    Needs AIRFLOW_CONN_AIRBYTE_DEFAULT (the Airbyte Airflow connects to), a deploy, and
    ELT_AIRBYTE_RAW_PATH where this machine reads the destination's file.
    """
    import os

    from elt import stages

    os.environ["ELT_RAW_FORMAT"] = "airbyte"  # the report DAG and the summary read it too
    get_settings.cache_clear()
    ok = stages.run_all(get_settings(), via_airflow=True, start_mock=False, dag_id="airbyte_elt")
    raise typer.Exit(0 if ok else 1)


@app.command()
def transform(
    select: str = typer.Option(None, "--select", "-s", help="dbt node selection."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models."),
    docs: bool = typer.Option(True, help="Also run `dbt docs generate`."),
) -> None:
    """Build a new warehouse with dbt, check it (marts gate), publish it if the gate passes."""
    from elt import stages

    result = stages.transform(get_settings(), select=select, full_refresh=full_refresh, docs=docs)
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(errors.FAILED)


@app.command()
def check(
    gate: str = typer.Argument(
        "all", help="raw (the raw files), marts (the published warehouse) or all."
    ),
    all_rows: bool = typer.Option(
        False, "--all-rows", help="Validate every raw row, not only those no gate has seen."
    ),
) -> None:
    """Run the quality gates alone (recorded in the audit table; publishes nothing)."""
    from elt import stages

    gates = {"raw": ("raw",), "marts": ("marts",), "all": ("raw", "marts")}
    if gate not in gates:
        raise SettingsError(f"unknown gate {gate!r}", hint="use `elt check raw|marts|all`")
    result = stages.check(get_settings(), gates[gate], all_rows=all_rows)
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(errors.FAILED)


@app.command()
def rollback(
    run_id: str = typer.Argument(
        None, help="The version to publish again (default: the one before the current)."
    ),
    list_only: bool = typer.Option(False, "--list", help="List the kept versions only."),
) -> None:
    """Publish an earlier warehouse again (the last ELT_KEEP_WAREHOUSES are kept)."""
    from elt import stages

    settings = get_settings()
    store = stages.warehouses(settings)
    if not list_only:
        with stages.locked(settings, "rollback", exclusive=["warehouse"]):
            version = store.rollback(run_id)
        typer.echo(f"{settings.warehouse} is now run {version.run_id} again")
    for v in store.versions():
        typer.echo(f"{'*' if v.current else ' '} {v.run_id}  {v.path}")


@app.command()
def run(
    via_airflow: bool = typer.Option(
        False, "--airflow", help="Run through `airflow dags test` instead of in-process."
    ),
    start_mock: bool = typer.Option(
        True, "--mock/--no-mock", help="Start the mock APIs and point the connectors at them."
    ),
) -> None:
    """Run everything: (mock APIs) -> extract both sources -> dbt build -> checks."""
    from elt import stages

    ok = stages.run_all(get_settings(), via_airflow=via_airflow, start_mock=start_mock)
    raise typer.Exit(0 if ok else 1)


@app.command()
def report() -> None:
    """Write the run report of the published warehouse (data/reports/latest.html)."""
    from elt import report as run_report

    typer.echo(f"run report: {run_report.write(get_settings())}")


@app.command("dbt-graph")
def dbt_graph_cmd() -> None:
    """`dbt parse`, then rewrite dags/dbt_graph.json: the models, seeds and snapshots the DAG
    draws as tasks. Run it after adding, removing or re-wiring a dbt model."""
    from elt import dbt_graph, stages

    settings = get_settings()
    proc = stages.dbt_parse(settings)
    if proc.returncode != 0:
        raise typer.Exit(proc.returncode)
    graph = dbt_graph.write(settings.dbt_target_dir / "manifest.json")
    typer.echo(f"{dbt_graph.GRAPH_FILE}: {len(graph['nodes'])} nodes")


@app.command(
    "airflow",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def airflow_cmd(
    ctx: typer.Context,
    with_mock: bool = typer.Option(
        False, "--with-mock", help="Also serve the mock APIs; point the connectors at them."
    ),
) -> None:
    """Run any `airflow ...` command with the embedded setup (SQLite, dags/, data/airflow).

    Examples: `elt airflow --with-mock standalone` (UI on :8080), `elt airflow dags list`.
    """
    import contextlib
    import os
    import signal
    import subprocess

    from elt import stages

    settings = get_settings()
    with contextlib.ExitStack() as stack:
        env = {**os.environ, **stages.airflow_env(settings)}
        if with_mock:
            env.update(stack.enter_context(stages.mock_apis_env(settings)))
        if ctx.args[:1] in (["standalone"], ["api-server"]):
            typer.echo(
                f"Airflow UI: {stages.airflow_url(settings)}  user: {stages.AIRFLOW_USER}  "
                f"password: in {stages.airflow_password_file(settings)} (written on first start)\n"
                f"Trigger a run from a shell: make trigger (or `elt airflow dags trigger "
                f"{stages.DAG_ID}`)"
            )
        # Airflow shuts down cleanly on SIGINT. A background job inherits SIGINT as
        # ignored, so restore it in the child and turn our SIGINT/SIGTERM (Ctrl-C,
        # `kill`, `docker stop`) into one SIGINT for it.
        child = subprocess.Popen(
            ["airflow", *ctx.args],
            env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

        def forward(signum: int, frame: object) -> None:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, forward)
        code = child.wait()
    raise typer.Exit(code)


@app.callback()
def _options(
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an expected failure too."
    ),
) -> None:
    global DEBUG
    DEBUG = debug


DEBUG = False


def exit_code(exc: BaseException) -> int:
    """The documented exit code of an expected failure (`elt.errors`)."""
    from connectors.errors import ConfigError, SourceLocked

    if isinstance(exc, errors.ExpectedError):
        return exc.exit_code
    if isinstance(exc, ConfigError):
        return errors.USAGE
    if isinstance(exc, SourceLocked):
        return errors.BUSY
    return errors.SOURCE


def main() -> None:
    """The `elt` command: expected failures print one message and exit with their code
    (see `elt.errors`); tracebacks only with `--debug` (or for bugs)."""
    import sys

    import click

    from connectors.errors import ConnectorError

    try:
        code = app(standalone_mode=False)
    except click.ClickException as exc:  # bad arguments: click's own message
        exc.show()
        sys.exit(exc.exit_code)
    except (errors.ExpectedError, ConnectorError) as exc:
        if DEBUG:
            raise
        typer.echo(f"elt: {exc}", err=True)
        typer.echo("(run `elt --debug ...` for the traceback)", err=True)
        sys.exit(exit_code(exc))
    except (KeyboardInterrupt, click.exceptions.Abort):
        typer.echo("elt: interrupted", err=True)
        sys.exit(errors.INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
