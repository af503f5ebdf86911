"""Ingestion of retail exports (CSV in any Brazilian shape, .xlsx, Parquet, JSON Lines, .gz, .zip).

`ingest_files` is the one entry point the CLI, the API and the demo use.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shelfwise.ingest.detect import infer_table, sniff_kind
from shelfwise.ingest.errors import IngestError
from shelfwise.ingest.headers import Mapping, read_mapping
from shelfwise.ingest.load import LoadResult, load_file
from shelfwise.schema import TABLES, LoadMode
from shelfwise.workspace import Workspace

__all__ = ["FailedLoad", "IngestError", "LoadResult", "Mapping", "ingest_files"]


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
    outcomes: list[LoadResult | FailedLoad] = []
    with workspace.warehouse.connect(write=True, purpose="ingest", on_wait=on_wait) as con:
        for path in paths:
            for member, shown in _expand(path):
                if on_file:
                    on_file(Path(shown))
                try:
                    target = table or mapping.table or infer_table(Path(shown))
                    outcomes.append(load_file(
                        con, workspace.settings, member, table=target, mapping=mapping, mode=mode, force=force,
                        today=today, display_name=shown,
                    ))
                except IngestError as error:
                    outcomes.append(FailedLoad(Path(shown), error))
                    _record_failure(con, Path(shown), table, error)
        con.execute("CHECKPOINT")
    return outcomes


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
    with tempfile.TemporaryDirectory(prefix="shelfwise-zip-") as scratch, zipfile.ZipFile(path) as archive:
        members = []
        for info in archive.infolist():
            if info.is_dir() or Path(info.filename).name.startswith((".", "__MACOSX")):
                continue
            target = Path(scratch) / Path(info.filename).name
            with archive.open(info) as source, target.open("wb") as sink:
                while block := source.read(16 * 1024 * 1024):
                    sink.write(block)
            members.append((target, f"{path}/{info.filename}"))
        yield members


def _record_failure(con, file: Path, table: str | None, error: IngestError) -> None:  # noqa: ANN001
    import uuid
    from datetime import datetime

    load_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    con.execute(
        "INSERT INTO loads (load_id, table_name, file, status, message, started_at, finished_at) "
        "VALUES (?, ?, ?, 'failed', ?, now(), now())",
        [load_id, table, str(file), error.describe()],
    )

