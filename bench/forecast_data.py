"""Synthetic daily retail series with planted truth, in the frame shapes `shelfwise...automl.load_inputs` returns.

`synthetic(stores, products)` draws `stores x products` (store, product) series of `days` days of history plus a
`horizon`-day holdout, seeded, with numpy only:

- mean demand = level x weekly shape x yearly shape x trend x holiday effect x retail peaks x promotion lift;
- level: ~20% of the series are slow movers (0.05 to 0.8 units a day: intermittent), the rest log-normal around
  12 units a day;
- weekly and yearly seasonality of random amplitude (up to +-40%) and phase, a trend of about +3% a year;
- Brazilian holidays (São Paulo, the `holidays` package as `shelfwise.forecast.features` uses it): -20% on the
  holiday, +30% on the one or two days before it; Black Friday week +25%, the week before Christmas +30%;
- promotions on ~30% of the series: 1 to 4 campaigns of 7 to 14 days at 10 to 30% off, with a lift proportional
  to the discount (1 + discount x elasticity, elasticity 2 to 4 per series); a third of the promoted series has a
  planned campaign that overlaps the holdout (known ahead in `features`, as a planned campaign is);
- 25 December and 1 January: the stores are closed (no sales, `closed`, not observed);
- negative-binomial noise (size 3) around the mean.

`history` follows `shelfwise.forecast.series.demand_history`: each series starts at its first sale, closed days
are filled with the median of the same weekday over the 8 weeks before and flagged `observed = False`.
`features` has one row per series and day over history and horizon, as `series_features` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from shelfwise.forecast.features import holiday_calendar

FIRST_DAY = "2024-11-01"
CATEGORIES = ("mercearia", "bebidas", "limpeza", "higiene", "laticinios", "hortifruti", "padaria", "congelados",
              "pet", "bazar", "frios", "doces")
NB_SIZE = 3.0
INTERMITTENT_SHARE = 0.2
PROMOTED_SHARE = 0.3


@dataclass(frozen=True)
class Synthetic:
    """Inputs of `forecast_demand` plus the planted truth of the holdout.

    Attributes:
        history: store_id, product_id, date, units, observed, closed, censored (the `load_inputs` shape).
        features: store_id, product_id, date, promo, discount_pct, price_ratio, holiday, pre_holiday,
            black_friday_week, to_christmas, day, dayofweek, month -- history and horizon days.
        categories: product_id, category.
        holdout: store_id, product_id, date, y (drawn units), expected (planted mean), promo, closed.
        series: store_id, product_id, level, intermittent, promoted, elasticity.
    """

    history: pd.DataFrame
    features: pd.DataFrame
    categories: pd.DataFrame
    holdout: pd.DataFrame
    series: pd.DataFrame


def _calendar(days: pd.DatetimeIndex) -> pd.DataFrame:
    """The calendar feature columns of `series_features` for every day (São Paulo holidays)."""
    first, last = days[0].date(), days[-1].date()
    cal = holiday_calendar(first, last, ["SP"]).drop(columns="state")
    cal = pd.DataFrame({"date": days}).merge(cal, on="date", how="left")
    fridays = pd.to_datetime([_black_friday(y) for y in range(first.year, last.year + 1)])
    cal["dayofweek"] = cal["date"].dt.dayofweek.astype("int32")
    cal["month"] = cal["date"].dt.month.astype("int32")
    cal["day"] = cal["date"].dt.day.astype("int32")
    distance = np.abs(cal["date"].to_numpy()[:, None] - fridays.to_numpy()[None, :]).min(axis=1)
    cal["black_friday_week"] = (distance <= np.timedelta64(3, "D")).astype("int64")
    christmas = pd.to_datetime(cal["date"].dt.year.astype(str) + "-12-25")
    until = (christmas - cal["date"]).dt.days
    cal["to_christmas"] = until.where(until >= 0, 31).clip(upper=31).astype("int64")
    for flag in ("holiday", "pre_holiday"):
        cal[flag] = cal[flag].fillna(False).astype("int64")
    return cal


def _black_friday(year: int) -> date:
    fourth_thursday = date(year, 11, 1) + timedelta(days=(3 - date(year, 11, 1).weekday()) % 7 + 21)
    return fourth_thursday + timedelta(days=1)


def synthetic(stores: int = 20, products: int = 250, *, days: int = 730, horizon: int = 28,
              seed: int = 42) -> Synthetic:
    """Draw `stores x products` series of `days` days plus a `horizon`-day holdout (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = stores * products
    span = days + horizon
    dates = pd.date_range(FIRST_DAY, periods=span, freq="D")
    t = np.arange(span)
    cal = _calendar(dates)
    closed = ((dates.month == 12) & (dates.day == 25)) | ((dates.month == 1) & (dates.day == 1))
    closed = np.asarray(closed)

    store_ids = np.array([f"{s + 1:03d}" for s in range(stores)], dtype=object)
    product_ids = np.array([f"789{1000000000 + 7919 * p:010d}" for p in range(products)], dtype=object)
    product_category = rng.integers(0, len(CATEGORIES), products)
    series_store = np.repeat(store_ids, products)
    series_product = np.tile(product_ids, stores)

    intermittent = rng.random(n) < INTERMITTENT_SHARE
    level = np.where(intermittent, rng.uniform(0.05, 0.8, n), np.exp(rng.normal(2.5, 0.9, n)))
    week = 1 + rng.uniform(0.05, 0.4, n)[:, None] * np.sin(2 * np.pi * (t[None] + rng.integers(0, 7, n)[:, None]) / 7)
    year = 1 + rng.uniform(0, 0.4, n)[:, None] * np.cos(
        2 * np.pi * (t[None] - rng.integers(0, 365, n)[:, None]) / 365.25)
    trend = np.exp(rng.normal(0.03, 0.05, n)[:, None] * t[None] / 365.25)
    calendar_effect = ((1 - 0.2 * cal["holiday"].to_numpy()) * (1 + 0.3 * cal["pre_holiday"].to_numpy())
                       * (1 + 0.25 * cal["black_friday_week"].to_numpy())
                       * (1 + 0.3 * ((cal["to_christmas"].to_numpy() >= 1) & (cal["to_christmas"].to_numpy() <= 7))))

    discount = np.zeros((n, span))
    promoted = rng.random(n) < PROMOTED_SHARE
    for i in np.flatnonzero(promoted):
        starts = list(rng.integers(0, days - 14, rng.integers(1, 5)))
        if rng.random() < 1 / 3:  # a planned campaign overlapping the holdout
            starts.append(int(rng.integers(days - 10, days + horizon - 7)))
        for start in starts:
            length = int(rng.integers(7, 15))
            discount[i, start:start + length] = np.maximum(discount[i, start:start + length],
                                                           rng.choice([10, 15, 20, 25, 30]))
    elasticity = rng.uniform(2, 4, n)
    lift = 1 + discount / 100 * elasticity[:, None]

    mu = level[:, None] * week * year * trend * calendar_effect[None] * lift * (~closed)[None]
    y = rng.negative_binomial(NB_SIZE, NB_SIZE / (NB_SIZE + mu)).astype(np.float64)

    # history as demand_history builds it: closed days filled with the same weekday's median of the 8 weeks before
    units = y[:, :days].copy()
    for day in np.flatnonzero(closed[:days]):
        before = [day - 7 * k for k in range(1, 9) if day - 7 * k >= 0 and not closed[day - 7 * k]]
        units[:, day] = np.median(y[:, before], axis=1) if before else 0.0
    sold = (y[:, :days] > 0) & ~closed[None, :days]
    first_sale = np.where(sold.any(axis=1), sold.argmax(axis=1), days)
    keep = t[None, :days] >= first_sale[:, None]
    rows, cols = np.nonzero(keep)
    history = pd.DataFrame({
        "store_id": series_store[rows], "product_id": series_product[rows], "date": dates[cols],
        "units": units[rows, cols], "observed": ~closed[cols], "closed": closed[cols],
        "censored": np.zeros(len(rows), dtype=bool)})
    history["date"] = history["date"].astype("datetime64[us]")

    features = pd.DataFrame({
        "store_id": np.repeat(series_store, span), "product_id": np.repeat(series_product, span),
        "date": np.tile(dates, n), "promo": (discount > 0).ravel().astype("int64"),
        "discount_pct": discount.ravel(), "price_ratio": (1 - discount / 100).ravel()})
    features["date"] = features["date"].astype("datetime64[us]")
    calendar_columns = ["holiday", "pre_holiday", "dayofweek", "month", "day", "black_friday_week", "to_christmas"]
    for column in calendar_columns:
        features[column] = np.tile(cal[column].to_numpy(), n)

    categories = pd.DataFrame({"product_id": product_ids,
                               "category": np.array(CATEGORIES, dtype=object)[product_category]})
    ahead = slice(days, span)
    holdout = pd.DataFrame({
        "store_id": np.repeat(series_store, horizon), "product_id": np.repeat(series_product, horizon),
        "date": np.tile(dates[ahead], n), "y": y[:, ahead].ravel(), "expected": mu[:, ahead].ravel(),
        "promo": (discount[:, ahead] > 0).ravel(), "closed": np.tile(closed[ahead], n)})
    series = pd.DataFrame({"store_id": series_store, "product_id": series_product, "level": level,
                           "intermittent": intermittent, "promoted": promoted, "elasticity": elasticity})
    return Synthetic(history=history, features=features, categories=categories, holdout=holdout, series=series)
