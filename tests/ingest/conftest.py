"""A real workspace per test, a loader with a fixed today, and readers for tables and quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest

from shelfwise.ingest import FailedLoad, LoadResult, ingest_files
from shelfwise.workspace import Workspace, init_workspace

from .samples import BRAZILIAN_FILES, TODAY


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace folder with its DuckDB warehouse."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Folder for the input files a test writes."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


@pytest.fixture
def load(workspace: Workspace):
    """Load files into the workspace (today fixed); returns the one outcome, or all of them with many=True."""

    def run(*paths: Path, many: bool = False, **options) -> LoadResult | FailedLoad | list:
        outcomes = ingest_files(workspace, list(paths), today=options.pop("today", TODAY), **options)
        return outcomes if many else _single(outcomes)

    return run


def _single(outcomes: list) -> LoadResult | FailedLoad:
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


@pytest.fixture
def sql(workspace: Workspace):
    """Run a query on the warehouse and return all rows as tuples."""

    def run(statement: str, params: list | None = None) -> list[tuple]:
        with workspace.warehouse.connect() as con:
            return con.execute(statement, params or []).fetchall()

    return run


@pytest.fixture
def quarantined(sql):
    """Quarantine rows of one load as (line, column, reason, raw JSON), in line order."""

    def run(result: LoadResult) -> list[tuple]:
        return sql(
            "SELECT line, column_name, reason, raw FROM quarantine WHERE load_id = ? ORDER BY line",
            [result.load_id],
        )

    return run


@pytest.fixture
def brazilian_folder(tmp_path: Path) -> Path:
    """Six exports as a Brazilian ERP writes them (cp1252, ';', decimal comma, dd/mm/yyyy, Portuguese headers)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, text in BRAZILIAN_FILES.items():
        (folder / name).write_bytes(text.encode("cp1252"))
    return folder
