"""Duplicates: identical rows in the warehouse, repeated keys in loaded files, and near-duplicate ids."""

from __future__ import annotations

from collections.abc import Iterator

from shelfwise.quality.common import CURRENT_LOADS, CURRENT_QUARANTINE, DUPLICATE_KEY, lines_example
from shelfwise.quality.registry import Context, Finding, is_dimension, quoted
from shelfwise.schema import Table


def exact_duplicates(ctx: Context) -> Iterator[Finding]:
    """Rows identical in every contract column (`_load_id` ignored), per table."""
    for table in ctx.tables():
        columns = ", ".join(quoted(c) for c in table.column_names)
        row = ctx.one(
            f"SELECT count(*) AS groups, coalesce(sum(n - 1), 0) AS extra, arg_max({_key_text(table)}, n) AS key, "
            f"max(n) AS n FROM (SELECT {columns}, count(*) AS n FROM {quoted(table.name)} "
            f"GROUP BY {columns} HAVING count(*) > 1)"
        )
        if row["extra"]:
            yield Finding(
                table_name=table.name, affected_rows=int(row["extra"]),
                detail=ctx.say("exact_duplicates", n=ctx.num(row["extra"]), groups=ctx.num(row["groups"]),
                               table=ctx.label(table.name)),
                example=ctx.say("exact_duplicates.copies", key=row["key"], n=row["n"]),
            )


def _key_text(table: Table) -> str:
    """`date=2025-01-02, store_id=S1, ...` of a row's key: personal columns left out, long texts cut."""
    parts = [f"'{k}=' || left(CAST({quoted(k)} AS VARCHAR), 40)" for k in table.key if not table.column(k).personal]
    return f"concat_ws(', ', {', '.join(parts)})" if parts else "''"


def file_duplicate_keys(ctx: Context) -> Iterator[Finding]:
    """Per loaded file: rows whose key repeated within the file (the last one was kept)."""
    rows = ctx.rows(f"""
        WITH q AS (SELECT load_id, any_value(file) AS file, any_value(table_name) AS table_name, count(*) AS n,
                          arg_min(line, line, {ctx.thresholds.examples}) AS lines
                   FROM {CURRENT_QUARANTINE} WHERE {DUPLICATE_KEY} GROUP BY load_id),
             l AS (SELECT load_id, file, table_name, duplicate_rows FROM {CURRENT_LOADS} WHERE duplicate_rows > 0)
        SELECT coalesce(l.file, q.file) AS file, coalesce(l.table_name, q.table_name) AS table_name,
               sum(greatest(coalesce(l.duplicate_rows, 0), coalesce(q.n, 0))) AS affected,
               flatten(list(q.lines) FILTER (WHERE q.lines IS NOT NULL)) AS lines
        FROM l FULL OUTER JOIN q USING (load_id) GROUP BY ALL ORDER BY affected DESC, file
    """)
    for row in rows:
        yield Finding(
            table_name=row["table_name"], affected_rows=int(row["affected"]),
            detail=ctx.say("file_duplicate_keys", file=row["file"], table=ctx.label(row["table_name"] or "?"),
                           n=ctx.num(row["affected"])),
            example=lines_example(ctx, sorted(row["lines"])[: ctx.thresholds.examples]) or None,
        )


def _normal(expression: str) -> str:
    """SQL folding a text for comparison: lower case, accents stripped, whitespace collapsed and trimmed."""
    return f"trim(regexp_replace(lower(strip_accents({expression})), '\\s+', ' ', 'g'))"


def near_duplicates(ctx: Context) -> Iterator[Finding]:
    """Different ids with the same normalised name (dimensions), e-mail or document (customers)."""
    for name in ("products", "stores", "suppliers"):
        for table in ctx.tables([name]):
            extra = ["category", "brand"] if name == "products" else []
            yield from _same_value(ctx, table, "name", _normal('"name"'), extra)
    for table in ctx.tables(["customers"]):  # pseudonyms of normalised values: equal values, equal pseudonyms
        yield from _same_value(ctx, table, "email", '"email"', [], shown=False, severity="info")
        yield from _same_value(ctx, table, "document", '"document"', [], shown=False, severity="info")


def _same_value(
    ctx: Context, table: Table, column: str, value_sql: str, extra: list[str], *, shown: bool = True,
    severity: str | None = None,
) -> Iterator[Finding]:
    key = quoted(table.key[0])
    also = "".join(f", {_normal(quoted(c))} AS {quoted('_' + c)}" for c in extra)
    group = "".join(f", {quoted('_' + c)}" for c in extra)
    live = "AND NOT coalesce(_placeholder, false)" if is_dimension(table) else ""
    result = ctx.rows(f"""
        WITH v AS (SELECT {key} AS id, {value_sql} AS value{also} FROM {quoted(table.name)}
                   WHERE {quoted(column)} IS NOT NULL {live}),
             g AS (SELECT value{group}, list(DISTINCT id ORDER BY id) AS ids, count(DISTINCT id) AS k FROM v
                   WHERE value <> '' GROUP BY ALL HAVING count(DISTINCT id) > 1)
        SELECT value, ids, k, count(*) OVER () AS groups, sum(k) OVER () AS total FROM g
        ORDER BY k DESC, value LIMIT {ctx.thresholds.examples}
    """)
    if not result:
        return
    first = result[0]
    examples = "; ".join(" = ".join(r["ids"]) + (f" ({r['value']})" if shown else "") for r in result)
    key_name = f"near_duplicates.{column}" if not shown else "near_duplicates.name"
    detail = ctx.say(
        key_name, groups=ctx.num(first["groups"]), n=ctx.num(first["total"]), table=ctx.label(table.name),
        extra=ctx.say("near_duplicates.same_category") if extra else "",
    )
    yield Finding(table_name=table.name, column_name=column, affected_rows=int(first["total"]), detail=detail,
                  example=examples, severity=severity)  # type: ignore[arg-type]
