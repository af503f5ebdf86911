"""The run registry: every command that produces results records what it ran on and how it ended.

A run id tags every output row; the `runs` table keeps parameters, input fingerprints and library versions
so that a result can be reproduced or explained later.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd

TRACKED_LIBRARIES = ("shelfwise", "duckdb", "pandas", "numpy", "pyarrow", "statsforecast", "mlforecast", "lightgbm",
                     "utilsforecast", "scikit-learn")


def new_run_id(command: str) -> str:
    """Sortable, unique: `20261123T101500-quality-1a2b3c4d`."""
    return f"{datetime.now():%Y%m%dT%H%M%S}-{command}-{uuid.uuid4().hex[:8]}"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries whose behaviour shapes results."""
    found = {}
    for name in TRACKED_LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def input_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The loads the warehouse holds, as (table -> hashes of loaded files), so a run names its inputs."""
    rows = con.execute(
        "SELECT table_name, list(file_sha256 ORDER BY load_id) FROM loads WHERE status = 'loaded' GROUP BY ALL"
    ).fetchall()
    return {table: ",".join(h[:12] for h in hashes) for table, hashes in rows}


def start_run(con: duckdb.DuckDBPyConnection, command: str, parameters: dict[str, object]) -> str:
    """Register a run as `running` and return its id."""
    run_id = new_run_id(command)
    con.execute(
        "INSERT INTO runs (run_id, command, parameters, inputs, versions, status, started_at) "
        "VALUES (?, ?, ?, ?, ?, 'running', now())",
        [run_id, command, json.dumps(parameters, default=_plain), json.dumps(input_fingerprint(con)),
         json.dumps(library_versions())],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, *, error: BaseException | None = None,
    metrics: dict[str, object] | None = None,
) -> None:
    """Record how a run ended: `succeeded` with its headline metrics, or `failed` with the error message."""
    con.execute(
        "UPDATE runs SET status = ?, message = ?, metrics = ?, finished_at = now() WHERE run_id = ?",
        ["failed" if error else "succeeded", str(error)[:2000] if error else None,
         json.dumps(metrics, default=_plain) if metrics else None, run_id],
    )


def _plain(value: object) -> object:
    """A JSON value for what json does not know: numpy scalars as numbers and flags, anything else as text."""
    return value.item() if hasattr(value, "item") else str(value)


def store_rows(con: duckdb.DuckDBPyConnection, table: str, run_id: str, frame: pd.DataFrame) -> None:
    """Append a result frame to its table, every row tagged with the run (columns matched by name)."""
    con.register("run_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT ? AS run_id, * FROM run_rows", [run_id])
    finally:
        con.unregister("run_rows")


@contextmanager
def recorded_run(
    con: duckdb.DuckDBPyConnection, command: str, parameters: dict[str, object]
) -> Iterator[str]:
    """Register a run, yield its id, and record how it ended (the error message if it failed)."""
    run_id = start_run(con, command, parameters)
    try:
        yield run_id
    except Exception as error:
        finish_run(con, run_id, error=error)
        raise
    finish_run(con, run_id)
