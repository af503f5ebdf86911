"""One A/B test of stores or customers read four ways: the effect, its intervals, P(treatment better) and CUPED.

One row per experimental unit (a store, a customer) with its group, its outcome over the test period and, when
known, the same measure over a pre-period. Four readings of one difference in means are given side by side, so a
reader sees at once whether they agree:

- Welch's t-test: the interval and p-value everyone knows, without assuming equal variances (a group holding the
  flagship stores varies more than one of small stores).
- A percentile bootstrap, resampling each group on its own: no normality assumption, preferred when the outcome is
  skewed (a few big baskets) and the groups small.
- A Bayesian P(treatment mean > control mean), the number a category manager asks for. A continuous outcome gets,
  in each group, the reference prior p(mu, sigma) ∝ 1/sigma, whose posterior for the mean is a Student t with
  n − 1 degrees of freedom centred on the sample mean with scale s/√n; a 0/1 outcome (a conversion) gets a Beta(1, 1)
  prior on each group's rate, so a Beta(1 + successes, 1 + failures) posterior. The probability and the credible
  interval are read from seeded Monte Carlo draws of the two posteriors.
- CUPED (Deng, Xu, Kohavi & Walker, WSDM 2013): Y − θ(X − mean X), with X the pre-period value and
  θ = cov(Y, X) / var(X) pooled over both groups. The treatment cannot move the pre-period, so the adjustment leaves
  the expected difference as it was and removes the share ρ² of the variance that the pre-period explains.

Effects are treatment − control. A relative effect is divided by the control group's mean (for CUPED, the control's
adjusted mean); its Welch and CUPED intervals use the delta method, so the uncertainty of that denominator counts too.

Nothing is dropped silently: rows without a group or an outcome and rows of groups other than the two compared are
counted in `excluded` and warned about. A unit without a pre-period value stays in every method; CUPED leaves its
outcome unadjusted (its pre value is taken as the mean), so every method compares the same units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from shelfwise.promo import abtest  # the package, whose BOOT_BUDGET `_bootstrap_size` reads at call time
from shelfwise.promo.abtest.results import Cuped, Estimate, ExperimentResult, Notice
from shelfwise.schema import normalize_name

CONTROL_LABELS = frozenset({"control", "controle", "controlo", "ctrl", "c", "a", "baseline", "0", "holdout",
                            "grupo_controle", "grupo_de_controle", "control_group"})
"""Group labels (after `normalize_name`) read as the control group when the caller does not say which it is."""
BAYES_DRAWS = 40_000
MIN_BOOT = 1_000
SKEW_RULE = 355
"""Kohavi et al. (Trustworthy Online Controlled Experiments, 2020): the t-test needs n > 355·skewness² per group."""


@dataclass(frozen=True)
class _Units:
    """The analysed units, split by group."""

    y: np.ndarray
    pre: np.ndarray | None
    is_treatment: np.ndarray
    treatment: str
    control: str
    excluded: dict[str, int]
    other_labels: tuple[str, ...]


def analyse_experiment(
    units: pd.DataFrame, *, group_col: str = "group", outcome_col: str = "outcome", pre_col: str | None = "pre",
    treatment: str | None = None, control: str | None = None, confidence: float = 0.95, n_boot: int = 10_000,
    seed: int = 0, min_per_group: int = 30, expected_treatment_share: float | None = None,
) -> ExperimentResult:
    """Compare the mean outcome of a treatment group with a control group, every way worth reading.

    Args:
        units: One row per experimental unit.
        group_col: Column of group labels (any strings; 0/1 and 0.0/1.0 read as "0"/"1").
        outcome_col: Column of the outcome over the test period (numeric; a 0/1 column is read as a conversion).
        pre_col: Column of the same measure over a pre-period, for CUPED; CUPED is skipped when the frame lacks it.
        treatment: Label of the treatment group; inferred with `control` when there are exactly two groups.
        control: Label of the control group; with two groups, a label such as control, controle, ctrl, c, a,
            baseline or 0 is taken as control when neither is given.
        confidence: Level of every interval.
        n_boot: Bootstrap replicates (cut, with a warning, when the values they draw would exceed BOOT_BUDGET).
        seed: Seed of the bootstrap and of the posterior draws.
        min_per_group: Units per group below which a small_sample warning is given.
        expected_treatment_share: The planned share of units in treatment; when given, a chi-square
            sample-ratio-mismatch test replaces the plain imbalance check.

    Returns:
        The estimates of the four methods, the group sizes and means, exclusions and warnings.

    Raises:
        ValueError: A column is missing or not numeric, the groups cannot be told apart, or a group has fewer than
            two units with an outcome.
    """
    _check_arguments(confidence, n_boot, expected_treatment_share)
    data = _prepare(units, group_col, outcome_col, pre_col, treatment, control)
    yt, yc = data.y[data.is_treatment], data.y[~data.is_treatment]
    binary = bool(np.isin(data.y, (0.0, 1.0)).all())
    boot_seed, bayes_seed = np.random.SeedSequence(seed).spawn(2)
    used_boot = _bootstrap_size(data.y, data.is_treatment, n_boot)
    cuped, cuped_stats, cuped_notes = _cuped(data, confidence)
    return ExperimentResult(
        treatment=data.treatment, control=data.control, n_treatment=len(yt), n_control=len(yc),
        mean_treatment=float(yt.mean()), mean_control=float(yc.mean()),
        sd_treatment=float(yt.std(ddof=1)), sd_control=float(yc.std(ddof=1)), binary=binary, confidence=confidence,
        welch=_welch(yt, yc, confidence, "welch"),
        bootstrap=_bootstrap(yt, yc, confidence, used_boot, np.random.default_rng(boot_seed)),
        bayes=_bayes(yt, yc, confidence, binary, np.random.default_rng(bayes_seed)),
        cuped=cuped, cuped_stats=cuped_stats, n_boot=used_boot, excluded=data.excluded,
        warnings=(*_sample_warnings(data, min_per_group, expected_treatment_share), *cuped_notes,
                  *_exclusion_warnings(data, n_boot, used_boot)),
    )


def _check_arguments(confidence: float, n_boot: int, expected_share: float | None) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100 for a percentile interval, got {n_boot}")
    if expected_share is not None and not 0 < expected_share < 1:
        raise ValueError(f"expected_treatment_share must be between 0 and 1 (e.g. 0.5), got {expected_share}")


def _prepare(units: pd.DataFrame, group_col: str, outcome_col: str, pre_col: str | None,
             treatment: str | None, control: str | None) -> _Units:
    """The two compared groups' rows with an outcome, and a count of every row left out."""
    missing = [c for c in (group_col, outcome_col) if c not in units.columns]
    if missing:
        raise ValueError(f"the units have no column(s) {missing}; columns found: {list(units.columns)} — "
                         "pass group_col= and outcome_col= to name them")
    labels = _labels(units[group_col])
    outcome = _numeric(units[outcome_col], outcome_col)
    present = pd.notna(labels)
    found = sorted(set(labels[present]))
    treatment_label, control_label = _resolve_groups(found, treatment, control)
    compared = (labels == treatment_label) | (labels == control_label)
    keep = compared & ~np.isnan(outcome)
    excluded = {"missing_group": int((~present).sum()), "other_groups": int((present & ~compared).sum()),
                "missing_outcome": int((compared & np.isnan(outcome)).sum())}
    is_treatment = labels[keep] == treatment_label
    for label, n in ((treatment_label, int(is_treatment.sum())), (control_label, int((~is_treatment).sum()))):
        if n < 2:
            raise ValueError(f"group '{label}' has {n} unit(s) with an outcome; at least two per group are needed")
    pre = _numeric(units[pre_col], pre_col)[keep] if pre_col is not None and pre_col in units.columns else None
    others = tuple(label for label in found if label not in (treatment_label, control_label))
    return _Units(outcome[keep], pre, is_treatment, treatment_label, control_label, excluded, others)


def _labels(series: pd.Series) -> np.ndarray:
    """Group labels as stripped text (1.0 reads "1"), None where blank or missing; computed once per distinct value."""
    codes, uniques = pd.factorize(series)
    texts = [_label_text(value) for value in uniques]
    return np.array([*texts, None], dtype=object)[codes]  # code -1 (missing) picks the trailing None


def _label_text(value: object) -> str | None:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    """A numeric column as floats (missing as NaN); text that is not a number is an error, not a silent NaN."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = np.isnan(values) & series.notna().to_numpy() & (series.astype("string").str.strip() != "").to_numpy()
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"column '{name}' holds {series.iloc[first]!r} (row {first}); expected a number")
    if np.isinf(values).any():
        raise ValueError(f"column '{name}' holds an infinite value; expected finite numbers")
    return values


def _resolve_groups(found: list[str], treatment: str | None, control: str | None) -> tuple[str, str]:
    """(treatment label, control label): as named, or inferred when there are exactly two groups."""
    named = [str(v) for v in (treatment, control) if v is not None]
    for label in named:
        if label not in found:
            raise ValueError(f"group '{label}' not found; groups found: {found}")
    if treatment is not None and control is not None:
        if str(treatment) == str(control):
            raise ValueError(f"treatment and control are both '{treatment}'; name two different groups")
        return str(treatment), str(control)
    if len(found) != 2:
        raise ValueError(f"expected exactly two groups, found {len(found)}: {found} — name the two to compare with "
                         "treatment= and control= (--treatment/--control)")
    if named:
        other = found[1] if found[0] == named[0] else found[0]
        return (named[0], other) if treatment is not None else (other, named[0])
    controls = [label for label in found if normalize_name(label) in CONTROL_LABELS]
    if len(controls) != 1:
        raise ValueError(f"cannot tell which of the groups {found} is the control — name it with control= "
                         "(--control), or label it control, controle, ctrl, c, a, baseline or 0")
    return (found[1] if controls[0] == found[0] else found[0]), controls[0]


def _welch(yt: np.ndarray, yc: np.ndarray, confidence: float, method: str) -> Estimate:
    """Welch's t interval and p-value of the difference in means, and its relative version by the delta method."""
    nt, nc = len(yt), len(yc)
    diff = float(yt.mean() - yc.mean())
    vt, vc = yt.var(ddof=1) / nt, yc.var(ddof=1) / nc  # variances of the two means
    se = math.sqrt(vt + vc)
    if se == 0:  # both groups constant: the difference is known exactly
        low = high = diff
        p_value, df, critical = (1.0 if diff == 0 else 0.0), math.nan, 0.0
    else:
        df = float((vt + vc) ** 2 / (vt**2 / (nt - 1) + vc**2 / (nc - 1)))
        critical = float(stats.t.ppf(0.5 + confidence / 2, df))
        low, high = diff - critical * se, diff + critical * se
        p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    relative, rel_low, rel_high = _relative(diff, float(yc.mean()), vt, vc, critical)
    return Estimate(method, diff, low, high, relative, rel_low, rel_high, nt, nc, p_value=p_value, df=df)


def _relative(diff: float, mean_c: float, var_t: float, var_c: float, critical: float) -> tuple[float, float, float]:
    """Relative effect diff / mean_c, with its interval by the delta method on mean_t / mean_c (NaN if mean_c is 0).

    var(mt/mc) ≈ var_t/mc² + mt²·var_c/mc⁴, with var_t, var_c the variances of the two means.
    """
    if mean_c == 0:
        return math.nan, math.nan, math.nan
    relative = diff / mean_c
    se = math.sqrt(var_t / mean_c**2 + (diff + mean_c) ** 2 * var_c / mean_c**4)
    return relative, relative - critical * se, relative + critical * se


def _bootstrap(yt: np.ndarray, yc: np.ndarray, confidence: float, n_boot: int,
               rng: np.random.Generator) -> Estimate:
    """Percentile interval of the difference in means, each group resampled with replacement on its own."""
    means_t, means_c = _resampled_means(yt, n_boot, rng), _resampled_means(yc, n_boot, rng)
    diffs = means_t - means_c
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    low, high = np.quantile(diffs, tails)
    mean_c = float(yc.mean())
    relative = rel_low = rel_high = math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = diffs / means_c
    if mean_c != 0 and np.isfinite(ratios).all():
        relative = float(yt.mean() - mean_c) / mean_c
        rel_low, rel_high = np.quantile(ratios, tails)
    return Estimate("bootstrap", float(yt.mean() - mean_c), float(low), float(high), relative, float(rel_low),
                    float(rel_high), len(yt), len(yc))


def _resampled_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `n_boot` resamples with replacement, drawn as whole matrices, never one replicate at a time.

    With few distinct values (a 0/1 conversion, a count of items) a resample is fully described by how often it
    picks each value, a multinomial draw: the same distribution as resampling indexes, at a cost independent of n.
    Otherwise index matrices are drawn in blocks of a few million values.
    """
    n = len(values)
    distinct, counts = _distinct(values)
    if distinct is not None:
        return rng.multinomial(n, counts / n, size=n_boot) @ distinct / n
    out = np.empty(n_boot)
    step = max(1, 4_000_000 // n)
    for start in range(0, n_boot, step):
        stop = min(start + step, n_boot)
        out[start:stop] = values[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def _distinct(values: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The distinct values and their counts when there are few of them (at most n/20), else (None, empty)."""
    distinct, counts = np.unique(values, return_counts=True)
    return (distinct, counts) if len(distinct) * 20 <= len(values) else (None, np.empty(0))


def _bootstrap_size(y: np.ndarray, is_treatment: np.ndarray, n_boot: int) -> int:
    """`n_boot`, cut to keep the values drawn within `abtest.BOOT_BUDGET` (never below MIN_BOOT)."""
    draws = sum(len(d) if (d := _distinct(group)[0]) is not None else len(group)
                for group in (y[is_treatment], y[~is_treatment]))
    return min(n_boot, max(MIN_BOOT, abtest.BOOT_BUDGET // draws))


def _bayes(yt: np.ndarray, yc: np.ndarray, confidence: float, binary: bool, rng: np.random.Generator) -> Estimate:
    """P(treatment mean > control mean) and a credible interval, from draws of the two posteriors (module doc)."""
    if binary:
        post_t = rng.beta(1 + yt.sum(), 1 + len(yt) - yt.sum(), BAYES_DRAWS)
        post_c = rng.beta(1 + yc.sum(), 1 + len(yc) - yc.sum(), BAYES_DRAWS)
    else:
        post_t = yt.mean() + yt.std(ddof=1) / math.sqrt(len(yt)) * rng.standard_t(len(yt) - 1, BAYES_DRAWS)
        post_c = yc.mean() + yc.std(ddof=1) / math.sqrt(len(yc)) * rng.standard_t(len(yc) - 1, BAYES_DRAWS)
    diffs = post_t - post_c
    prob = float(np.mean(diffs > 0) + 0.5 * np.mean(diffs == 0))
    tails = [(1 - confidence) / 2, 0.5, (1 + confidence) / 2]
    low, mid, high = np.quantile(diffs, tails)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = diffs / post_c
    rel_low, rel_mid, rel_high = np.quantile(ratios, tails) if np.isfinite(ratios).all() else (math.nan,) * 3
    return Estimate("bayes", float(mid), float(low), float(high), float(rel_mid), float(rel_low), float(rel_high),
                    len(yt), len(yc), prob_treatment_better=prob)


def _cuped(data: _Units, confidence: float) -> tuple[Estimate | None, Cuped | None, list[Notice]]:
    """Welch on Y − θ(X − mean X); units without X are left unadjusted. Skipped (with a note) when X is unusable."""
    if data.pre is None:
        return None, None, []
    has = ~np.isnan(data.pre)
    notes: list[Notice] = [("missing_pre", {"n": int((~has).sum())})] if (~has).any() else []
    x, y = data.pre[has], data.y[has]
    if data.y.var() == 0:  # a constant outcome: nothing to reduce (zero_variance says so)
        return None, None, notes
    if len(x) < 3 or x.var() == 0:
        return None, None, [*notes, ("constant_pre", {})]
    theta = float(np.cov(y, x)[0, 1] / x.var(ddof=1))
    adjusted = data.y - theta * (np.where(has, data.pre, x.mean()) - x.mean())
    t, c = data.is_treatment, ~data.is_treatment
    estimate = _welch(adjusted[t], adjusted[c], confidence, "cuped")
    raw_var = data.y[t].var(ddof=1) / t.sum() + data.y[c].var(ddof=1) / c.sum()
    adj_var = adjusted[t].var(ddof=1) / t.sum() + adjusted[c].var(ddof=1) / c.sum()
    details = Cuped(theta=theta, correlation=float(np.corrcoef(y, x)[0, 1]),
                    variance_reduction=float(1 - adjusted.var(ddof=1) / data.y.var(ddof=1)),
                    precision_gain=float(raw_var / adj_var - 1) if adj_var > 0 else math.inf, n_adjusted=len(x))
    if details.variance_reduction < 0.05:
        notes.append(("low_pre_correlation", {"reduction": details.variance_reduction}))
    return estimate, details, notes


def _sample_warnings(data: _Units, min_per_group: int, expected_share: float | None) -> list[Notice]:
    """Small groups, imbalance (or a sample-ratio mismatch against the planned split), skew and constant groups."""
    out: list[Notice] = []
    groups = ((data.treatment, data.y[data.is_treatment]), (data.control, data.y[~data.is_treatment]))
    for label, values in groups:
        if len(values) < min_per_group:
            out.append(("small_sample", {"group": label, "n": len(values), "minimum": min_per_group}))
    n_t, n = int(data.is_treatment.sum()), len(data.y)
    if expected_share is not None:
        p_value = float(stats.chisquare([n_t, n - n_t], [n * expected_share, n * (1 - expected_share)]).pvalue)
        if p_value < 0.001:
            out.append(("sample_ratio_mismatch", {"share": n_t / n, "expected": expected_share, "p_value": p_value}))
    elif min(n_t, n - n_t) / n < 0.3:
        smaller = data.treatment if n_t < n - n_t else data.control
        out.append(("imbalanced", {"group": smaller, "share": min(n_t, n - n_t) / n}))
    binary = bool(np.isin(data.y, (0.0, 1.0)).all())
    for label, values in groups:
        if values.std() == 0:
            out.append(("zero_variance", {"group": label}))
            continue
        skewness = _skewness(values)
        if binary:  # the normal approximation of a rate needs some ten successes and ten failures
            rarer = min(values.mean(), 1 - values.mean())
            needed, skewed = math.ceil(10 / rarer), rarer * len(values) < 10
        else:
            needed = math.ceil(SKEW_RULE * skewness**2)
            skewed = abs(skewness) > 1 and len(values) < needed
        if skewed:
            out.append(("skewed_outcome", {"group": label, "skewness": skewness, "n": len(values), "needed": needed}))
    return out


def _skewness(values: np.ndarray) -> float:
    """Sample skewness with the usual small-sample adjustment, G1 = g1·√(n(n − 1))/(n − 2) (0 below three values)."""
    n = len(values)
    if n < 3:
        return 0.0
    centred = values - values.mean()
    g1 = np.mean(centred**3) / np.mean(centred**2) ** 1.5
    return float(g1 * math.sqrt(n * (n - 1)) / (n - 2))


def _exclusion_warnings(data: _Units, requested_boot: int, used_boot: int) -> list[Notice]:
    out: list[Notice] = [(code, {"n": n}) for code, n in data.excluded.items() if n and code != "other_groups"]
    if data.excluded["other_groups"]:
        out.append(("other_groups", {"n": data.excluded["other_groups"], "labels": ", ".join(data.other_labels)}))
    if used_boot < requested_boot:
        out.append(("bootstrap_reduced", {"requested": requested_boot, "used": used_boot}))
    return out
