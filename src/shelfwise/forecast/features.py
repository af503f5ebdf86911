"""What the global model knows about each series and day, in the past and inside the horizon.

Demand moves with the calendar (weekday, month, pay day), with holidays of the store's state (the `holidays`
package), with the retail peaks every Brazilian retailer plans for (Black Friday week, the days before Christmas),
and with promotions. Promotions are known ahead: a campaign in `campaigns` that covers a product and a store on a
day, planned or past, sets `promo` and its `discount_pct` for that day; in the history, `sales.on_promo` and a price
below the series' usual price count too. Prices inside the horizon are the last regular price less the planned
discount. Everything is one row per (store_id, product_id, date), past days and horizon alike, so that training and
forecasting read the same features.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import holidays
import numpy as np
import pandas as pd

from shelfwise.retail_calendar import black_friday


def holiday_calendar(first: date, last: date, states: list[str]) -> pd.DataFrame:
    """state, date, holiday, pre_holiday (one or two days before one) for every day and state."""
    days = pd.date_range(first, last + timedelta(days=2), freq="D")
    years = sorted({d.year for d in days})
    rows = []
    for state in states:
        try:
            calendar = holidays.Brazil(subdiv=state, years=years)
        except NotImplementedError:  # an unknown UF: national holidays only
            calendar = holidays.Brazil(years=years)
        flags = pd.Series([d.date() in calendar for d in days], index=days)
        ahead = flags.shift(-1, fill_value=False) | flags.shift(-2, fill_value=False)
        rows.append(pd.DataFrame({"state": state, "date": days, "holiday": flags.to_numpy(),
                                  "pre_holiday": (ahead & ~flags).to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _days(first: date, last: date) -> pd.DataFrame:
    """The calendar columns of each day (computed once per day, not per series)."""
    days = pd.DataFrame({"date": pd.date_range(first, last, freq="D")})
    fridays = pd.to_datetime([black_friday(y) for y in range(first.year, last.year + 1)])
    days["dayofweek"] = days["date"].dt.dayofweek
    days["month"] = days["date"].dt.month
    days["day"] = days["date"].dt.day
    days["black_friday_week"] = days["date"].map(lambda d: bool(((d - fridays).days.map(abs) <= 3).any()))
    christmas = pd.to_datetime(days["date"].dt.year.astype(str) + "-12-25")
    until = (christmas - days["date"]).dt.days
    days["to_christmas"] = until.where(until >= 0, 31).clip(upper=31)
    return days


FEATURES_SQL = """
WITH grid AS (
    SELECT s.store_id, s.product_id, CAST(d.day AS DATE) AS date
    FROM (SELECT DISTINCT store_id, product_id FROM series) s,
         generate_series(CAST($first AS DATE), CAST($last AS DATE), INTERVAL 1 DAY) AS d(day)
), planned AS (
    SELECT g.store_id, g.product_id, g.date, max(coalesce(c.discount_pct, 0)) AS discount_pct
    FROM grid g JOIN campaigns c
      ON g.date BETWEEN c.start_date AND c.end_date
     AND (c.product_ids IS NULL OR list_contains(c.product_ids, g.product_id))
     AND (c.store_ids IS NULL OR list_contains(c.store_ids, g.store_id))
    WHERE coalesce(c.type, '') <> 'partnership'
    GROUP BY ALL
), sold AS (
    SELECT store_id, product_id, date, bool_or(on_promo) AS on_promo,
           sum(revenue) / nullif(sum(units) FILTER (WHERE units > 0), 0) AS unit_revenue, avg(price) AS price
    FROM sales WHERE CAST($until AS DATE) IS NULL OR date <= CAST($until AS DATE) GROUP BY ALL
), priced AS (
    SELECT g.*, coalesce(s.price, s.unit_revenue) AS price, coalesce(s.on_promo, false) AS on_promo,
           p.discount_pct AS planned_discount
    FROM grid g
    LEFT JOIN sold s USING (store_id, product_id, date)
    LEFT JOIN planned p USING (store_id, product_id, date)
), usual AS (
    SELECT *, median(price) FILTER (WHERE NOT on_promo AND planned_discount IS NULL) OVER (
              PARTITION BY store_id, product_id ORDER BY date ROWS BETWEEN 56 PRECEDING AND CURRENT ROW) AS usual_price
    FROM priced
), filled AS (
    SELECT *, last_value(usual_price IGNORE NULLS) OVER (
              PARTITION BY store_id, product_id ORDER BY date
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS regular
    FROM usual
)
SELECT store_id, product_id, date,
       on_promo OR planned_discount IS NOT NULL AS promo,
       coalesce(planned_discount, CASE WHEN on_promo AND price < regular THEN 100 * (1 - price / regular) END, 0)
           AS discount_pct,
       coalesce(price / nullif(regular, 0), 1 - coalesce(planned_discount, 0) / 100) AS price_ratio
FROM filled
"""


def series_features(
    con: duckdb.DuckDBPyConnection, series: pd.DataFrame, first: date, last: date, *, until: date | None = None
) -> pd.DataFrame:
    """Calendar, holiday and promotion features of every series of `series` (store_id, product_id) and day.

    `last` may lie past the data: planned campaigns give the horizon its promotions. Sales after `until` (rows
    dated in the future) are not read, so they cannot set a horizon day's price.
    """
    con.register("series", series[["store_id", "product_id"]].drop_duplicates())
    try:
        frame = con.execute(FEATURES_SQL, {"first": first, "last": last, "until": until}).df()
    finally:
        con.unregister("series")
    frame["date"] = pd.to_datetime(frame["date"])
    states = con.execute("SELECT store_id, coalesce(state, 'SP') AS state FROM stores").df()
    frame = frame.merge(states, on="store_id", how="left")
    frame["state"] = frame["state"].fillna("SP")
    calendar = holiday_calendar(first, last, sorted(frame["state"].unique()))
    calendar = calendar.merge(_days(first, last), on="date")
    frame = frame.merge(calendar, on=["state", "date"], how="left")
    for flag in ("holiday", "pre_holiday", "black_friday_week", "promo"):
        frame[flag] = frame[flag].fillna(False).astype(int)
    return frame.drop(columns="state").sort_values(["store_id", "product_id", "date"]).reset_index(drop=True)


CHRISTMAS_RUN_UP_DAYS = 7
"""The days before Christmas that are a calendar event of their own (the shopping peak)."""
REGIMES = ("regular", "promo", "holiday", "peak")
"""Kinds of day the choice weighs apart (`day_regime`)."""


def day_regime(frame: pd.DataFrame) -> np.ndarray:
    """Per row, the kind of day: `promo`, `peak`, `holiday` or `regular`, in that order of precedence.

    Peaks are Black Friday week and the run-up to Christmas; holidays include their eves. Promotions and calendar
    events move demand in ways only the global model knows, so the choice weighs each kind of day apart
    (`selection`); the peaks are rare enough that a backtest seldom holds one.
    """
    peak = (frame["black_friday_week"].fillna(0) > 0) | (frame["to_christmas"].fillna(31) < CHRISTMAS_RUN_UP_DAYS)
    holiday = (frame["holiday"].fillna(0) > 0) | (frame["pre_holiday"].fillna(0) > 0)
    return np.select([frame["promo"].fillna(0) > 0, peak, holiday], ["promo", "peak", "holiday"], "regular")


def regime_of(frame: pd.DataFrame) -> np.ndarray:
    """The `regime` column of a frame that carries `day_regime`'s kinds; a row joined to no day is `regular`."""
    return frame["regime"].fillna("regular").to_numpy()
