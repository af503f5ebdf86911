"""Ingestion of retail exports (CSV in any Brazilian shape, .xlsx, Parquet, JSON Lines, .gz, .zip).

`ingest_files` is the one entry point the CLI, the API and the demo use.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from shelfwise.ingest.detect import infer_table, sniff_kind
from shelfwise.ingest.errors import IngestError
from shelfwise.ingest.headers import Mapping, read_mapping
from shelfwise.ingest.load import LoadResult, load_file, new_load_id
from shelfwise.ingest.sources import sql_string
from shelfwise.privacy.detect import mask_text
from shelfwise.privacy.ingestion import IngestPrivacy
from shelfwise.schema import TABLES, LoadMode
from shelfwise.workspace import Workspace

__all__ = ["FailedLoad", "IngestError", "LoadResult", "Mapping", "ingest_files"]

READ_ERRORS = (OSError, EOFError, zlib.error, duckdb.IOException)
"""What reading a file can raise past its sniffed head: a .gz or file cut short, damaged, or gone meanwhile."""


@dataclass(frozen=True)
class FailedLoad:
    """A file that could not be loaded at all, and why."""

    file: Path
    error: IngestError


def ingest_files(
    workspace: Workspace,
    paths: list[Path],
    *,
    table: str | None = None,
    mapping_file: Path | None = None,
    mode: str | None = None,
    force: bool = False,
    today: date | None = None,
    on_file: Callable[[Path], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> list[LoadResult | FailedLoad]:
    """Load each file (archives expanded) into the workspace warehouse; one file's failure does not stop others."""
    if table is not None and table not in TABLES:
        raise IngestError(paths[0] if paths else Path("."), f"unknown table '{table}'",
                          hint=f"expected one of: {', '.join(TABLES)}")
    if mode is not None and mode not in {m.value for m in LoadMode}:
        raise IngestError(paths[0] if paths else Path("."), f"unknown load mode '{mode}'",
                          hint=f"expected one of: {', '.join(m.value for m in LoadMode)}")
    mapping = read_mapping(mapping_file)
    if mapping.table is not None and mapping.table not in TABLES:
        raise IngestError(mapping_file or Path("."), f"the mapping names unknown table '{mapping.table}'",
                          hint=f"expected one of: {', '.join(TABLES)}")
    outcomes: list[LoadResult | FailedLoad] = []
    target = table or mapping.table
    options = {"mapping": mapping, "mode": mode, "force": force, "today": today}
    with workspace.warehouse.connect(write=True, purpose="ingest", on_wait=on_wait) as con:
        options["privacy"] = IngestPrivacy.open(workspace, con)
        for path in paths:
            try:
                for member, shown in _expand(path):
                    if on_file:
                        on_file(Path(shown))
                    outcomes.append(_load_one(con, workspace, member, shown, target, options))
            except IngestError as error:  # a .zip that cannot be extracted
                outcomes.append(_failed(con, path, target, error))
        con.execute("CHECKPOINT")
    return outcomes


def _load_one(
    con: duckdb.DuckDBPyConnection, workspace: Workspace, member: Path, shown: str, table: str | None,
    options: dict,
) -> LoadResult | FailedLoad:
    """One file's load; a failure is recorded and returned rather than raised, so that the next files load."""
    try:
        _check_is_file(member)
        table = table or infer_table(Path(shown))
        with _memory_limit(con, workspace.settings.ingest.memory_limit, workspace.settings.warehouse.memory_limit):
            return load_file(con, workspace.settings, member, table=table, display_name=shown, **options)
    except (IngestError, *READ_ERRORS) as error:
        failure = error if isinstance(error, IngestError) else IngestError(
            Path(shown), f"cannot be read to the end ({error})",
            hint="the file looks cut short or damaged; copy or export it again",
        )
        return _failed(con, Path(shown), table, failure)
    except duckdb.OutOfMemoryException as error:
        limit = workspace.settings.ingest.memory_limit
        failure = IngestError(
            Path(shown), f"loading it needs more memory than loads may use ({limit})",
            hint="raise [ingest] memory_limit in shelfwise.toml (or SHELFWISE_INGEST__MEMORY_LIMIT) and load "
            f"again; DuckDB said: {str(error).splitlines()[0]}",
        )
        return _failed(con, Path(shown), table, failure)
    except duckdb.InvalidInputException as error:
        if "CSV" not in str(error):
            raise
        failure = IngestError(
            Path(shown), f"the CSV reader cannot split the file ({str(error).splitlines()[0]})",
            hint="the usual cause is mixed line endings (CRLF and LF) or a stray carriage return; "
            "save the file again as CSV",
        )
        return _failed(con, Path(shown), table, failure)


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str, usual: str) -> Iterator[None]:
    """Loads stream in a small budget; recording a failure and the checkpoint run with the usual one."""
    con.execute(f"SET memory_limit = {sql_string(limit)}")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = {sql_string(usual)}")


def _failed(con: duckdb.DuckDBPyConnection, file: Path, table: str | None, error: IngestError) -> FailedLoad:
    _record_failure(con, file, table, error)
    return FailedLoad(file, error)


def _check_is_file(path: Path) -> None:
    """Fail on a missing path or a folder before its name is read as a table name, which would mislead."""
    if not path.exists():
        raise IngestError(path, "cannot be read (no such file)", hint="check the path")
    if path.is_dir():
        raise IngestError(path, "is a folder, not a file", hint=f"pass the files inside it, e.g. {path}/*.csv")


def _expand(path: Path) -> Iterator[tuple[Path, str]]:
    """A file as itself, or a .zip's members (extracted to a scratch folder) with `archive.zip/member` names."""
    if not path.exists():
        yield path, str(path)
        return
    try:
        kind = sniff_kind(path)
    except IngestError:
        yield path, str(path)
        return
    if kind.format != "zip":
        yield path, str(path)
        return
    with _extracted(path) as members:
        yield from members


@contextmanager
def _extracted(path: Path) -> Iterator[list[tuple[Path, str]]]:
    with tempfile.TemporaryDirectory(prefix="shelfwise-zip-") as scratch:
        try:
            members = _extract_all(path, Path(scratch))
        except (zipfile.BadZipFile, *READ_ERRORS) as error:
            raise IngestError(path, f"is a .zip archive that cannot be extracted ({error})",
                              hint="the archive looks cut short or damaged; copy or export it again") from None
        yield members


def _extract_all(path: Path, scratch: Path) -> list[tuple[Path, str]]:
    """Each member in its own numbered folder: `jan/vendas.csv` and `fev/vendas.csv` must not overwrite."""
    members = []
    with zipfile.ZipFile(path) as archive:
        for index, info in enumerate(archive.infolist()):
            if info.is_dir() or Path(info.filename).name.startswith((".", "__MACOSX")):
                continue
            target = scratch / str(index) / Path(info.filename).name
            target.parent.mkdir()
            with archive.open(info) as source, target.open("wb") as sink:
                while block := source.read(16 * 1024 * 1024):
                    sink.write(block)
            members.append((target, f"{path}/{info.filename}"))
    return members


def _record_failure(con, file: Path, table: str | None, error: IngestError) -> None:
    """Record the failed load; its message is kept without personal data (see `recorded_message`)."""
    load_id = new_load_id()
    con.execute(
        "INSERT INTO loads (load_id, table_name, file, status, message, started_at, finished_at) "
        "VALUES (?, ?, ?, 'failed', ?, now(), now())",
        [load_id, table, str(file), recorded_message(error, table)],
    )



def recorded_message(error: IngestError, table: str | None) -> str:
    """The error as `loads` keeps it, without personal data.

    A file without a header shows its first record as "headers found", so for a table about people the headers
    are not kept; CPFs, e-mails and phones are masked in any case.
    """
    message = error.describe()
    if table in TABLES and TABLES[table].personal_columns:
        message = re.sub(r"headers found: [^;]*", "headers found: (not kept: the file holds personal data)", message)
    return mask_text(message)[0]
