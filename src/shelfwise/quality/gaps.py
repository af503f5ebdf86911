"""Gaps in daily series: missing days in each sales series, days a whole store sold nothing, stock snapshots.

Days without sales are often simply not exported, so a short gap is information; a long run of missing
days (or a store with no sales while the others sold) is a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from shelfwise.quality.common import ranked, scratch_table
from shelfwise.quality.registry import Context, Finding, series_label

_SERIES_GAPS = """
    CREATE OR REPLACE TEMP TABLE _quality_series_gaps AS
    WITH steps AS (SELECT store_id, product_id, "date",
                          CAST("date" - lag("date") OVER (PARTITION BY store_id, product_id ORDER BY "date") - 1
                               AS INTEGER) AS gap
                   FROM sales)
    SELECT store_id, product_id, min("date") AS first_day, max("date") AS last_day,
           CAST(sum(gap) FILTER (WHERE gap > 0) AS BIGINT) AS affected, max(gap) AS longest,
           arg_max("date" - gap, gap) FILTER (WHERE gap > 0) AS longest_start
    FROM steps GROUP BY store_id, product_id HAVING max(gap) > 0
"""
"""Per (store, product) series: missing days, the longest run and where it starts (a repeated day counts once)."""


def series_gaps(ctx: Context) -> Iterator[Finding]:
    """Calendar days missing between each (store, product) sales series' first and last day."""
    if not ctx.has_rows("sales"):
        return
    with scratch_table(ctx, _SERIES_GAPS, "_quality_series_gaps"):
        yield from _long_gaps(ctx)
        yield from _short_gaps(ctx)


def _long_gaps(ctx: Context) -> Iterator[Finding]:
    long = int(ctx.thresholds.gap_warning_days)
    result = ranked(ctx, f"SELECT * FROM _quality_series_gaps WHERE longest >= {long}",
                    "longest DESC, affected DESC, store_id, product_id")
    for row in result.top:
        yield Finding(
            table_name="sales", column_name="date", affected_rows=int(row["affected"]), severity="warning",
            series=series_label(store_id=row["store_id"], product_id=row["product_id"]),
            detail=ctx.say("series_gaps", store=row["store_id"], product=row["product_id"],
                           missing=ctx.num(row["affected"]), first=ctx.day(row["first_day"]),
                           last=ctx.day(row["last_day"]), longest=row["longest"],
                           start=ctx.day(row["longest_start"])),
        )
    if result.rest_count:
        yield Finding(
            table_name="sales", column_name="date", affected_rows=result.rest_affected, severity="warning",
            detail=ctx.say("series_gaps.rest", series=ctx.num(result.rest_count), days=long,
                           n=ctx.num(result.rest_affected)),
        )


def _short_gaps(ctx: Context) -> Iterator[Finding]:
    long = int(ctx.thresholds.gap_warning_days)
    short = ctx.one(f"SELECT count(*) AS series, coalesce(sum(affected), 0) AS days FROM _quality_series_gaps "
                    f"WHERE longest < {long}")
    if short["series"]:
        yield Finding(
            table_name="sales", column_name="date", affected_rows=int(short["days"]), severity="info",
            detail=ctx.say("series_gaps.short", series=ctx.num(short["series"]), days=long,
                           n=ctx.num(short["days"])),
        )


_DAY_GAPS = """
    CREATE OR REPLACE TEMP TABLE _quality_store_days AS
    WITH days AS (SELECT DISTINCT store_id, "date" FROM sales),
         steps AS (SELECT store_id, "date", lag("date") OVER (PARTITION BY store_id ORDER BY "date") AS prev
                   FROM days),
         all_steps AS (SELECT "date", lag("date") OVER (ORDER BY "date") AS prev
                       FROM (SELECT DISTINCT "date" FROM days)),
         nobody AS (SELECT CAST(unnest(generate_series(prev + 1, "date" - 1, INTERVAL 1 DAY)) AS DATE) AS d
                    FROM all_steps WHERE "date" - prev > 1)
    SELECT store_id, d, false AS nobody FROM (
        SELECT store_id, CAST(unnest(generate_series(prev + 1, "date" - 1, INTERVAL 1 DAY)) AS DATE) AS d
        FROM steps WHERE "date" - prev > 1)
    WHERE d NOT IN (SELECT d FROM nobody)
    UNION ALL SELECT NULL AS store_id, d, true AS nobody FROM nobody
"""


def store_days_without_sales(ctx: Context) -> Iterator[Finding]:
    """Days inside a store's period with no sales at all in it, while other stores sold; days nobody sold."""
    if not ctx.has_rows("sales"):
        return
    with scratch_table(ctx, _DAY_GAPS, "_quality_store_days"):
        yield from _store_findings(ctx)
        yield from _nobody_finding(ctx)


def _store_findings(ctx: Context) -> Iterator[Finding]:
    result = ranked(ctx, f"""
        SELECT store_id, count(*) AS affected, arg_min(d, d, {ctx.thresholds.examples}) AS days
        FROM _quality_store_days WHERE NOT nobody GROUP BY store_id""", "affected DESC, store_id")
    for row in result.top:
        yield Finding(
            table_name="sales", column_name="store_id", affected_rows=int(row["affected"]), severity="warning",
            series=series_label(store_id=row["store_id"]),
            detail=ctx.say("store_days", store=row["store_id"], n=ctx.num(row["affected"])),
            example=", ".join(ctx.day(d) for d in row["days"]),
        )
    if result.rest_count:
        yield Finding(
            table_name="sales", column_name="store_id", affected_rows=result.rest_affected, severity="warning",
            detail=ctx.say("store_days.rest", stores=ctx.num(result.rest_count), n=ctx.num(result.rest_affected)),
        )


def _nobody_finding(ctx: Context) -> Iterator[Finding]:
    row = ctx.one(f"""
        SELECT count(*) AS n, arg_min(d, d, {ctx.thresholds.examples}) AS days,
               coalesce(max(run), 0) AS longest
        FROM (SELECT d, count(*) OVER (PARTITION BY run_start) AS run
              FROM (SELECT d, d - CAST(row_number() OVER (ORDER BY d) AS INTEGER) AS run_start
                    FROM _quality_store_days WHERE nobody))""")
    if row["n"]:
        yield Finding(
            table_name="sales", column_name="date", affected_rows=int(row["n"]),
            severity="warning" if row["longest"] >= ctx.thresholds.gap_warning_days else "info",
            detail=ctx.say("store_days.global", n=ctx.num(row["n"]), longest=row["longest"]),
            example=", ".join(ctx.day(d) for d in row["days"]),
        )


_STOCK_INDEX = """
    CREATE OR REPLACE TEMP TABLE _quality_stock_days AS
    SELECT store_id, "date", CAST(row_number() OVER (PARTITION BY store_id ORDER BY "date") AS BIGINT) AS store_i,
           CAST(dense_rank() OVER (ORDER BY "date") AS BIGINT) AS all_i
    FROM (SELECT DISTINCT store_id, "date" FROM stock)
"""


def stock_snapshot_gaps(ctx: Context) -> Iterator[Finding]:
    """Snapshot dates (dates present in `stock`) a store or a (store, product) series lacks inside its period."""
    if not ctx.has_rows("stock"):
        return
    with scratch_table(ctx, _STOCK_INDEX, "_quality_stock_days"):
        yield from _stock_store_findings(ctx)
        yield from _stock_series_finding(ctx)


def _stock_store_findings(ctx: Context) -> Iterator[Finding]:
    result = ranked(ctx, f"""
        WITH snaps AS (SELECT DISTINCT "date", all_i FROM _quality_stock_days),
             s AS (SELECT store_id, min(all_i) AS a, max(all_i) AS b, count(*) AS n, min("date") AS first_day,
                          max("date") AS last_day FROM _quality_stock_days GROUP BY store_id)
        SELECT s.store_id, count(*) AS affected, any_value(first_day) AS first_day,
               any_value(last_day) AS last_day, arg_min(snaps."date", snaps."date", {ctx.thresholds.examples}) AS days
        FROM s JOIN snaps ON snaps.all_i BETWEEN s.a AND s.b
        WHERE b - a + 1 - n > 0
          AND NOT EXISTS (SELECT 1 FROM _quality_stock_days k WHERE k.store_id = s.store_id AND k.all_i = snaps.all_i)
        GROUP BY s.store_id""", "affected DESC, store_id")
    for row in result.top:
        yield Finding(
            table_name="stock", column_name="date", affected_rows=int(row["affected"]), severity="warning",
            series=series_label(store_id=row["store_id"]),
            detail=ctx.say("stock_gaps.store", store=row["store_id"], n=ctx.num(row["affected"]),
                           first=ctx.day(row["first_day"]), last=ctx.day(row["last_day"])),
            example=", ".join(ctx.day(d) for d in row["days"]),
        )
    if result.rest_count:
        yield Finding(
            table_name="stock", column_name="date", affected_rows=result.rest_affected, severity="warning",
            detail=ctx.say("stock_gaps.rest", stores=ctx.num(result.rest_count), n=ctx.num(result.rest_affected)),
        )


def _stock_series_finding(ctx: Context) -> Iterator[Finding]:
    row = ctx.one("""
        SELECT count(*) AS series, coalesce(sum(missing), 0) AS n FROM (
            SELECT max(d.store_i) - min(d.store_i) + 1 - count(DISTINCT s."date") AS missing
            FROM stock s JOIN _quality_stock_days d USING (store_id, "date")
            GROUP BY s.store_id, s.product_id) WHERE missing > 0""")
    if row["series"]:
        yield Finding(
            table_name="stock", column_name="date", affected_rows=int(row["n"]), severity="info",
            detail=ctx.say("stock_gaps.series", series=ctx.num(row["series"]), n=ctx.num(row["n"])),
        )
