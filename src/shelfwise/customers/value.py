"""Customer lifetime value: BG/NBD for how often a person will buy again, Gamma-Gamma for how much they spend.

Written out with scipy rather than taken from `lifetimes`: that library was archived in 2020, so nothing in it
will be fixed or kept up with numpy, pandas and scipy releases (and it brings autograd along), while each
likelihood here is a few lines of `scipy.special`. Writing them out also lets every formula work in logs, so they
stay finite for heavy buyers, and lets data the model cannot be fitted to raise `ValueModelError` with a message
naming what is wrong instead of a scipy traceback. The tests check the fits against the published CDNOW
figures (the data ship inside the lifetimes wheel, a test-only dependency) and against simulated customers.

History per person (`purchase_summary`, Fader, Hardie & Lee 2005 conventions)
    occasion   one per person per day: several receipts on one day are one purchase, their amounts summed;
               a day whose total is not positive (a return, a zero or missing amount) is not an occasion and
               its amount is not counted either
    x          `frequency`, repeat occasions = occasions - 1
    t_x        `recency`, first to last occasion, in time units (`time_unit_days`, weeks by default)
    T          first occasion to `as_of`, in time units
    m          `monetary`, the mean spend of the repeat occasions (the first is left out, as Gamma-Gamma
               expects); 0 when x = 0
    A person with no positive purchase on or before `as_of` has no row: the caller counts them as excluded.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
    While alive a person buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they
    drop out with probability p ~ Beta(a, b).
    likelihood   L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / G(r)
                     * [(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
    P(alive)     1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    E[Y(t)]      P(alive) (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)],
                 z = t/(alpha+T+t) (their eq. 10). Computed after Euler's transformation
                 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), which turns the bracket into
                 1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): no power of r+x is left to overflow, and the
                 hypergeometric series tends to 1 as x grows. At a = 1, or a+b+x = 1, the formula reads 0/0:
                 the offending term is moved 1e-6 away, which changes the result by about 1e-6 of itself. Where
                 scipy's hyp2f1 still fails (a and b in the thousands, from fits on a handful of customers),
                 the same mean, E[(1 - (1 + p t/(alpha+T))^-(r+x)) / p] over p ~ Beta(a, b+x), is integrated
                 numerically (`_mean_over_dropout`).

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"; Fader & Hardie 2013 note)
    Each spend is Gamma(p, nu), with each person's nu ~ Gamma(q, v): their mean spend is p / nu, and the
    population's p v / (q - 1). Spend is assumed independent of purchase frequency.
    likelihood   G(px+q)/(G(px) G(q)) v^q m^(px-1) x^px / (v + m x)^(px+q), over repeat customers only
    E[spend]     p (v + x m) / (p x + q - 1); for x = 0 the population mean p v / (q - 1)
    `fit_gamma_gamma` refuses a fitted q <= 1 (the population mean would be infinite), fewer than
    `min_repeat_customers` repeat customers, and spend that never varies. The caller then passes
    `gamma_gamma=None` to `customer_value`, which uses each repeat customer's own mean repeat spend, and for
    one-time buyers the mean of those (or, when nobody repeated, the mean spend per occasion over everyone);
    the column `spend_model` ("gamma_gamma", "own_mean", "population_mean") says which each row used.

Value
    expected_purchases_12m  E[Y(H)] with H = horizon_days / time_unit_days (365 days by default)
    value_12m               expected_spend * sum over the horizon's months k of (E[Y(t_k)] - E[Y(t_{k-1})])
                            / (1 + annual_discount_rate)^(mid-point of month k in years): each month's expected
                            purchases discounted from its middle; with no discount, E[Y(H)] * expected_spend.

Fitting maximises the mean log-likelihood over log-parameters (L-BFGS-B, then Nelder-Mead if that stops
short), with time rescaled so the longest T is 10 and spend so its median is 1; `penalizer` adds
penalizer * sum(parameter^2) on that scale, as `lifetimes` does. A parameter running to the edge of its range
(e^-12, e^12) means the data cannot identify the model, and is an error suggesting a penalizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special

LOG_BOUND = 12.0
SUMMARY_COLUMNS = ["frequency", "recency", "T"]
VALUE_COLUMNS = [
    "person_id", "frequency", "recency", "T", "monetary", "expected_purchases_12m", "probability_alive",
    "expected_spend", "value_12m", "spend_model"]
TIME_UNITS = {1: "day", 7: "week"}


class ValueModelError(ValueError):
    """The data cannot identify a value model; the message says what is wrong and what to try."""


@dataclass(frozen=True)
class ValueSettings:
    """How customer value is measured.

    Attributes:
        time_unit_days: Days in one time unit of recency, T and the BG/NBD rate (7: weeks, as published).
        horizon_days: Days ahead the expected purchases and value look.
        annual_discount_rate: Yearly rate that discounts later purchases in `value_12m` (0: none).
        penalizer: L2 penalty on the fitted parameters (0: plain maximum likelihood).
        min_repeat_customers: Fewest customers with a repeat purchase to fit Gamma-Gamma.
    """

    time_unit_days: int = 7
    horizon_days: int = 365
    annual_discount_rate: float = 0.0
    penalizer: float = 0.0
    min_repeat_customers: int = 10

    def __post_init__(self) -> None:
        checks = {
            "time_unit_days must be at least 1": self.time_unit_days >= 1,
            "horizon_days must be at least 1": self.horizon_days >= 1,
            "annual_discount_rate must be 0 or more": self.annual_discount_rate >= 0,
            "penalizer must be 0 or more": self.penalizer >= 0,
            "min_repeat_customers must be at least 2": self.min_repeat_customers >= 2,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise ValueModelError("; ".join(failed))

    @property
    def time_unit(self) -> str:
        """The time unit's name: "week", "day" or "N days"."""
        return TIME_UNITS.get(self.time_unit_days, f"{self.time_unit_days} days")

    @property
    def horizon(self) -> float:
        """The horizon in time units."""
        return self.horizon_days / self.time_unit_days


@dataclass(frozen=True)
class BgNbd:
    """A fitted BG/NBD model; rates are per time unit of the summary it was fitted on."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int

    def probability_alive(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike) -> np.ndarray:
        """P(alive at T | x, t_x, T); 1 for a person who has not bought again."""
        x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        log_odds = (np.log(self.a) - np.log(np.maximum(self.b + x - 1, 1e-300))
                    + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x)))
        return np.where(x > 0, special.expit(-log_odds), 1.0)

    def expected_purchases(self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike,
                           t: float) -> np.ndarray:
        """E[purchases in (T, T + t] | x, t_x, T], eq. 10 of Fader, Hardie & Lee (2005), Euler-transformed.

        Where scipy's hyp2f1 cannot evaluate the series (a or b in the hundreds, from a fit on few customers)
        or returns a value outside the bounds the answer must lie in, the mean over p is integrated numerically.
        """
        shape = np.broadcast_shapes(np.shape(frequency), np.shape(recency), np.shape(T))
        x, t_x, T = (np.broadcast_to(np.asarray(v, dtype=float), shape).ravel()
                     for v in (frequency, recency, T))
        a = self.a if abs(self.a - 1) > 1e-6 else 1 + math.copysign(1e-6, self.a - 1)
        c = a + self.b + x - 1
        c = np.where(np.abs(c) > 1e-6, c, 1e-6)
        z = t / (self.alpha + T + t)
        with np.errstate(all="ignore"):
            bracket = 1 - np.exp((a - 1) * np.log1p(-z)) * special.hyp2f1(a + self.b - 1 - self.r, a - 1, c, z)
            if_alive = c / (a - 1) * bracket
        # E[Y | alive] = E[(1 - (1 + p s)^-(r+x)) / p] over p ~ Beta(a, b+x), s = t / (alpha + T): the integrand
        # falls from (r+x) s at p = 0 to 1 - (1 + s)^-(r+x) at p = 1, so the mean lies between the two.
        k, s = self.r + x, t / (self.alpha + T)
        low, high = -np.expm1(-k * np.log1p(s)), k * s
        bad = ~np.isfinite(if_alive) | (if_alive < low * (1 - 1e-9)) | (if_alive > high * (1 + 1e-9))
        if bad.any():
            if_alive[bad] = _mean_over_dropout(self.a, self.b + x[bad], k[bad], s[bad])
        return (self.probability_alive(x, t_x, T) * if_alive).reshape(shape)


def _mean_over_dropout(a: float, b: np.ndarray, k: np.ndarray, s: np.ndarray, nodes: int = 1024) -> np.ndarray:
    """E[(1 - (1 + p s)^-k) / p] over p ~ Beta(a, b), by the trapezoid rule in y = logit(p).

    In y the Beta density is smooth, log-concave and decays exponentially on both sides (slowly, over 1/a or
    1/b, when a or b is small). The grid y = mode + step * sinh(u), u evenly spaced, is fine at the mode and
    coarse in the tails, and spans the density until it has fallen by e^-40 on each side.
    """
    mode, width = np.log(a / b), np.sqrt(1 / a + 1 / b)
    step = np.minimum(width, 1) / 4
    left, right = np.maximum(10 * width, 40 / a), np.maximum(10 * width, 40 / b)
    u = np.linspace(-np.arcsinh(left / step), np.arcsinh(right / step), nodes + 1, axis=1)
    y = mode[:, None] + step[:, None] * np.sinh(u)
    log_weight = a * special.log_expit(y) + b[:, None] * special.log_expit(-y) + np.log(np.cosh(u))
    weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
    p = special.expit(y)
    with np.errstate(all="ignore"):
        value = np.where(p > 0, -np.expm1(-k[:, None] * np.log1p(p * s[:, None])) / p, (k * s)[:, None])
    return (weight * value).sum(axis=1) / weight.sum(axis=1)


@dataclass(frozen=True)
class GammaGamma:
    """A fitted Gamma-Gamma spend model, in the currency of the amounts it was fitted on."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n: int

    def expected_spend(self, frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> np.ndarray:
        """E[spend per occasion | x, m] = p (v + x m) / (p x + q - 1)."""
        x, m = np.asarray(frequency, dtype=float), np.asarray(monetary, dtype=float)
        m = np.where(x > 0, m, 0.0)
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


SUMMARY_SQL = """
WITH occasions AS (
    SELECT person_id, CAST("timestamp" AS DATE) AS day, CAST(SUM(amount) AS DOUBLE) AS spend
    FROM {purchases}
    WHERE person_id IS NOT NULL AND CAST("timestamp" AS DATE) <= CAST($as_of AS DATE)
    GROUP BY person_id, day
    HAVING SUM(amount) > 0
)
SELECT
    person_id,
    COUNT(*) - 1 AS frequency,
    date_diff('day', MIN(day), MAX(day)) / $unit AS recency,
    date_diff('day', MIN(day), CAST($as_of AS DATE)) / $unit AS "T",
    CASE WHEN COUNT(*) > 1 THEN (SUM(spend) - arg_min(spend, day)) / (COUNT(*) - 1) ELSE 0.0 END AS monetary,
    MIN(day) AS first_purchase,
    MAX(day) AS last_purchase,
    COUNT(*) AS occasions,
    SUM(spend) AS total_spend
FROM occasions
GROUP BY person_id
ORDER BY person_id
"""


def purchase_summary(con: duckdb.DuckDBPyConnection, purchases: str, *, as_of: date,
                     time_unit_days: int = 7) -> pd.DataFrame:
    """One row per person with a positive purchase on or before `as_of` (whole day included).

    Args:
        con: The DuckDB connection that can see `purchases`.
        purchases: A table or view name (trusted, not user input) with columns person_id, timestamp (DATE or
            TIMESTAMP) and amount, one row per receipt line.
        as_of: The last day of the observation period.
        time_unit_days: Days in one time unit of recency and T.

    Returns:
        person_id, frequency, recency, T, monetary, first_purchase, last_purchase, occasions, total_spend.
    """
    if time_unit_days < 1:
        raise ValueModelError(f"time_unit_days must be at least 1; got {time_unit_days}")
    present = set(con.sql(f"SELECT * FROM {purchases} LIMIT 0").columns)
    missing = [name for name in ("person_id", "timestamp", "amount") if name not in present]
    if missing:
        raise ValueModelError(f"{purchases} lacks column(s) {', '.join(missing)}; expected person_id, timestamp, "
                              f"amount (one row per receipt line); it has: {', '.join(sorted(present))}")
    sql = SUMMARY_SQL.format(purchases=purchases)
    summary = con.execute(sql, {"as_of": as_of, "unit": float(time_unit_days)}).df()
    return summary.astype({"frequency": "int64", "occasions": "int64"})


def _history(summary: pd.DataFrame, model: str) -> pd.DataFrame:
    """The frequency, recency and T columns, checked: finite, x a whole number >= 0, 0 <= t_x <= T."""
    missing = [name for name in SUMMARY_COLUMNS if name not in summary.columns]
    if missing:
        raise ValueModelError(f"{model} needs a summary with columns frequency, recency, T (from "
                              f"purchase_summary); missing: {', '.join(missing)}")
    history = summary[SUMMARY_COLUMNS].astype(float)
    x, t_x, T = (history[name].to_numpy() for name in SUMMARY_COLUMNS)
    problems = {
        "missing or infinite values": ~np.isfinite(history.to_numpy()).all(axis=1),
        "frequency that is negative or not a whole number": (x < 0) | (x != np.round(x)),
        "recency below 0 or above T": (t_x < 0) | (t_x > T + 1e-9),
    }
    for problem, rows in problems.items():
        if rows.any():
            raise ValueModelError(f"{model}: {int(rows.sum())} customer(s) have {problem}; rebuild the summary "
                                  "with purchase_summary")
    return history


def _bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each history's log-likelihood under BG/NBD parameters (r, alpha, a, b)."""
    r, alpha, a, b = params
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    head += special.betaln(a, b + x) - special.betaln(a, b)
    still = -(r + x) * np.log(alpha + T)
    dropped = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(still, np.where(x > 0, dropped, -np.inf))


def _gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's log-likelihood of their mean spend under Gamma-Gamma parameters (p, q, v)."""
    p, q, v = params
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))


def _maximise(log_likelihood: Callable[[np.ndarray], np.ndarray], weights: np.ndarray, names: list[str],
              model: str, penalizer: float, may_vanish: tuple[str, ...] = ()) -> np.ndarray:
    """Maximum (penalised) mean log-likelihood over log-parameters; the parameters, or a clear error.

    A parameter in `may_vanish` may end at the bottom of its range when that is a meaning, not a failure.
    """
    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        value = -np.dot(weights, log_likelihood(params)) / weights.sum() + penalizer * np.sum(params**2)
        return float(value) if np.isfinite(value) else 1e100

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    with np.errstate(all="ignore"):
        result = optimize.minimize(objective, np.zeros(len(names)), method="L-BFGS-B", bounds=bounds,
                                   options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
        if not result.success:
            result = optimize.minimize(objective, result.x, method="Nelder-Mead", bounds=bounds,
                                       options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 8000})
    if not result.success or result.fun >= 1e100:
        raise ValueModelError(f"{model} fit did not converge ({result.message}); try penalizer > 0")
    edge = [name for name, value in zip(names, result.x, strict=True)
            if abs(value) > LOG_BOUND - 1e-2 and not (name in may_vanish and value < 0)]
    if edge:
        raise ValueModelError(
            f"{model} parameter(s) {', '.join(edge)} ran to the edge of their range: these customers are too few "
            "or too alike for the data to pin the model down; set penalizer > 0 (e.g. 0.01) to regularise")
    return np.exp(result.x)


def fit_bgnbd(summary: pd.DataFrame, *, settings: ValueSettings | None = None) -> BgNbd:
    """Fit BG/NBD by maximum likelihood to one row per customer (frequency, recency, T).

    Raises:
        ValueModelError: fewer than 2 customers, nobody bought twice, invalid histories, or no unique fit.
    """
    settings = settings or ValueSettings()
    history = _history(summary, "BG/NBD")
    if len(history) < 2:
        raise ValueModelError(f"BG/NBD needs at least 2 customers with purchases; got {len(history)}")
    if not (history["frequency"] > 0).any():
        raise ValueModelError(f"BG/NBD needs at least one customer with a repeat purchase to estimate how often "
                              f"people buy; none of the {len(history)} customers bought on a second day")
    if history.drop_duplicates().shape[0] == 1 and settings.penalizer == 0:
        raise ValueModelError(f"BG/NBD cannot be fitted: all {len(history)} customers have the same history, so "
                              "nothing tells their purchase rates apart; set penalizer > 0 (e.g. 0.01)")
    grouped = history.groupby(SUMMARY_COLUMNS, as_index=False).size()
    x, t_x, T = (grouped[name].to_numpy(dtype=float) for name in SUMMARY_COLUMNS)
    scale = 10 / T.max() if T.max() > 0 else 1.0
    # a -> 0 is "nobody is seen dropping out" (a young or loyal base): the model becomes the NBD, with P(alive) 1
    fitted = _maximise(lambda params: _bgnbd_log_likelihood(params, x, t_x * scale, T * scale),
                       grouped["size"].to_numpy(dtype=float), ["r", "alpha", "a", "b"], "BG/NBD", settings.penalizer,
                       may_vanish=("a",))
    r, alpha, a, b = fitted[0], fitted[1] / scale, fitted[2], fitted[3]
    log_likelihood = np.dot(grouped["size"], _bgnbd_log_likelihood(np.array([r, alpha, a, b]), x, t_x, T))
    return BgNbd(float(r), float(alpha), float(a), float(b), float(log_likelihood), len(history))


def fit_gamma_gamma(summary: pd.DataFrame, *, settings: ValueSettings | None = None) -> GammaGamma:
    """Fit Gamma-Gamma by maximum likelihood to the repeat customers' (frequency, monetary).

    Raises:
        ValueModelError: fewer than `min_repeat_customers` repeat customers, spend that never varies, a fitted
            q <= 1 (infinite mean spend), or no unique fit. The caller then passes `gamma_gamma=None` to
            `customer_value`, which falls back to mean spend.
    """
    settings = settings or ValueSettings()
    if not {"frequency", "monetary"} <= set(summary.columns):
        raise ValueModelError("Gamma-Gamma needs a summary with columns frequency and monetary (from "
                              "purchase_summary)")
    repeat = summary.loc[summary["frequency"] > 0, ["frequency", "monetary"]].astype(float)
    if not (np.isfinite(repeat.to_numpy()).all() and (repeat["monetary"] > 0).all()):
        raise ValueModelError("Gamma-Gamma needs a finite, positive mean spend for every repeat customer; "
                              "rebuild the summary with purchase_summary")
    if len(repeat) < settings.min_repeat_customers:
        raise ValueModelError(f"Gamma-Gamma needs at least {settings.min_repeat_customers} customers with a "
                              f"repeat purchase (min_repeat_customers); got {len(repeat)}")
    if repeat["monetary"].nunique() == 1:
        raise ValueModelError(f"Gamma-Gamma cannot be fitted: all {len(repeat)} repeat customers have the same "
                              f"mean spend ({repeat['monetary'].iloc[0]:g}), so it cannot tell them apart")
    x, m = repeat["frequency"].to_numpy(), repeat["monetary"].to_numpy()
    scale = 1 / np.median(m)
    fitted = _maximise(lambda params: _gamma_gamma_log_likelihood(params, x, m * scale), np.ones(len(x)),
                       ["p", "q", "v"], "Gamma-Gamma", settings.penalizer)
    p, q, v = fitted[0], fitted[1], fitted[2] / scale
    if q <= 1:
        raise ValueModelError(f"Gamma-Gamma fitted q = {q:.3f} <= 1, which makes the mean spend infinite: a few "
                              "very large baskets dominate; check the amounts for outliers")
    log_likelihood = _gamma_gamma_log_likelihood(np.array([p, q, v]), x, m).sum()
    return GammaGamma(float(p), float(q), float(v), float(log_likelihood), len(repeat))


def _fallback_spend(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Without Gamma-Gamma: own mean repeat spend, else the population's; and which one each row used."""
    repeat = (summary["frequency"] > 0) & (summary["monetary"] > 0)
    if repeat.any():
        population = float(summary.loc[repeat, "monetary"].mean())
    elif {"total_spend", "occasions"} <= set(summary.columns) and summary["occasions"].sum() > 0:
        population = float(summary["total_spend"].sum() / summary["occasions"].sum())
    else:
        raise ValueModelError("no spend to fall back on: nobody bought twice and the summary has no total_spend "
                              "and occasions columns; build it with purchase_summary")
    spend = np.where(repeat, summary["monetary"].to_numpy(dtype=float), population)
    return spend, np.where(repeat, "own_mean", "population_mean")


def _discounted_purchases(bgnbd: BgNbd, history: pd.DataFrame, settings: ValueSettings) -> np.ndarray:
    """Expected purchases over the horizon, each month's share discounted from the middle of the month."""
    x, t_x, T = (history[name].to_numpy() for name in SUMMARY_COLUMNS)
    if settings.annual_discount_rate == 0:
        return bgnbd.expected_purchases(x, t_x, T, settings.horizon)
    months = max(1, round(settings.horizon_days / (365.25 / 12)))
    edges = np.linspace(0, settings.horizon, months + 1)
    cumulative = np.stack([bgnbd.expected_purchases(x, t_x, T, t) if t > 0 else np.zeros(len(x)) for t in edges])
    middle_years = (edges[:-1] + edges[1:]) / 2 * settings.time_unit_days / 365.25
    factors = (1 + settings.annual_discount_rate) ** -middle_years
    return factors @ np.diff(cumulative, axis=0)


def customer_value(summary: pd.DataFrame, bgnbd: BgNbd, gamma_gamma: GammaGamma | None,
                   settings: ValueSettings | None = None) -> pd.DataFrame:
    """Expected purchases, probability alive, expected spend and value over the horizon, one row per person.

    Args:
        summary: From `purchase_summary`, in the same time unit as `bgnbd` was fitted.
        bgnbd: The fitted purchase model.
        gamma_gamma: The fitted spend model, or None to use mean spend (see the module docstring).
        settings: Horizon, time unit and discount rate.

    Returns:
        person_id, frequency, recency, T, monetary, expected_purchases_12m, probability_alive, expected_spend,
        value_12m, spend_model ("gamma_gamma", "own_mean" or "population_mean").
    """
    settings = settings or ValueSettings()
    if summary.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    history = _history(summary, "customer value")
    x, t_x, T = (history[name].to_numpy() for name in SUMMARY_COLUMNS)
    purchases = bgnbd.expected_purchases(x, t_x, T, settings.horizon)
    discounted = _discounted_purchases(bgnbd, history, settings)
    if gamma_gamma is None:
        spend, basis = _fallback_spend(summary)
    else:
        spend, basis = gamma_gamma.expected_spend(x, summary["monetary"]), "gamma_gamma"
    out = summary[["person_id", "frequency", "recency", "T", "monetary"]].reset_index(drop=True)
    return out.assign(expected_purchases_12m=purchases, probability_alive=bgnbd.probability_alive(x, t_x, T),
                      expected_spend=spend, value_12m=discounted * spend, spend_model=basis)


def value_model_rows(bgnbd: BgNbd, gamma_gamma: GammaGamma | None,
                     settings: ValueSettings | None = None) -> pd.DataFrame:
    """The fitted parameters as rows (model, parameter, value, time_unit); no gamma_gamma rows without one.

    BG/NBD's parameters and log-likelihood carry the time unit they were fitted in; the customer counts (n) and
    Gamma-Gamma's parameters (in currency) have none.
    """
    settings = settings or ValueSettings()
    rows = [("bg_nbd", name, getattr(bgnbd, name), settings.time_unit)
            for name in ("r", "alpha", "a", "b", "log_likelihood")]
    rows.append(("bg_nbd", "n", bgnbd.n, None))
    if gamma_gamma is not None:
        rows += [("gamma_gamma", name, getattr(gamma_gamma, name), None)
                 for name in ("p", "q", "v", "log_likelihood", "n")]
    frame = pd.DataFrame(rows, columns=["model", "parameter", "value", "time_unit"])
    return frame.astype({"value": float})
