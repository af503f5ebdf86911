"""The `shelfwise` command: a thin Typer shell over the Python API.

Exit codes: 0 success; 1 a file or command failed; 2 wrong usage; 3 data loaded but some rows were
quarantined (pass --allow-quarantine to treat that as success); 4 the warehouse stayed busy; 5 not a workspace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from shelfwise import __version__
from shelfwise.config import ConfigError
from shelfwise.ingest import FailedLoad, IngestError, LoadResult, ingest_files
from shelfwise.messages import default_language, say
from shelfwise.privacy.audit import record_table_read
from shelfwise.warehouse import EXPORT_FORMATS, WarehouseBusyError, export_table
from shelfwise.warehouse.access import list_tables, query
from shelfwise.warehouse.export import ExportError
from shelfwise.workspace import NotAWorkspaceError, Workspace, init_workspace, open_workspace

EXIT_FAILED, EXIT_QUARANTINE, EXIT_BUSY, EXIT_NO_WORKSPACE = 1, 3, 4, 5

app = typer.Typer(
    name="shelfwise",
    help="Shelfwise — the trade-marketing analyst's autopilot / o piloto automático do analista de trade.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_global_options: dict[str, Path | None] = {}
"""Options given before the command name (`shelfwise -w DIR tables`), set by the callback of each invocation."""
console = Console()
errors = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (else $SHELFWISE_WORKSPACE, else the current folder)."),
]


def _fail(message: object, code: int) -> NoReturn:
    """Print an error (as plain text: file names may hold brackets Rich would read as markup) and exit."""
    errors.print(str(message), style="red", markup=False, highlight=False)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"shelfwise {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    workspace: WorkspaceOption = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Shelfwise: load retail data, check it, and (soon) forecast, replenish, segment and report."""
    _global_options["workspace"] = workspace


def _open(path: Path | None) -> Workspace:
    path = path or _global_options.get("workspace")
    try:
        return open_workspace(path)
    except NotAWorkspaceError as error:
        _fail(error, EXIT_NO_WORKSPACE)
    except ConfigError as error:
        _fail(f"shelfwise.toml: {error}", EXIT_FAILED)


def _waiting(workspace: Workspace):
    return lambda holder: errors.print(say("wait", workspace.settings.workspace.language, holder=holder))


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to make a workspace (default: current).")] = None,
) -> None:
    """Create a workspace: shelfwise.toml, the DuckDB warehouse, landing/ and artifacts/."""
    workspace = init_workspace(directory)
    console.print(say("init.done", workspace.settings.workspace.language, root=workspace.root))


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to load: CSV, .xlsx, Parquet, JSON Lines, .gz, .zip.")],
    workspace: WorkspaceOption = None,
    table: Annotated[str | None, typer.Option("--table", "-t", help="Target table (else from the file name).")] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="YAML/TOML file mapping canonical columns to headers.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="'upsert' or 'replace-period' (default per table in shelfwise.toml).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Load even if the same content was loaded before.")] = False,
    allow_quarantine: Annotated[
        bool, typer.Option(help="Exit 0 even when some rows were quarantined.")
    ] = False,
) -> None:
    """Load files into the warehouse; bad rows go to quarantine with their line and reason."""
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as describe:
        try:
            outcomes = ingest_files(
                ws, files, table=table, mapping_file=mapping, mode=mode, force=force,
                on_file=lambda f: describe(say("ingest.loading", lang, file=f.name)),
                on_wait=_waiting(ws),
            )
        except IngestError as error:
            _fail(say('ingest.failed', lang, error=error.describe()), EXIT_FAILED)
        except WarehouseBusyError as error:
            _fail(error, EXIT_BUSY)
    raise typer.Exit(_report_loads(outcomes, lang, allow_quarantine))


def _report_loads(outcomes: list[LoadResult | FailedLoad], lang: str, allow_quarantine: bool) -> int:
    quarantined = False
    for outcome in outcomes:
        if isinstance(outcome, FailedLoad):
            errors.print(say("ingest.failed", lang, error=outcome.error.describe()), style="red", markup=False)
        elif outcome.status == "unchanged":
            console.print(say("ingest.unchanged", lang, file=outcome.file.name, why=outcome.message))
        else:
            console.print(say(
                "ingest.loaded", lang, file=outcome.file.name, table=outcome.table, read=outcome.rows_read,
                accepted=outcome.rows_accepted, quarantined=outcome.rows_quarantined, loaded=outcome.rows_loaded,
            ))
            if outcome.unknown_ids:
                console.print(say("ingest.unknown", lang, ids=outcome.unknown_ids))
            if outcome.duplicate_rows:
                console.print(say("ingest.duplicates", lang, n=outcome.duplicate_rows))
            if outcome.erased_rows:
                console.print(say("ingest.erased", lang, n=outcome.erased_rows))
            if outcome.rows_quarantined:
                quarantined = True
                console.print(say("ingest.quarantine_hint", lang, load=outcome.load_id))
    failed = sum(isinstance(o, FailedLoad) for o in outcomes)
    unchanged = sum(isinstance(o, LoadResult) and o.status == "unchanged" for o in outcomes)
    console.print(say("ingest.summary", lang, files=len(outcomes), loaded=len(outcomes) - failed - unchanged,
                      unchanged=unchanged, failed=failed))
    if failed:
        return EXIT_FAILED
    return EXIT_QUARANTINE if quarantined and not allow_quarantine else 0


@app.command()
def quality(workspace: WorkspaceOption = None) -> None:
    """Check the loaded data and write the findings to quality_issues."""
    from shelfwise.quality import run_quality, summarize
    from shelfwise.runs import recorded_run

    ws = _open(workspace)
    lang = ws.settings.workspace.language
    try:
        with ws.warehouse.connect(write=True, purpose="quality", on_wait=_waiting(ws)) as con, \
                recorded_run(con, "quality", {}) as run_id:
            findings = run_quality(con, run_id=run_id, today=date.today(), language=lang)
    except WarehouseBusyError as error:
        _fail(error, EXIT_BUSY)
    console.print(summarize(findings, lang), markup=False, highlight=False)


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Argument(help="Folder for the demo workspace.")] = Path("shelfwise-demo"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data (same seed, same data).")] = 7,
) -> None:
    """Build a demo workspace: a São Paulo chain and a shopping mall, loaded, checked, forecast and replenished.

    The mall's shoppers are then resolved into persons, segmented, valued and scored for the partner offer.
    """
    from shelfwise.pipelines.demo import run_demo
    from shelfwise.quality import summarize

    lang = default_language()
    console.print(say("demo.generating", lang, root=directory))
    with _spinner() as describe:
        report = run_demo(directory, seed=seed, on_step=describe)
    lang = report.workspace.settings.workspace.language
    code = _report_loads(report.loads, lang, allow_quarantine=True)
    with _reading(report.workspace) as con:
        _print_frame(list_tables(con), "table")
    console.print(summarize(report.findings, lang), markup=False, highlight=False)
    if report.forecast is not None:
        from shelfwise.cli_forecast import print_forecast, print_replenishment

        print_forecast(report.forecast, lang)
        print_replenishment(report.replenishment, lang)
    if report.promo is not None:
        from shelfwise.cli_promo import print_promo

        print_promo(report.promo, lang)
    if report.identity is not None:
        from shelfwise.cli_customers import print_identity, print_offer, print_segments, print_value

        print_identity(report.identity, lang)
        print_segments(report.segments, lang)
        print_value(report.value, lang)
        print_offer(report.offer, lang)
    console.print(say("demo.tour", lang, root=report.workspace.root))
    raise typer.Exit(code)


@app.command()
def tables(workspace: WorkspaceOption = None) -> None:
    """List the warehouse tables with their row counts."""
    ws = _open(workspace)
    with _reading(ws) as con:
        frame = list_tables(con)
    _print_frame(frame, "table")


@app.command()
def sql(
    statement: Annotated[str, typer.Argument(help="One SQL statement; the warehouse is opened read-only.")],
    workspace: WorkspaceOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Run a read-only SQL query on the warehouse."""
    ws = _open(workspace)
    if output_format not in ("table", "csv", "json"):
        _fail(f"--format must be table, csv or json, not '{output_format}'", 2)
    with _reading(ws) as con:
        try:
            frame = query(con, statement)
        except duckdb.Error as error:
            _fail(f"SQL: {error}", EXIT_FAILED)
    record_table_read(ws.audit_path, "warehouse.sql", statement, actor="cli", rows=len(frame))
    _print_frame(frame, output_format)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help="Table to export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    workspace: WorkspaceOption = None,
    output_format: Annotated[
        str | None, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORT_FORMATS)} (default: from --out).")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="Run to export from a run table (default: the latest).")]
    = None,
) -> None:
    """Export a table to CSV, Parquet, JSON Lines or Excel (a run table: its latest run, or --run)."""
    ws = _open(workspace)
    fmt = output_format or out.suffix.lstrip(".").lower()
    with _reading(ws) as con:
        try:
            rows = export_table(con, table, fmt, out, run_id=run)
        except ExportError as error:
            _fail(error, EXIT_FAILED)
    record_table_read(ws.audit_path, "warehouse.export", table, actor="cli", rows=rows, file=out.name)
    console.print(say("export.done", ws.settings.workspace.language, rows=rows, out=out))


@app.command()
def runs(
    workspace: WorkspaceOption = None,
    command: Annotated[str | None, typer.Option("--command", "-c", help="Only runs of this command.")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """List the recorded runs, newest first: command, status, duration, parameters and library versions."""
    ws = _open(workspace)
    with _reading(ws) as con:
        frame = query(con, "SELECT run_id, command, status, started_at, "
                      "round(epoch(finished_at - started_at), 1) AS seconds, parameters, metrics, versions, message "
                      "FROM runs WHERE $command IS NULL OR command = $command ORDER BY started_at DESC",
                      {"command": command})
    _print_frame(frame, output_format)


@contextmanager
def _spinner() -> Iterator[Callable[[str], None]]:
    """A transient spinner on stderr; yields the function that names the current step."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=errors,
                  transient=True) as progress:
        task = progress.add_task("…", total=None)
        yield lambda description: progress.update(task, description=description)


@contextmanager
def _reading(ws: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        with ws.warehouse.connect(write=False, purpose="read", on_wait=_waiting(ws)) as con:
            yield con
    except WarehouseBusyError as error:
        _fail(error, EXIT_BUSY)


def _print_frame(frame, output_format: str) -> None:
    if output_format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif output_format == "json":
        sys.stdout.write(json.dumps(json.loads(frame.to_json(orient="records", date_format="iso")), ensure_ascii=False,
                                    indent=1) + "\n")
    else:
        table = RichTable(*[str(c) for c in frame.columns])
        for row in frame.head(200).itertuples(index=False):
            table.add_row(*["" if v is None else str(v) for v in row])
        console.print(table)
        if len(frame) > 200:
            console.print(f"… {len(frame) - 200} more rows (use --format csv)")


def main() -> None:
    """Console-script entry point."""
    app()


from shelfwise.cli_privacy import audit_app, privacy_app  # noqa: E402 - they use the helpers above

app.add_typer(privacy_app, name="privacy")
app.add_typer(audit_app, name="audit")

from shelfwise.cli_forecast import forecast_app, replenish  # noqa: E402 - they use the helpers above

app.add_typer(forecast_app, name="forecast")
app.command()(replenish)

from shelfwise.cli_customers import identity_app, offer, segment, value  # noqa: E402 - they use the helpers above

app.add_typer(identity_app, name="identity")
for command in (segment, value, offer):
    app.command()(command)

from shelfwise.cli_promo import abtest, crosssell, promo_app, sample_size  # noqa: E402 - they use the helpers above

app.add_typer(promo_app, name="promo")
app.command()(abtest)
app.command("abtest-size")(sample_size)
app.command()(crosssell)
