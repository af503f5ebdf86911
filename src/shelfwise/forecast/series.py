"""The demand history a forecaster may learn from, built in SQL from `sales` and `stock`.

Sales files list what sold, not what was wanted, so four retail facts are fixed before any model sees a number:
- a day with no sale row is a day that sold nothing (0), from the series' first sale to the last sales date of the
  data — unless the whole store sold nothing that day, which means it was closed (25 December, 1 January): those
  days are not demand collapses, they are no observation at all;
- a day that ended with no stock is censored: the shelf emptied, so demand was at least what sold, not what sold;
- returns (negative net units) are not negative demand: demand is floored at zero, and the returns stay visible
  in `sales` and in the quality report;
- a series starts at its first sale, so a new SKU has a short history rather than months of false zeros.

Closed days are filled with the series' recent same-weekday median so that models needing a regular daily grid can
run; censored days take the larger of what sold and that median. Both are flagged (`observed = false`) so that
backtests never score them.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

SERIES_KEY = ("store_id", "product_id")

HISTORY_SQL = """
WITH daily AS (
    SELECT store_id, product_id, date, sum(units) AS units FROM sales
    WHERE CAST($until AS DATE) IS NULL OR date <= CAST($until AS DATE) GROUP BY ALL
), bounds AS (
    SELECT store_id, product_id, min(date) AS first_day FROM daily WHERE units > 0 GROUP BY ALL
), last_day AS (
    SELECT max(date) AS last_day FROM daily
), open_days AS (
    SELECT DISTINCT store_id, date FROM daily
), grid AS (
    SELECT b.store_id, b.product_id, CAST(d.day AS DATE) AS date
    FROM bounds b, last_day l, generate_series(b.first_day, l.last_day, INTERVAL 1 DAY) AS d(day)
)
SELECT g.store_id, g.product_id, g.date,
       greatest(coalesce(s.units, 0), 0) AS units,
       o.date IS NULL AS closed,
       o.date IS NOT NULL AND coalesce(k.on_hand, 1) <= 0 AS censored
FROM grid g
LEFT JOIN daily s USING (store_id, product_id, date)
LEFT JOIN open_days o ON o.store_id = g.store_id AND o.date = g.date
LEFT JOIN stock k ON k.store_id = g.store_id AND k.product_id = g.product_id AND k.date = g.date
"""


def demand_history(con: duckdb.DuckDBPyConnection, *, until: date | None = None) -> pd.DataFrame:
    """One row per series and day: store_id, product_id, date, units (demand, filled), observed, closed, censored.

    Sales after `until` are not read. Series are ordered by key and date, the layout statsforecast and mlforecast
    expect.
    """
    frame = con.execute(f"""
        WITH h AS ({HISTORY_SQL}),
        recent AS (
            SELECT *, NOT (closed OR censored) AS observed,
                   median(CASE WHEN NOT (closed OR censored) THEN units END) OVER (
                       PARTITION BY store_id, product_id, dayofweek(date) ORDER BY date
                       ROWS BETWEEN 8 PRECEDING AND 1 PRECEDING) AS recent_usual
            FROM h
        ), filled AS (  -- a closure longer than 8 weeks (a gap in the export) keeps the last known usual level
            SELECT *, last_value(recent_usual IGNORE NULLS) OVER (
                       PARTITION BY store_id, product_id, dayofweek(date) ORDER BY date
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS usual
            FROM recent
        )
        SELECT store_id, product_id, date,
               CASE WHEN observed THEN units WHEN censored THEN greatest(units, coalesce(usual, 0))
                    ELSE coalesce(usual, 0) END AS units,
               observed, closed, censored
        FROM filled ORDER BY store_id, product_id, date
    """, {"until": until}).df()
    return frame


def classify(history: pd.DataFrame) -> pd.DataFrame:
    """Syntetos–Boylan class of each series from its observed days: smooth, erratic, intermittent or lumpy.

    ADI is the mean interval between days with demand; CV² the squared coefficient of variation of the non-zero
    demands. The cut-offs 1.32 and 0.49 are Syntetos, Boylan & Croston (2005). A series with fewer than two
    demand days is `insufficient`.
    """
    observed = history[history["observed"]]
    grouped = observed.groupby(list(SERIES_KEY), sort=True)
    days = grouped.size().rename("days")
    positive = observed[observed["units"] > 0].groupby(list(SERIES_KEY))["units"]
    demand_days = positive.size().rename("demand_days")
    stats = pd.concat([days, demand_days, positive.mean().rename("mean"), positive.std(ddof=0).rename("std")],
                      axis=1).reset_index()
    stats["demand_days"] = stats["demand_days"].fillna(0)
    stats["adi"] = stats["days"] / stats["demand_days"].where(stats["demand_days"] > 0)
    stats["cv2"] = (stats["std"] / stats["mean"]) ** 2
    intermittent = stats["adi"] >= 1.32
    variable = stats["cv2"] >= 0.49
    stats["demand_class"] = "smooth"
    stats.loc[~intermittent & variable, "demand_class"] = "erratic"
    stats.loc[intermittent & ~variable, "demand_class"] = "intermittent"
    stats.loc[intermittent & variable, "demand_class"] = "lumpy"
    stats.loc[stats["demand_days"] < 2, "demand_class"] = "insufficient"
    return stats[[*SERIES_KEY, "days", "demand_days", "adi", "cv2", "demand_class"]]
