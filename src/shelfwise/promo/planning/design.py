"""How measured or planned cells become the lift model's columns: discount, type, duration, season and category."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from shelfwise.promo.planning.errors import PlanError
from shelfwise.retail_calendar import black_friday

TYPES = ("discount", "display", "coupon", "bundle", "partnership")
"""Promotion types of the measured history; a missing type is a level of its own, 'unknown'."""
TYPE_LEVELS = (*TYPES, "unknown")
FIXED_TERMS = ("intercept", "discount", "discount_missing", "log_days", "black_friday_week", "christmas_run_up",
               "month_sin", "month_cos", *(f"type_{name}" for name in TYPE_LEVELS))


class _Spec(NamedTuple):
    """What turns cells into model columns: the categories known, and the centring of the two scaled columns."""

    categories: tuple[str, ...]
    discount: tuple[float, float]  # mean, sd
    log_days: tuple[float, float]


def _types(values: pd.Series) -> np.ndarray:
    """Types lower-cased, missing ones 'unknown'; anything else is refused, naming the accepted ones."""
    text = values.astype("string").str.strip().str.lower().fillna("").replace("", "unknown")
    wrong = sorted(set(text) - set(TYPE_LEVELS))
    if wrong:
        raise PlanError(f"unknown promotion type(s) {', '.join(map(repr, wrong))}; expected one of "
                        f"{', '.join(TYPES)} (or nothing)")
    return text.to_numpy(dtype=object)


def _categories(values: pd.Series) -> np.ndarray:
    """Categories as text; missing ones None (a category the model knows nothing of)."""
    text = values.astype("string").str.strip()
    return text.where(text.notna() & (text != ""), None).to_numpy(dtype=object)


def _spec(cells: pd.DataFrame) -> _Spec:
    discount = cells["discount_pct"].fillna(0.0)
    log_days = np.log(cells["days"])
    categories = tuple(sorted({c for c in cells["category"] if c is not None}))
    return _Spec(categories, (float(discount.mean()), float(discount.std(ddof=0)) or 1.0),
                 (float(log_days.mean()), float(log_days.std(ddof=0)) or 1.0))


def _design(frame: pd.DataFrame, spec: _Spec) -> np.ndarray:
    """Model columns in `FIXED_TERMS` order, then one indicator per known category.

    `frame` needs category, type (normalised), discount_pct, start_date and days. A missing discount counts as 0
    with its own flag, which takes the mean lift of cells whose depth is unknown (displays, mostly).
    """
    discount = frame["discount_pct"].to_numpy(dtype=float)
    missing = np.isnan(discount)
    days = frame["days"].to_numpy(dtype=float)
    first = pd.to_datetime(frame["start_date"]).dt.normalize().to_numpy("datetime64[D]")
    middle = pd.DatetimeIndex(first + ((days - 1) / 2).round().astype("timedelta64[D]"))
    angle = 2 * np.pi * (middle.dayofyear.to_numpy() - 1) / 365.25
    black_friday, christmas = _peak_shares(first, days.astype(int))
    types = frame["type"].to_numpy(dtype=object)[:, None] == np.array(TYPE_LEVELS, dtype=object)
    categories = frame["category"].to_numpy(dtype=object)[:, None] == np.array(spec.categories, dtype=object)
    return np.column_stack([
        np.ones(len(frame)), (np.where(missing, 0.0, discount) - spec.discount[0]) / spec.discount[1], missing,
        (np.log(days) - spec.log_days[0]) / spec.log_days[1], black_friday, christmas, np.sin(angle),
        np.cos(angle), types, categories.reshape(len(frame), len(spec.categories))]).astype(float)


@lru_cache(maxsize=256)
def _peak_windows(year: int) -> tuple[tuple[np.datetime64, np.datetime64], tuple[np.datetime64, np.datetime64]]:
    """Black Friday week (Monday to Sunday around it) and the run-up to Christmas (1 to 24 December)."""
    friday = np.datetime64(black_friday(year))
    return ((friday - 4, friday + 2), (np.datetime64(date(year, 12, 1)), np.datetime64(date(year, 12, 24))))


def _peak_shares(first: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of each window's days that fall in Black Friday week, and in the run-up to Christmas."""
    windows = pd.DataFrame({"first": first, "days": days})
    codes, unique = pd.factorize(pd.MultiIndex.from_frame(windows))  # a plan's cells mostly share their window
    first, days = unique.get_level_values(0).to_numpy("datetime64[D]"), unique.get_level_values(1).to_numpy()
    last = first + (days - 1).astype("timedelta64[D]")
    shares = np.zeros((2, len(first)))
    for i, (start, end) in enumerate(zip(first, last, strict=True)):
        for year in range(start.astype("datetime64[Y]").astype(int) + 1970,
                          end.astype("datetime64[Y]").astype(int) + 1971):
            for k, (low, high) in enumerate(_peak_windows(year)):
                overlap = (min(end, high) - max(start, low)).astype(int) + 1
                shares[k, i] += max(overlap, 0)
    shares /= days
    return shares[0][codes], shares[1][codes]
