"""Warehouse lifecycle: the lock, DuckDB settings, and the tables every workspace starts with."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from shelfwise.config import WarehouseSettings
from shelfwise.schema import DIMENSIONS, TABLES

LOAD_COLUMNS = "_load_id VARCHAR"
PLACEHOLDER_COLUMN = "_placeholder BOOLEAN DEFAULT false"

METADATA_DDL = """
CREATE TABLE IF NOT EXISTS loads (
    load_id VARCHAR PRIMARY KEY, table_name VARCHAR, file VARCHAR, file_sha256 VARCHAR, file_bytes BIGINT,
    format VARCHAR, encoding VARCHAR, delimiter VARCHAR, decimal_separator VARCHAR, column_formats VARCHAR,
    mode VARCHAR, rows_read BIGINT, rows_accepted BIGINT, rows_quarantined BIGINT, rows_loaded BIGINT,
    duplicate_rows BIGINT, unknown_ids VARCHAR, status VARCHAR, message VARCHAR,
    started_at TIMESTAMP, finished_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR, reason VARCHAR,
    raw VARCHAR, quarantined_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS quality_issues (
    run_id VARCHAR, check_name VARCHAR, table_name VARCHAR, column_name VARCHAR, severity VARCHAR,
    affected_rows BIGINT, series VARCHAR, detail VARCHAR, example VARCHAR, checked_at TIMESTAMP
);
CREATE SEQUENCE IF NOT EXISTS privacy_seq;
CREATE TABLE IF NOT EXISTS consent_events (
    seq BIGINT DEFAULT nextval('privacy_seq'), customer_id VARCHAR, purpose VARCHAR, granted BOOLEAN,
    legal_basis VARCHAR, source VARCHAR, reference VARCHAR, recorded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS privacy_requests (
    request_id VARCHAR PRIMARY KEY, kind VARCHAR, subject VARCHAR, received_at TIMESTAMP, answered_at TIMESTAMP,
    due_at TIMESTAMP, status VARCHAR, summary VARCHAR
);
CREATE TABLE IF NOT EXISTS privacy_tombstones (
    pseudonym VARCHAR, kind VARCHAR, request_id VARCHAR, erased_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, command VARCHAR, parameters VARCHAR, inputs VARCHAR, versions VARCHAR,
    status VARCHAR, message VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP
);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS metrics VARCHAR;
"""


def has_table(con: duckdb.DuckDBPyConnection, table: str, column: str | None = None) -> bool:
    """Whether the connection sees `table` (with `column`, when given): optional inputs and earlier results."""
    sql = "SELECT count(*) FROM duckdb_columns() WHERE table_name = ?" + (" AND column_name = ?" if column else "")
    return con.execute(sql, [table, column] if column else [table]).fetchall()[0][0] > 0


class WarehouseBusyError(RuntimeError):
    """Another command held the warehouse for longer than the configured wait."""


def contract_table_ddl(name: str) -> str:
    """CREATE TABLE for one input table of the contract, with lineage and placeholder columns."""
    table = TABLES[name]
    columns = [f'"{c.name}" {c.stored_type}' for c in table.stored_columns] + [LOAD_COLUMNS]
    if name in DIMENSIONS:
        columns.append(PLACEHOLDER_COLUMN)
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)})"


@dataclass(frozen=True)
class Warehouse:
    """A DuckDB file and how to open it safely from several processes."""

    path: Path
    settings: WarehouseSettings
    timezone: str = "America/Sao_Paulo"

    @property
    def lock_path(self) -> Path:
        """Side file that carries the advisory lock and the holder's description."""
        return self.path.with_name(self.path.name + ".lock")

    @property
    def temp_dir(self) -> Path:
        """Where DuckDB spills work that does not fit in memory."""
        return self.path.parent / ".tmp"

    def initialise(self) -> None:
        """Create the metadata and contract tables if they are missing."""
        with self.connect(write=True, purpose="init") as con:
            con.execute(METADATA_DDL)
            for name in TABLES:
                con.execute(contract_table_ddl(name))

    def compact(self) -> None:
        """Rewrite the file from its live rows only, so that deleted rows leave no bytes behind.

        DuckDB reuses freed blocks but never wipes them, so an erased person's bytes can outlive the DELETE. A copy
        of the database (`COPY FROM DATABASE`) into a new file, swapped in under the write lock, holds only what
        is live; the spill folder goes too.
        """
        if not self.path.exists():
            return
        fresh = self.path.with_name(self.path.name + ".compacting")
        fresh.unlink(missing_ok=True)
        with self._lock(write=True, purpose="compact", on_wait=None):
            con = duckdb.connect(config=self._duckdb_config())
            try:
                con.execute(f"ATTACH '{_quoted(self.path)}' AS live (READ_ONLY)")
                con.execute(f"ATTACH '{_quoted(fresh)}' AS fresh")
                con.execute("COPY FROM DATABASE live TO fresh")
            finally:
                con.close()
            os.chmod(fresh, self.path.stat().st_mode & 0o777)
            os.replace(fresh, self.path)
            self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            for spilled in self.temp_dir.glob("*") if self.temp_dir.exists() else ():
                spilled.unlink()

    @contextmanager
    def connect(
        self,
        *,
        write: bool = False,
        purpose: str = "",
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse, waiting (up to the configured timeout) while another command holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(write=write, purpose=purpose, on_wait=on_wait):
            read_only = not write and self.path.exists()
            con = duckdb.connect(str(self.path), read_only=read_only, config=self._duckdb_config())
            con.execute(f"LOAD icu; SET TimeZone = '{self.timezone}'; SET enable_progress_bar = false")
            if write:  # brings a workspace made by an older version up to date (every statement is idempotent)
                con.execute(METADATA_DDL)
            try:
                yield con
            finally:
                con.close()

    def _duckdb_config(self) -> dict[str, str]:
        config = {
            "memory_limit": self.settings.memory_limit,
            "temp_directory": str(self.temp_dir),
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
        }
        if self.settings.threads > 0:
            config["threads"] = str(self.settings.threads)
        return config

    @contextmanager
    def _lock(self, *, write: bool, purpose: str, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - the handle lives as long as the lock
        try:
            self._acquire(handle, write=write, on_wait=on_wait)
            if write:
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(_holder(purpose)))
                handle.flush()
            yield
        finally:
            if write:
                handle.seek(0)
                handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _acquire(self, handle, *, write: bool, on_wait: Callable[[str], None] | None) -> None:
        mode = (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + self.settings.lock_timeout_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, mode)
                return
            except BlockingIOError:
                holder = self.describe_holder()
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"the warehouse {self.path} is busy: {holder}. Waited "
                        f"{self.settings.lock_timeout_seconds:g} s; try again when it finishes, or raise "
                        "[warehouse] lock_timeout_seconds."
                    ) from None
                if on_wait and not told:
                    on_wait(holder)
                    told = True
                time.sleep(0.2)

    def describe_holder(self) -> str:
        """Who holds the warehouse, as far as the lock file says."""
        try:
            info = json.loads(self.lock_path.read_text() or "{}")
        except (OSError, json.JSONDecodeError):
            info = {}
        if not info:
            return "another command is reading it"
        return f"'{info.get('command')}' (pid {info.get('pid')}, since {info.get('started')})"


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _holder(purpose: str) -> dict[str, object]:
    """Who holds the lock, for the waiting command's message; a CPF or e-mail on the command line is masked."""
    from shelfwise.privacy.detect import mask_text

    command = mask_text(" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]))[0] if sys.argv else purpose
    return {
        "pid": os.getpid(),
        "command": command or purpose,
        "purpose": purpose,
        "started": datetime.now().isoformat(timespec="seconds"),
    }
