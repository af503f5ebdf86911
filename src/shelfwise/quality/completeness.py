"""Missing values: the share of NULLs in each optional column of each table."""

from __future__ import annotations

from collections.abc import Iterator

from shelfwise.quality import texts
from shelfwise.quality.registry import Context, Finding, is_dimension, quoted
from shelfwise.schema import Column, Kind


def _missing_sql(column: Column) -> str:
    name = quoted(column.name)
    if column.kind == Kind.ID_LIST:
        return f"count(*) FILTER (WHERE {name} IS NULL OR len({name}) = 0)"
    if column.kind in (Kind.ID, Kind.TEXT):
        return f"count(*) FILTER (WHERE {name} IS NULL OR trim({name}) = '')"
    return f"count(*) FILTER (WHERE {name} IS NULL)"


def missing_values(ctx: Context) -> Iterator[Finding]:
    """Per optional column of each non-empty table: info when any value is missing, warning past the share.

    Required columns are guaranteed by ingestion; placeholder rows (unknown ids) are left out.
    """
    for table in ctx.tables():
        optional = [c for c in table.columns if not c.required]
        if not optional:
            continue
        live = "WHERE NOT coalesce(_placeholder, false)" if is_dimension(table) else ""
        counts = ", ".join(f"{_missing_sql(c)} AS {quoted(c.name)}" for c in optional)
        row = ctx.one(f"SELECT count(*) AS _total, {counts} FROM {quoted(table.name)} {live}")
        total = int(row["_total"])
        for column in optional:
            missing = int(row[column.name])
            if total == 0 or missing == 0:
                continue
            fraction = missing / total
            key = "missing_values.all" if missing == total else "missing_values"
            yield Finding(
                table_name=table.name, column_name=column.name, affected_rows=missing,
                severity="warning" if fraction > ctx.thresholds.missing_warning_share else "info",
                detail=ctx.say(key, share=texts.share(fraction, ctx.language), table=ctx.label(table.name),
                               column=column.name, n=ctx.num(missing), total=ctx.num(total)),
            )
