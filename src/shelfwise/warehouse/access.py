"""Read access for people: the tables with their row counts, and read-only SQL.

pandas is imported where a frame is made, not with the module: every CLI command imports this module, and
pandas alone takes a quarter of a second to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pandas as pd


def list_tables(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every table of the warehouse with its row count (exact), sorted by name."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name"
    ).fetchall()]
    counts = [con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names]
    import pandas as pd

    return pd.DataFrame({"table": names, "rows": counts})


def query(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None) -> pd.DataFrame:
    """Run one statement on a read-only connection and return its result."""
    return con.execute(sql, parameters or {}).df()
