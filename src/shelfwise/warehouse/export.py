"""Export any warehouse table to CSV, Parquet, JSON Lines or Excel.

DuckDB's COPY writes CSV, Parquet and JSON streaming; Excel goes through xlsxwriter, which DuckDB cannot
write without an extension download, and is refused past Excel's row limit instead of being truncated.
Lineage columns (names starting with `_`) stay in the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

EXPORT_FORMATS = ("csv", "parquet", "json", "xlsx")
EXCEL_MAX_ROWS = 1_048_575


class ExportError(ValueError):
    """The table or format asked for cannot be exported."""


def export_table(
    con: duckdb.DuckDBPyConnection, table: str, fmt: str, out: Path, *, run_id: str | None = None
) -> int:
    """Write `table` to `out` in `fmt`; returns the number of rows written.

    A table of run results (it has a `run_id`) exports one run: `run_id`, else the latest run that wrote to it.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format '{fmt}'; expected one of: {', '.join(EXPORT_FORMATS)}")
    columns = _public_columns(con, table)
    where = _run_filter(con, table, columns, run_id)
    select = f"SELECT {', '.join(columns)} FROM \"{table}\"{where}"
    rows = con.execute(f'SELECT count(*) FROM "{table}"{where}').fetchone()[0]
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        _write_excel(con, select, rows, out, table)
        return rows
    options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet", "json": "FORMAT json"}[fmt]
    con.execute(f"COPY ({select}) TO '{_quote(out)}' ({options})")
    return rows


def _run_filter(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], run_id: str | None) -> str:
    if '"run_id"' not in columns:
        if run_id is not None:
            raise ExportError(f"table '{table}' holds no runs; leave out --run")
        return ""
    if run_id is None:
        run_id = con.execute(f'SELECT max(run_id) FROM "{table}"').fetchone()[0]  # run ids sort by time
    elif not con.execute(f'SELECT count(*) FROM "{table}" WHERE run_id = ?', [run_id]).fetchone()[0]:
        known = [r[0] for r in con.execute(f'SELECT DISTINCT run_id FROM "{table}" ORDER BY 1 DESC LIMIT 5').fetchall()]
        raise ExportError(f"table '{table}' has no run '{run_id}'; latest runs: {', '.join(known) or 'none'}")
    return f" WHERE run_id = '{_quote(run_id)}'" if run_id is not None else ""


def _public_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    known = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    if table not in known:
        raise ExportError(f"no table '{table}' in the warehouse; tables: {', '.join(sorted(known))}")
    described = con.execute(f'DESCRIBE "{table}"').fetchall()
    return [f'"{row[0]}"' for row in described if not row[0].startswith("_")]


def _write_excel(con: duckdb.DuckDBPyConnection, select: str, rows: int, out: Path, table: str) -> None:
    if rows > EXCEL_MAX_ROWS:
        raise ExportError(
            f"table '{table}' has {rows:,} rows, more than Excel's {EXCEL_MAX_ROWS:,}; export csv or parquet"
        )
    frame = con.execute(select).df()
    for column in frame.select_dtypes(include=["datetimetz"]).columns:
        frame[column] = frame[column].dt.tz_localize(None)
    with_lists = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, list | tuple)).any()]
    for column in with_lists:
        frame[column] = frame[column].map(lambda v: ",".join(map(str, v)) if v is not None else None)
    frame.to_excel(out, sheet_name=table[:31], index=False, engine="xlsxwriter")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
