"""`elt extract`: run the connectors from the command line.

Each source's config comes from `elt.settings` (`Settings.source_config`); a rich
progress bar per stream on a terminal, plain log lines otherwise, and a final
table of rows per stream.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING

import typer

from connectors.errors import ConnectorError, SyncFailed
from connectors.registry import SOURCES
from elt.settings import get_settings

if TYPE_CHECKING:  # heavy (DuckDB, Arrow): imported when the command runs
    from connectors.loader import StreamResult
    from connectors.sync import SyncResult

log = logging.getLogger("elt.extract")


class LogProgress:
    """Plain log lines (no terminal): one line per finished stream, one per ~10 s."""

    def __init__(self) -> None:
        self._last = 0.0
        self._counts: dict[str, list[int]] = {}

    def start(self, source: str, stream: str) -> None:
        self._counts[f"{source}.{stream}"] = [0, 0]
        log.info("%s.%s: started", source, stream)

    def advance(self, source: str, stream: str, records: int, pages: int) -> None:
        c = self._counts.setdefault(f"{source}.{stream}", [0, 0])
        c[0] += records
        c[1] += pages
        now = time.monotonic()
        if now - self._last > 10:
            self._last = now
            log.info("%s.%s: %d records, %d pages so far", source, stream, c[0], c[1])

    def finish(self, source: str, result: StreamResult) -> None:
        pass  # the sync logs a summary line per stream


class RichProgress:
    def __init__(self, console) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<32}"),
            BarColumn(bar_width=None),
            TextColumn("{task.completed:>10,.0f} records"),
            TextColumn("{task.fields[pages]:>6} pages"),
            TextColumn("{task.fields[rate]:>9} rec/s"),
            TimeElapsedColumn(),
            console=console,
        )
        self.tasks: dict[str, tuple[int, float]] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, source: str, stream: str) -> None:
        key = f"{source}.{stream}"
        task = self.progress.add_task(key, total=None, pages=0, rate="-")
        self.tasks[key] = (task, time.monotonic())

    def advance(self, source: str, stream: str, records: int, pages: int) -> None:
        task, t0 = self.tasks[f"{source}.{stream}"]
        t = self.progress.tasks[task]
        done = t.completed + records
        rate = done / max(time.monotonic() - t0, 1e-6)
        self.progress.update(
            task, completed=done, pages=t.fields["pages"] + pages, rate=f"{rate:,.0f}"
        )

    def finish(self, source: str, result: StreamResult) -> None:
        task, _ = self.tasks[f"{source}.{result.stream}"]
        mark = "[green]✓" if result.status == "succeeded" else "[red]✗"
        self.progress.update(task, total=max(result.records_read, 1), completed=result.records_read)
        self.progress.update(task, description=f"{mark} {source}.{result.stream}")


def _table(results: list[SyncResult], console) -> None:
    from rich.table import Table

    table = Table(title="extract: rows per stream")
    for col in ("source", "stream", "mode", "status", "read", "written", "rows", "pages", "s"):
        table.add_column(
            col, justify="right" if col in ("read", "written", "rows", "pages", "s") else "left"
        )
    for r in results:
        for s in r.streams.values():
            table.add_row(
                r.source,
                s.stream,
                s.mode,
                s.status if s.status == "succeeded" else f"[red]{s.status}",
                f"{s.records_read:,}",
                f"{s.records_written:,}",
                f"{s.rows:,}",
                f"{s.pages:,}",
                f"{s.seconds:.1f}",
            )
    console.print(table)


def _debug() -> bool:
    from elt import cli

    return cli.DEBUG


def extract(
    source: str = typer.Option(
        None, "--source", "-s", help="mailchimp or hubspot (default: both, at the same time)."
    ),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Ignore saved cursors and re-read every record (merged)."
    ),
    streams: str = typer.Option(
        None, "--streams", help="Comma-separated stream names (default: all of the source)."
    ),
) -> None:
    """Extract MailChimp and/or HubSpot into the raw DuckDB files (incremental by default)."""
    from rich.console import Console

    from connectors.sync import SyncResult, get_source, run_syncs

    settings = get_settings()
    sources = [source] if source else list(SOURCES)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        typer.echo(f"unknown --source {unknown[0]!r}; choose one of {sorted(SOURCES)}", err=True)
        raise typer.Exit(2)
    wanted = [s.strip() for s in streams.split(",")] if streams else None
    console = Console(stderr=True)
    tty = console.is_terminal
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING if tty else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    from connectors.redact import install

    install()  # whatever any library logs passes through the redactor too
    results: list[SyncResult] = []
    failed = False
    names: dict[str, list[str] | None] = {}
    for src in sources:
        if wanted:
            known = {s.name for s in get_source(src).streams}
            if not [n for n in wanted if n in known]:
                continue
            names[src] = [n for n in wanted if n in known]
        else:
            names[src] = None
    from elt.stages import locked

    configs = {src: settings.source_config(src) for src in names}
    with (
        locked(settings, "extract", exclusive=[f"raw-{src}" for src in names]),
        RichProgress(console) if tty else nullcontext(LogProgress()) as progress,
    ):
        outcome = run_syncs(configs, streams=names, full_refresh=full_refresh, progress=progress)
    for src, res in outcome.items():
        if isinstance(res, SyncResult):
            results.append(res)
        elif isinstance(res, SyncFailed):
            results.append(res.result)  # type: ignore[arg-type]
            typer.echo(f"extract {src} failed: {res}", err=True)
            failed = True
        elif isinstance(res, ConnectorError):
            typer.echo(f"extract {src} failed: {type(res).__name__}: {res}", err=True)
            failed = True
        else:
            raise res
        if isinstance(res, ConnectorError) and _debug():
            import traceback

            typer.echo("".join(traceback.format_exception(res)), err=True)
    if wanted and not results and not failed:
        typer.echo(f"no stream named {wanted} in {sources}", err=True)
        raise typer.Exit(2)
    _table(results, Console(file=sys.stdout, width=120))
    if failed:
        from elt.errors import SOURCE

        raise typer.Exit(SOURCE)
