"""SQL shared by several checks: the loads and quarantine rows still current, and top-N with totals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from shelfwise.quality.registry import Context, Params
from shelfwise.schema import TABLES

SUPERSEDED_LOADS = """
    SELECT l.load_id FROM loads l WHERE EXISTS (
        SELECT 1 FROM loads m WHERE m.file = l.file AND m.table_name IS NOT DISTINCT FROM l.table_name
        AND m.status = 'loaded' AND m.started_at > l.started_at)
"""
"""Loads of a file that a later successful load of the same file (and table) replaced."""

CURRENT_QUARANTINE = f"(SELECT * FROM quarantine WHERE coalesce(load_id, '') NOT IN ({SUPERSEDED_LOADS}))"
"""Quarantined rows, leaving out those of loads that a later load of the same file replaced."""

CURRENT_LOADS = f"(SELECT * FROM loads WHERE load_id NOT IN ({SUPERSEDED_LOADS}))"
"""Loads not replaced by a later load of the same file."""

BELOW_MINIMUM = "(reason LIKE '%below the minimum%' OR reason LIKE '%abaixo do mínimo%')"
IN_FUTURE = "(reason LIKE '%is in the future%' OR reason LIKE '%está no futuro%')"
DUPLICATE_KEY = "(reason LIKE 'duplicate key%' OR reason LIKE 'chave duplicada%')"


@contextmanager
def scratch_table(ctx: Context, create_sql: str, name: str) -> Iterator[None]:
    """A temporary table that several queries of one check read, dropped however the check ends."""
    ctx.con.execute(create_sql)
    try:
        yield
    finally:
        ctx.con.execute(f"DROP TABLE IF EXISTS {name}")


@dataclass(frozen=True)
class Ranked:
    """The worst rows of a per-series (per-store, per-id) result, and the totals over all its rows."""

    top: list[dict[str, Any]]
    count: int
    affected: int

    @property
    def rest_count(self) -> int:
        """How many rows are not in `top`."""
        return self.count - len(self.top)

    @property
    def rest_affected(self) -> int:
        """The `affected` total of the rows not in `top`."""
        return self.affected - sum(int(r["affected"] or 0) for r in self.top)


def ranked(ctx: Context, sql: str, order: str, params: Params = None) -> Ranked:
    """The first `max_series_findings` rows of `sql` by `order`, with the row count and `affected` total."""
    limit = ctx.thresholds.max_series_findings
    rows = ctx.rows(
        f"SELECT *, count(*) OVER () AS _count, sum(affected) OVER () AS _affected FROM ({sql}) "
        f"ORDER BY {order} LIMIT {int(limit)}",
        params,
    )
    if not rows:
        return Ranked([], 0, 0)
    return Ranked(rows, int(rows[0]["_count"]), int(rows[0]["_affected"] or 0))


def lines_example(ctx: Context, lines: list[int | None]) -> str:
    """`linha 3; linha 7` for the first quarantined lines of a file."""
    return "; ".join(ctx.say("line", line="?" if line is None else line) for line in lines)


def quarantine_example(ctx: Context, table: str | None, lines: list[int] | None, reason: str | None) -> str | None:
    """The first quarantined lines of a file and, unless the table holds personal data, the first reason.

    Reasons quote the raw value, so for tables with personal columns only the line numbers are shown.
    """
    if not lines:
        return None
    contract = TABLES.get(table or "")
    if contract is None or any(c.personal for c in contract.columns) or reason is None:
        return lines_example(ctx, lines)
    return lines_example(ctx, lines[:1]) + ": " + reason
