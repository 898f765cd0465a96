"""`elt`: run each stage of the pipeline alone, or all of them.

The command line is the only place that wires the packages together: it starts
the mock APIs, hands settings to the connectors, runs dbt and the checks.
Heavy imports happen inside the commands so `elt --help` stays fast.
"""

from __future__ import annotations

import typer

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


@app.command()
def transform(
    select: str = typer.Option(None, "--select", "-s", help="dbt node selection."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models."),
    docs: bool = typer.Option(True, help="Also run `dbt docs generate`."),
) -> None:
    """Run `dbt build` (models, snapshots, seeds, tests) over the raw layer."""
    from elt import stages

    result = stages.transform(get_settings(), select=select, full_refresh=full_refresh, docs=docs)
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def check() -> None:
    """Run the Great Expectations checks on the raw layer and the warehouse."""
    from elt import stages

    result = stages.check(get_settings())
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(1)


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


if __name__ == "__main__":
    app()
