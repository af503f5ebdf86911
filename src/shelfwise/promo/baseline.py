"""The counterfactual: what each (store, product) would have sold on each day had no promotion run.

A promotion's lift is only as good as its baseline, and the two easy baselines are both wrong in retail: the
28 days before a campaign mistake Black Friday or Christmas for the promotion, and the same store's own
history alone is too noisy for one SKU. So the baseline is a multiplicative model fitted on every *clean*
day -- no promotion, no post-promotion days, no cannibalised cell, no stock-out, store open -- before and
after the campaign, in every store:

    expected(s, p, d) = level(s, p) x weekday(category, dow) x event(category, kind of day)
                        x season(p, d) x trend(s, d)

`season` is the product's own movement, pooled over every store: a local line through neighbouring days (so
it follows a Christmas ramp instead of lagging it), as wide as predicts the product's held-out days best. On a
campaign's days it comes from the stores where the product was not promoted -- the control stores -- and from
the treated stores' clean days around it. `event` is the category's response to each special day (public
holidays and their eves, Black Friday week, the days before Christmas, New Year's Eve), learnt over every
occurrence. `trend` is the store's slow drift within the category (a year either side). Fitting is iterative
proportional fitting of a Poisson model (each factor a ratio of sums), which statsforecast and scikit-learn do
not offer for a structure with missing cells; it is a few numpy reductions per sweep.

Each category is fitted on its own so memory stays bounded by (days x stores x products in one category).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd
from scipy.ndimage import convolve1d

from shelfwise.retail_calendar import black_friday, easter


@dataclass(frozen=True)
class BaselineSettings:
    """How smooth the product's season and the store's trend are, and how many fitting sweeps to run."""

    season_halfwidths: tuple[int, ...] = (7, 14, 28, 56, 112)
    """Candidate smoothings of each product's season; each product takes the one that best predicts days it
    did not see (a gap as long as a typical campaign is cut out of the kernel), so a Christmas-only item gets a
    nimble season and a steady one a stiff, quiet season."""
    season_gap_days: int = 5
    trend_halfwidth_days: int = 365
    sweeps: int = 10


@dataclass(frozen=True)
class DailyPanel:
    """Dense daily sales of a set of products in every store, and which cells are fit to learn from.

    `units` (D, S, P) net sales clipped at zero (returns do not make a negative day); `clean` (D, S, P) True
    where the day may teach the model what an ordinary day looks like; `open_days` (D, S) False on days the
    store sold nothing at all (closed, an outage); `categories` (P,) one label per product.
    """

    days: pd.DatetimeIndex
    stores: np.ndarray
    products: np.ndarray
    categories: np.ndarray
    units: np.ndarray
    clean: np.ndarray
    open_days: np.ndarray


def day_kinds(days: pd.DatetimeIndex, state: str | None = None) -> np.ndarray:
    """A label per day for the special days retail demand answers to ('' on an ordinary day).

    Public holidays and their eves (the `holidays` package), Carnival and Ash Wednesday, Black Friday week, the
    week before Christmas and New Year's Eve, and the Brazilian retail seasons around a date: the fortnight
    before Easter, the weeks of Mother's Day, Valentine's Day (12 June), Father's Day and Children's Day, and
    the Festa Junina.
    """
    years = range(days[0].year, days[-1].year + 1)
    reach = range(years.start, years.stop + 1)  # the eve of next year's first holiday
    try:
        calendar = holidays.Brazil(subdiv=state, years=reach) if state else holidays.Brazil(years=reach)
    except NotImplementedError:
        calendar = holidays.Brazil(years=reach)
    is_holiday = np.array([d.date() in calendar for d in days])
    is_eve = np.array([(d + timedelta(days=1)).date() in calendar for d in days]) & ~is_holiday
    kinds = np.full(len(days), "", dtype=object)
    kinds[is_eve] = "eve"
    kinds[is_holiday] = "holiday"
    index = pd.Series(np.arange(len(days)), index=days)
    for day, name in holidays.Brazil(years=years, categories=("optional",)).items():
        if name in ("Carnival", "Ash Wednesday"):
            _label(kinds, index, day, "carnival" if name == "Carnival" else "ash_wednesday")
    for year in years:
        friday = black_friday(year)
        for shift in range(-3, 4):
            _label(kinds, index, friday + timedelta(days=shift), f"black_friday{shift:+d}")
        for day in range(18, 25):
            _label(kinds, index, date(year, 12, day), f"dec{day}")
        _label(kinds, index, date(year, 12, 31), "dec31")
    for year in years:
        sunday = easter(year)
        for before in range(1, 15):
            _label(kinds, index, sunday - timedelta(days=before), f"easter-{before}" if before <= 7 else "easter-2w",
                   season=True)
        for label, day in (("mothers_week", _sunday(year, 5, 2)), ("valentines_week", date(year, 6, 12)),
                           ("fathers_week", _sunday(year, 8, 2)), ("childrens_week", date(year, 10, 12))):
            for before in range(7):
                _label(kinds, index, day - timedelta(days=before), label, season=True)
        for day in range(13, 30):
            _label(kinds, index, date(year, 6, day), "festa_junina", season=True)
    return kinds


def _sunday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))


def _label(kinds: np.ndarray, index: pd.Series, day: date, label: str, *, season: bool = False) -> None:
    """Label a day inside the history; a retail `season` day keeps a more specific label it already has."""
    position = index.get(pd.Timestamp(day))
    if position is not None and (not season or kinds[position] == ""):
        kinds[position] = label


def fit_baseline(panel: DailyPanel, kinds: np.ndarray, settings: BaselineSettings = BaselineSettings()
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Expected ordinary-day units (D, S, P) for every cell, and each product's overdispersion (P,).

    Sales are read as negative binomial: a day's variance is mean + overdispersion x mean², with the
    overdispersion (1 / size) estimated per product by moments over its clean days.

    Closed store-days expect nothing. Cells outside a product's selling life in a store (before its first
    sale or after its last) expect nothing either, so a launch is not read as a collapse.
    """
    expected = np.zeros(panel.units.shape, dtype=np.float32)
    overdispersion = np.zeros(len(panel.products))
    for category in np.unique(panel.categories):
        cols = np.flatnonzero(panel.categories == category)
        fitted, alpha = _fit_category(panel.units[:, :, cols], panel.clean[:, :, cols], panel.open_days, kinds,
                                    panel.days, settings)
        expected[:, :, cols] = fitted
        overdispersion[cols] = alpha
    return expected, overdispersion


def _fit_category(units: np.ndarray, clean: np.ndarray, open_days: np.ndarray, kinds: np.ndarray,
                  days: pd.DatetimeIndex, settings: BaselineSettings) -> tuple[np.ndarray, np.ndarray]:
    n_days, n_stores, n_products = units.shape
    weekday = days.dayofweek.to_numpy()
    selling = selling_life(units)
    weight = (clean & selling & open_days[:, :, None]).astype(np.float32)  # float32: the panel is the memory
    observed = weight * units.astype(np.float32)
    kind_codes, kind_index = np.unique(kinds, return_inverse=True)
    ordinary = np.flatnonzero(kind_codes == "")
    level = np.ones((n_stores, n_products), dtype=np.float32)
    by_weekday, by_kind = np.ones(7, dtype=np.float32), np.ones(len(kind_codes), dtype=np.float32)
    product_kind = np.ones((len(kind_codes), n_products), dtype=np.float32)
    season = np.ones((n_days, n_products), dtype=np.float32)
    trend = np.ones((n_days, n_stores), dtype=np.float32)

    def fitted(with_season: bool = True, with_product_kind: bool = True) -> np.ndarray:
        day = (by_weekday[weekday] * by_kind[kind_index])[:, None] * (
            product_kind[kind_index] if with_product_kind else 1.0)
        base = level[None] * day[:, None, :] * trend[:, :, None]
        return base * season[:, None, :] if with_season else base

    for _ in range(settings.sweeps):
        level *= _ratio(observed.sum(0), (weight * fitted()).sum(0))
        by_weekday *= _ratio(np.bincount(weekday, observed.sum((1, 2)), 7),
                             np.bincount(weekday, (weight * fitted()).sum((1, 2)), 7))
        step = _ratio(np.bincount(kind_index, observed.sum((1, 2)), len(kind_codes)),
                      np.bincount(kind_index, (weight * fitted()).sum((1, 2)), len(kind_codes)))
        step[ordinary] = 1.0
        by_kind *= step
        product_kind = _shrunk_product_kinds(
            _by_kind(observed.sum(1), kind_index, len(kind_codes)),
            _by_kind((weight * fitted(with_product_kind=False)).sum(1), kind_index, len(kind_codes)),
            ordinary).astype(np.float32)
        season = _season_by_cross_validation(observed.sum(1), (weight * fitted(False)).sum(1),
                                             settings).astype(np.float32)
        trend *= _smoothed_ratio(observed.sum(2), (weight * fitted()).sum(2), settings.trend_halfwidth_days)
    expected = fitted() * selling * open_days[:, :, None]
    excess = (weight * ((units - expected) ** 2 - expected)).sum((0, 1), dtype=np.float64)
    scale = (weight * expected**2).sum((0, 1), dtype=np.float64)
    pooled = max(excess.sum(), 0.0) / max(scale.sum(), 1e-9)
    overdispersion = np.where(weight.sum((0, 1)) > 60, excess / np.maximum(scale, 1e-9), pooled)
    return expected, np.clip(overdispersion, 0.0, 5.0)


def _season_by_cross_validation(numerator: np.ndarray, denominator: np.ndarray, settings: BaselineSettings
                                ) -> np.ndarray:
    """(D, P) season, each product smoothed with the candidate width that best predicts its held-out days."""
    seen = denominator > 0
    best_loss = np.full(numerator.shape[1], np.inf)
    season = np.ones(numerator.shape)
    for halfwidth in settings.season_halfwidths:
        predicted = denominator * _smoothed_ratio(numerator, denominator, halfwidth, gap=settings.season_gap_days)
        loss = np.where(seen, (numerator - predicted) ** 2 / np.maximum(predicted, 1e-9), 0.0).sum(0)
        better = loss < best_loss
        if better.any():
            season[:, better] = _smoothed_ratio(numerator, denominator, halfwidth)[:, better]
            best_loss[better] = loss[better]
    return season


def _by_kind(values: np.ndarray, kind_index: np.ndarray, n_kinds: int) -> np.ndarray:
    """(K, P) sums of (D, P) values over the days of each kind."""
    out = np.zeros((n_kinds, values.shape[1]))
    np.add.at(out, kind_index, values)
    return out


def _shrunk_product_kinds(observed: np.ndarray, fitted: np.ndarray, ordinary: np.ndarray,
                          threshold: float = 1.0) -> np.ndarray:
    """(K, P) each product's own answer to each special day beyond its category's, kept only where it is clear.

    Most products answer a special day as their category does, a few very differently (an Easter egg at Easter,
    panettone before Christmas): a sparse pattern, so the departure is soft-thresholded at `threshold` Poisson
    standard errors rather than shrunk by a normal prior, which would either smear the few or jitter the many.
    """
    seen = fitted > 1.0
    departure = np.where(seen, np.log(np.maximum(observed, 0.5) / np.maximum(fitted, 1e-9)), 0.0)
    margin = threshold / np.sqrt(np.maximum(observed, 1.0))
    kept = np.sign(departure) * np.maximum(np.abs(departure) - margin, 0.0)
    factor = np.exp(np.where(seen, kept, 0.0))
    factor[ordinary] = 1.0
    return factor


def selling_life(units: np.ndarray) -> np.ndarray:
    """(D, S, P) True from a product's first to its last sale in a store."""
    sold = units > 0
    started = np.cumsum(sold, axis=0) > 0
    not_ended = np.cumsum(sold[::-1], axis=0)[::-1] > 0
    return started & not_ended


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-12), 1.0)


def _smoothed_ratio(numerator: np.ndarray, denominator: np.ndarray, halfwidth: int, *, gap: int = 0
                    ) -> np.ndarray:
    """Local-linear ratio along days: a level that borrows from neighbouring days and follows a slope.

    A local mean would be pulled toward whichever side of a gap has data (a campaign's days, where only the
    control stores count), so on a ramp it lags; a local line through the ratio, weighted by the expected
    units, does not. Where the line is ill-determined (data on one side only, or too few), the local mean is used.
    """
    offsets = np.arange(-halfwidth, halfwidth + 1, dtype=float)
    kernel = np.where(np.abs(offsets) > gap if gap else True, halfwidth + 1 - np.abs(offsets), 0.0)

    def smooth(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # convolve1d flips nothing for a symmetric kernel; for the odd one (offset x kernel) it does: negate
        return convolve1d(values, weights[::-1], axis=0, mode="constant")

    s0 = smooth(denominator, kernel)
    s1 = smooth(denominator, kernel * offsets)
    s2 = smooth(denominator, kernel * offsets**2)
    t0 = smooth(numerator, kernel)
    t1 = smooth(numerator, kernel * offsets)
    determinant = s0 * s2 - s1**2
    steady = determinant > 1e-3 * np.maximum(s0 * s2, 1e-12)
    linear = np.where(steady, (s2 * t0 - s1 * t1) / np.where(steady, determinant, 1.0), np.nan)
    local_mean = _ratio(t0, s0)
    centred = np.abs(s1) <= 0.5 * halfwidth * np.maximum(s0, 1e-12)
    return np.where(steady & centred, np.clip(linear, local_mean / 1.5, local_mean * 1.5), local_mean)
