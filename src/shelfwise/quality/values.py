"""Values that look wrong: outlying sales days, returns, revenue ≠ units × price, future dates, negative stock."""

from __future__ import annotations

from collections.abc import Iterator

from shelfwise.quality import texts
from shelfwise.quality.common import BELOW_MINIMUM, CURRENT_QUARANTINE, IN_FUTURE, quarantine_example, ranked
from shelfwise.quality.registry import Context, Finding, quoted, series_label
from shelfwise.schema import Kind

_OUTLIERS = """
    WITH scored AS (
        SELECT store_id, product_id, "date", units, med,
               abs(units - med) / greatest($mads * 1.4826 * mad, $min_dev, $min_rel * abs(med)) AS score
        FROM (SELECT store_id, product_id, "date", units, median(units) OVER w AS med, mad(units) OVER w AS mad,
                     count(*) OVER w AS days
              FROM sales WHERE units >= 0 WINDOW w AS (PARTITION BY store_id, product_id))
        WHERE days >= $min_days)
    SELECT store_id, product_id, count(*) AS affected, max(score) AS worst, any_value(med) AS med,
           arg_max("date", score) AS worst_day, arg_max(units, score) AS worst_units,
           arg_max(struct_pack(day := "date", units := units), score, $examples) AS top
    FROM scored WHERE score > 1 GROUP BY store_id, product_id
"""
"""Per (store, product) series with outlying days. Each sales row is one day of its series: ingestion sums
the rows of a (date, store_id, product_id), and `exact_duplicates` reports any that repeat."""


def outliers(ctx: Context) -> Iterator[Finding]:
    """Sales days far from their (store, product) series' median, in MAD units, with floors for small series.

    A day is an outlier when |units − median| > max(k · 1.4826 · MAD, min_deviation, min_relative · |median|),
    with median and MAD taken over the series' days with units ≥ 0 (returns are left to the `returns` check),
    for series with at least `outlier_min_days` such days.
    """
    if not ctx.has_rows("sales"):
        return
    t = ctx.thresholds
    params = {"min_days": t.outlier_min_days, "mads": t.outlier_mads, "min_dev": t.outlier_min_deviation,
              "min_rel": t.outlier_min_relative, "examples": t.examples}
    result = ranked(ctx, _OUTLIERS, "worst DESC, store_id, product_id", params)
    for row in result.top:
        yield Finding(
            table_name="sales", column_name="units", affected_rows=int(row["affected"]),
            series=series_label(store_id=row["store_id"], product_id=row["product_id"]),
            detail=ctx.say("outliers", n=ctx.num(row["affected"]), store=row["store_id"], product=row["product_id"],
                           median=ctx.num(row["med"]), worst=ctx.num(row["worst_units"]),
                           day=ctx.day(row["worst_day"])),
            example="; ".join(f"{ctx.day(x['day'])}: {ctx.num(x['units'])}" for x in row["top"]),
        )
    if result.rest_count:
        yield Finding(
            table_name="sales", column_name="units", affected_rows=result.rest_affected,
            detail=ctx.say("outliers.rest", series=ctx.num(result.rest_count), n=ctx.num(result.rest_affected)),
        )


def returns(ctx: Context) -> Iterator[Finding]:
    """Sales rows with negative units (returns), per store: how many, and their units and revenue."""
    if not ctx.has_rows("sales"):
        return
    result = ranked(ctx, """
        SELECT store_id, count(*) AS affected, sum(units) AS units, sum(revenue) AS revenue
        FROM sales WHERE units < 0 GROUP BY store_id""", "affected DESC, store_id")
    for row in result.top:
        revenue = "" if row["revenue"] is None else ctx.say("returns.revenue", revenue=ctx.num(row["revenue"]))
        yield Finding(
            table_name="sales", column_name="units", affected_rows=int(row["affected"]),
            series=series_label(store_id=row["store_id"]),
            detail=ctx.say("returns", n=ctx.num(row["affected"]), store=row["store_id"],
                           units=ctx.num(row["units"]), revenue=revenue),
        )
    if result.rest_count:
        units = sum(float(r["units"]) for r in result.top)
        total = ctx.one("SELECT sum(units) AS units FROM sales WHERE units < 0")["units"]
        yield Finding(
            table_name="sales", column_name="units", affected_rows=result.rest_affected,
            detail=ctx.say("returns.rest", stores=ctx.num(result.rest_count), n=ctx.num(result.rest_affected),
                           units=ctx.num(total - units)),
        )


def revenue_mismatch(ctx: Context) -> Iterator[Finding]:
    """Sales rows whose revenue differs from units × price by more than rounding."""
    if not ctx.has_rows("sales"):
        return
    t = ctx.thresholds
    rows = ctx.rows(f"""
        SELECT "date", store_id, product_id, units, price, revenue, units * price AS expected,
               abs(revenue - units * price) AS diff, count(*) OVER () AS n
        FROM sales
        WHERE revenue IS NOT NULL AND units IS NOT NULL AND price IS NOT NULL
          AND abs(revenue - units * price) > greatest(?, ? * abs(revenue))
        ORDER BY diff DESC, "date", store_id, product_id LIMIT {int(t.examples)}""",
        [t.revenue_abs_tolerance, t.revenue_rel_tolerance])
    if not rows:
        return
    examples = [ctx.say("revenue_mismatch.example", day=ctx.day(r["date"]), store=r["store_id"],
                        product=r["product_id"], revenue=ctx.num(r["revenue"]), units=ctx.num(r["units"]),
                        price=ctx.num(r["price"]), expected=ctx.num(r["expected"])) for r in rows]
    yield Finding(
        table_name="sales", column_name="revenue", affected_rows=int(rows[0]["n"]),
        detail=ctx.say("revenue_mismatch", n=ctx.num(rows[0]["n"]), tolerance=ctx.num(t.revenue_abs_tolerance),
                       share=texts.share(t.revenue_rel_tolerance, ctx.language), worst=ctx.num(rows[0]["diff"])),
        example="; ".join(examples),
    )


def future_dates(ctx: Context) -> Iterator[Finding]:
    """Rows dated after today: those in the warehouse (within tolerance) and those quarantined per file."""
    for table in ctx.tables():
        if table.future_dates_allowed:
            continue
        dated = [c for c in table.columns if c.kind in (Kind.DATE, Kind.TIMESTAMP) and not c.personal]
        if not dated:
            continue
        parts = ", ".join(
            f"count(*) FILTER (WHERE CAST({quoted(c.name)} AS DATE) > CAST($today AS DATE)) "
            f"AS {quoted('n_' + c.name)}, max({quoted(c.name)}) AS {quoted('max_' + c.name)}" for c in dated
        )
        row = ctx.one(f"SELECT {parts} FROM {quoted(table.name)}", {"today": ctx.today})
        for column in dated:
            n = int(row["n_" + column.name])
            if n:
                yield Finding(
                    table_name=table.name, column_name=column.name, affected_rows=n,
                    detail=ctx.say("future_dates", n=ctx.num(n), table=ctx.label(table.name), column=column.name,
                                   today=ctx.day(ctx.today), latest=ctx.day(row["max_" + column.name])),
                )
    yield from _quarantined_per_file(ctx, IN_FUTURE, "future_dates.quarantine", table=None)


def negative_stock(ctx: Context) -> Iterator[Finding]:
    """Stock below the minimum: quarantined by ingestion (per file), or present in the warehouse (an error)."""
    yield from _quarantined_per_file(ctx, BELOW_MINIMUM, "negative_stock.quarantine", table="stock")
    if not ctx.has_rows("stock"):
        return
    for column in ("on_hand", "on_order"):
        row = ctx.one(f"SELECT count(*) AS n, sum({column}) AS units FROM stock WHERE {column} < 0")
        if row["n"]:
            yield Finding(
                table_name="stock", column_name=column, affected_rows=int(row["n"]), severity="error",
                detail=ctx.say("negative_stock.warehouse", n=ctx.num(row["n"]), column=column,
                               units=ctx.num(row["units"])),
            )


def _quarantined_per_file(ctx: Context, condition: str, key: str, *, table: str | None) -> Iterator[Finding]:
    only = "AND table_name = ?" if table else ""
    rows = ctx.rows(f"""
        SELECT file, table_name, count(*) AS n, arg_min(line, line, {ctx.thresholds.examples}) AS lines,
               arg_min(reason, line) AS reason
        FROM {CURRENT_QUARANTINE} WHERE {condition} {only} GROUP BY file, table_name ORDER BY n DESC, file""",
        [table] if table else [])
    for row in rows:
        yield Finding(
            table_name=row["table_name"], affected_rows=int(row["n"]),
            detail=ctx.say(key, file=row["file"], table=ctx.label(row["table_name"] or "?"), n=ctx.num(row["n"])),
            example=quarantine_example(ctx, row["table_name"], row["lines"], row["reason"]),
        )
