"""What `analyse_experiment` finds: each method's estimate, CUPED's gain, the whole result, and its table form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

TABLE_COLUMNS = ("method", "effect", "effect_low", "effect_high", "relative_effect", "relative_low", "relative_high",
                 "p_value", "prob_treatment_better", "n_treatment", "n_control")

Notice = tuple[str, dict[str, Any]]
"""A warning: its code (a key of TEXTS) and the values its sentence is filled with."""


@dataclass(frozen=True)
class Estimate:
    """One method's reading of the treatment − control difference in means (a row of `result_table`)."""

    method: str
    effect: float
    effect_low: float
    effect_high: float
    relative_effect: float
    relative_low: float
    relative_high: float
    n_treatment: int
    n_control: int
    p_value: float = math.nan
    prob_treatment_better: float = math.nan
    df: float = math.nan
    """Welch–Satterthwaite degrees of freedom (Welch and CUPED)."""


@dataclass(frozen=True)
class Cuped:
    """How much the pre-period helped."""

    theta: float
    correlation: float
    """Pearson correlation of outcome and pre-period over the units that have both."""
    variance_reduction: float
    """1 − var(adjusted outcome) / var(outcome), over the analysed units; ≈ correlation² in expectation."""
    precision_gain: float
    """(Welch variance / CUPED variance of the difference) − 1: the share more units Welch would need to match it."""
    n_adjusted: int


@dataclass(frozen=True)
class ExperimentResult:
    """Everything `analyse_experiment` found; `result_table` and `describe` render it."""

    treatment: str
    control: str
    n_treatment: int
    n_control: int
    mean_treatment: float
    mean_control: float
    sd_treatment: float
    sd_control: float
    binary: bool
    confidence: float
    welch: Estimate
    bootstrap: Estimate
    bayes: Estimate
    cuped: Estimate | None
    cuped_stats: Cuped | None
    n_boot: int
    excluded: dict[str, int] = field(default_factory=dict)
    """Rows left out, by reason: missing_group, other_groups, missing_outcome."""
    warnings: tuple[Notice, ...] = ()
    """(code, params) pairs; `TEXTS[code]` holds the sentence, `describe` fills it in."""

    @property
    def effect(self) -> float:
        """Treatment mean − control mean."""
        return self.welch.effect

    @property
    def relative_effect(self) -> float:
        """Effect ÷ control mean (NaN when the control mean is zero)."""
        return self.welch.relative_effect

    @property
    def p_value(self) -> float:
        """Welch's two-sided p-value."""
        return self.welch.p_value

    @property
    def welch_df(self) -> float:
        """Welch–Satterthwaite degrees of freedom."""
        return self.welch.df

    @property
    def prob_treatment_better(self) -> float:
        """Posterior P(treatment mean > control mean)."""
        return self.bayes.prob_treatment_better

    @property
    def preferred(self) -> Estimate:
        """The reading to headline: bootstrap for a skewed small sample, else CUPED when it helped, else Welch."""
        codes = {code for code, _ in self.warnings}
        if "skewed_outcome" in codes:
            return self.bootstrap
        if self.cuped is not None and "low_pre_correlation" not in codes:
            return self.cuped
        return self.welch

    def estimates(self) -> list[Estimate]:
        """Every method computed, in table order."""
        return [e for e in (self.welch, self.bootstrap, self.cuped, self.bayes) if e is not None]


def result_table(result: ExperimentResult) -> pd.DataFrame:
    """One row per method computed (welch, bootstrap, cuped when there is a pre-period, bayes), for the warehouse.

    Columns: TABLE_COLUMNS. p_value is empty for bootstrap and bayes, prob_treatment_better for all but bayes; the
    bayes row's effects are posterior medians, its interval a central credible interval.
    """
    rows = [{name: getattr(estimate, name) for name in TABLE_COLUMNS} for estimate in result.estimates()]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
