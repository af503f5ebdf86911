"""What ingestion left behind: unknown ids registered as placeholders, quarantined rows, failed loads."""

from __future__ import annotations

from collections.abc import Iterator

from shelfwise.quality.common import CURRENT_QUARANTINE, quarantine_example, ranked
from shelfwise.quality.registry import Context, Finding, quoted, series_label
from shelfwise.schema import DIMENSIONS, TABLES, Kind

_LIST_REFERENCES = {"product_ids": "products", "store_ids": "stores"}


def _references(ctx: Context, dimension: str) -> list[str]:
    """SELECTs of (table, id) for every non-empty table column that points at `dimension`."""
    parts = []
    for table in ctx.tables():
        if table.name == dimension:
            continue
        for column in table.columns:
            if column.kind == Kind.ID_LIST and _LIST_REFERENCES.get(column.name) == dimension:
                parts.append(f"SELECT '{table.name}' AS tbl, unnest({quoted(column.name)}) AS id "
                             f"FROM {quoted(table.name)}")
            elif column.references == dimension:
                parts.append(f"SELECT '{table.name}' AS tbl, {quoted(column.name)} AS id FROM {quoted(table.name)}")
    return parts


def unknown_ids(ctx: Context) -> Iterator[Finding]:
    """Placeholder rows (ids facts mention but no master file had), with the rows that reference each."""
    for dimension in ctx.tables(DIMENSIONS):
        key = quoted(dimension.key[0])
        refs = _references(ctx, dimension.name) or ["SELECT NULL::VARCHAR AS tbl, NULL::VARCHAR AS id"]
        result = ranked(ctx, f"""
            WITH unknown AS (SELECT DISTINCT {key} AS id FROM {quoted(dimension.name)} WHERE _placeholder),
                 refs AS (SELECT tbl, id, count(*) AS n FROM ({' UNION ALL '.join(refs)})
                          WHERE id IN (SELECT id FROM unknown) GROUP BY tbl, id)
            SELECT u.id, coalesce(sum(r.n), 0) AS affected,
                   list(struct_pack(tbl := r.tbl, n := r.n) ORDER BY r.n DESC, r.tbl) FILTER (WHERE r.n IS NOT NULL)
                   AS refs
            FROM unknown u LEFT JOIN refs r USING (id) GROUP BY u.id""", "affected DESC, id")
        for row in result.top:
            refs_text = ", ".join(f"{ctx.label(r['tbl'])} {ctx.num(r['n'])}" for r in row["refs"] or [])
            yield Finding(
                table_name=dimension.name, column_name=dimension.key[0], affected_rows=int(row["affected"]),
                series=series_label(**{dimension.key[0]: row["id"]}),
                detail=ctx.say("unknown_ids", table=ctx.label(dimension.name), id=row["id"],
                               n=ctx.num(row["affected"]), refs=f" ({refs_text})" if refs_text else ""),
            )
        if result.rest_count:
            yield Finding(
                table_name=dimension.name, column_name=dimension.key[0], affected_rows=result.rest_affected,
                detail=ctx.say("unknown_ids.rest", table=ctx.label(dimension.name),
                               ids=ctx.num(result.rest_count), n=ctx.num(result.rest_affected)),
            )


def quarantine_summary(ctx: Context) -> Iterator[Finding]:
    """Per file: how many rows are in quarantine, and which columns caused most of it."""
    rows = ctx.rows(f"""
        WITH q AS (SELECT * FROM {CURRENT_QUARANTINE}),
             by_column AS (SELECT file, table_name, coalesce(nullif(column_name, ''), '') AS col, count(*) AS n
                           FROM q GROUP BY ALL),
             files AS (SELECT file, table_name, sum(n) AS n,
                              list(struct_pack(col := col, n := n) ORDER BY n DESC, col)[1:3] AS top
                       FROM by_column GROUP BY ALL),
             firsts AS (SELECT file, table_name, arg_min(line, line, {ctx.thresholds.examples}) AS lines,
                               arg_min(reason, line) AS reason FROM q GROUP BY ALL)
        SELECT * FROM files JOIN firsts USING (file, table_name) ORDER BY n DESC, file""")
    for row in rows:
        reasons = ", ".join(f"{r['col'] or ctx.say('structure')} ({ctx.num(r['n'])})" for r in row["top"])
        yield Finding(
            table_name=row["table_name"], affected_rows=int(row["n"]),
            detail=ctx.say("quarantine_summary", file=row["file"], table=ctx.label(row["table_name"] or "?"),
                           n=ctx.num(row["n"]), reasons=reasons),
            example=quarantine_example(ctx, row["table_name"], row["lines"], row["reason"]),
        )


def failed_loads(ctx: Context) -> Iterator[Finding]:
    """Files whose latest load failed (a later successful load of the same file clears the failure)."""
    rows = ctx.rows("""
        SELECT * FROM (SELECT file, table_name, status, message, started_at FROM loads
                       QUALIFY row_number() OVER (PARTITION BY file ORDER BY started_at DESC NULLS LAST,
                                                  finished_at DESC NULLS LAST) = 1)
        WHERE status = 'failed' ORDER BY started_at, file""")
    for row in rows:
        message = (row["message"] or "").strip()
        yield Finding(
            table_name=row["table_name"] if row["table_name"] in TABLES else None,
            detail=ctx.say("failed_loads", file=row["file"], message=message[:300]),
            example=row["file"],
        )
