"""Planning an experiment: units per group for a wanted power, and the power of given group sizes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, stats


@dataclass(frozen=True)
class SampleSize:
    """Units per group needed to detect an effect with a two-sided two-sample test."""

    n_treatment: int
    n_control: int
    n_control_exact: float
    """The unrounded solution (what statsmodels' solve_power returns as nobs1)."""
    effect: float
    """The absolute difference in means to detect."""
    sd_control: float
    """Per-unit standard deviation in control used, after CUPED's shrinkage."""
    effect_size: float
    """Effect over the per-unit standard deviation (Cohen's d for a continuous outcome)."""
    alpha: float
    power: float
    ratio: float
    binary: bool
    cuped_correlation: float
    achieved_power: float
    """Power at the rounded sizes (at least `power`)."""

    @property
    def total(self) -> int:
        """Units in both groups."""
        return self.n_treatment + self.n_control


@dataclass(frozen=True)
class _Design:
    delta: float
    var_c: float
    var_t: float


def sample_size(
    *, baseline_mean: float, baseline_sd: float | None = None, minimum_detectable_effect: float,
    relative: bool = True, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0, binary: bool = False,
    cuped_correlation: float = 0.0,
) -> SampleSize:
    """Units per group for a two-sided test at `alpha` to reach `power` against the effect.

    A continuous outcome is planned for Student's two-sample t-test (the noncentral t, as statsmodels' TTestIndPower
    computes it, which matters for the twenty-store experiments the normal approximation undersizes); a 0/1 outcome
    for the z-test of two proportions with each group's own variance p(1 − p). CUPED with a pre-period correlated
    rho with the outcome multiplies every variance by 1 − rho².

    Args:
        baseline_mean: Control mean (for a 0/1 outcome, its rate).
        baseline_sd: Per-unit standard deviation of the outcome (not needed for a 0/1 outcome).
        minimum_detectable_effect: The smallest effect worth detecting.
        relative: Whether the effect is a share of the baseline mean (0.05 = +5%) rather than an absolute difference.
        alpha: Two-sided significance level.
        power: The chance wanted of detecting the effect when it is real.
        ratio: Treatment units per control unit.
        binary: Whether the outcome is 0/1.
        cuped_correlation: Correlation of the outcome with its pre-period, when CUPED will be used.

    Returns:
        The sizes, rounded up, and the design they were computed for.

    Raises:
        ValueError: An argument is out of range.
    """
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1 (e.g. 0.8), got {power}")
    if not ratio > 0:
        raise ValueError(f"ratio (treatment units per control unit) must be positive, got {ratio}")
    design = _design(baseline_mean, baseline_sd, minimum_detectable_effect, relative, alpha, binary,
                     cuped_correlation)

    def shortfall(n_control: float) -> float:
        return _power(design, ratio * n_control, n_control, alpha, binary) - power

    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    guess = z**2 * (design.var_c + design.var_t / ratio) / design.delta**2
    low, high = max(guess / 4, 2 / (1 + ratio) + 0.5), 4 * guess + 10
    while shortfall(high) < 0:
        high *= 2
    exact = low if shortfall(low) >= 0 else float(optimize.brentq(shortfall, low, high, xtol=1e-9))
    n_c, n_t = max(2, math.ceil(exact - 1e-9)), max(2, math.ceil(ratio * exact - 1e-9))
    return SampleSize(
        n_treatment=n_t, n_control=n_c, n_control_exact=exact, effect=design.delta, sd_control=math.sqrt(design.var_c),
        effect_size=abs(design.delta) / math.sqrt((design.var_c + design.var_t) / 2), alpha=alpha, power=power,
        ratio=ratio, binary=binary, cuped_correlation=cuped_correlation,
        achieved_power=_power(design, n_t, n_c, alpha, binary),
    )


def power(
    n_treatment: float, n_control: float, *, baseline_mean: float, baseline_sd: float | None = None,
    minimum_detectable_effect: float, relative: bool = True, alpha: float = 0.05, binary: bool = False,
    cuped_correlation: float = 0.0,
) -> float:
    """The chance that a two-sided test at `alpha` on these group sizes detects the effect (`sample_size`'s inverse).

    Arguments as in `sample_size`; the same test is assumed.
    """
    if min(n_treatment, n_control) < 2:
        raise ValueError(f"each group needs at least two units, got {n_treatment} and {n_control}")
    design = _design(baseline_mean, baseline_sd, minimum_detectable_effect, relative, alpha, binary,
                     cuped_correlation)
    return _power(design, n_treatment, n_control, alpha, binary)


def _design(baseline_mean: float, baseline_sd: float | None, effect: float, relative: bool, alpha: float,
            binary: bool, rho: float) -> _Design:
    """The absolute difference and the two per-unit variances, checked."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha}")
    if not -1 < rho < 1:
        raise ValueError(f"cuped_correlation must be between -1 and 1 (exclusive), got {rho}")
    if relative and baseline_mean == 0:
        raise ValueError("a relative effect needs a non-zero baseline_mean; pass relative=False for an absolute one")
    delta = effect * baseline_mean if relative else effect
    if not (math.isfinite(delta) and delta != 0):
        raise ValueError(f"minimum_detectable_effect must be a non-zero number, got {effect}")
    shrink = 1 - rho**2
    if binary:
        treated = baseline_mean + delta
        if not (0 < baseline_mean < 1 and 0 < treated < 1):
            raise ValueError(f"a 0/1 outcome needs rates strictly between 0 and 1, got {baseline_mean} and {treated}")
        return _Design(delta, baseline_mean * (1 - baseline_mean) * shrink, treated * (1 - treated) * shrink)
    if baseline_sd is None or not (math.isfinite(baseline_sd) and baseline_sd > 0):
        raise ValueError(f"baseline_sd must be a positive number for a continuous outcome, got {baseline_sd}")
    return _Design(delta, baseline_sd**2 * shrink, baseline_sd**2 * shrink)


def _power(design: _Design, n_t: float, n_c: float, alpha: float, binary: bool) -> float:
    """Two-sided power, both tails counted: normal for 0/1 outcomes, noncentral t (n_t + n_c − 2 df) otherwise."""
    shift = abs(design.delta) / math.sqrt(design.var_c / n_c + design.var_t / n_t)
    if binary:
        z = stats.norm.ppf(1 - alpha / 2)
        return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))
    df = n_t + n_c - 2
    critical = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift))
