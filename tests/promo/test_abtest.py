"""A/B tests against planted truth: simulated experiments whose effect is known, and an independent oracle per number.

Coverage is measured over a few hundred seeded small experiments (the tolerance bands allow for the Monte Carlo
error of that count: ±2 standard errors is about ±0.022 around 0.95 for 400), the sample-size maths against
statsmodels' TTestIndPower when it is installed (else against simulated t-tests) and against simulated experiments,
the Welch numbers against scipy's own t-test, and the CSV reader through real files on disk (fuzzed longer with
SHELFWISE_FUZZ_EXAMPLES=2000).
"""

from __future__ import annotations

import math
import os
import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from shelfwise.promo import abtest
from shelfwise.promo.abtest import (
    TABLE_COLUMNS,
    TEXTS,
    ExperimentResult,
    UnitsFileError,
    analyse_experiment,
    describe,
    power,
    read_units_csv,
    result_table,
    sample_size,
)

WARNING_CODES = ("small_sample", "imbalanced", "sample_ratio_mismatch", "low_pre_correlation", "constant_pre",
                 "missing_pre", "skewed_outcome", "zero_variance", "missing_outcome", "missing_group", "other_groups",
                 "bootstrap_reduced")


def experiment(rng: np.random.Generator, n_treatment: int, n_control: int, *, effect: float = 0.0, sd: float = 10.0,
               mean: float = 50.0, pre_correlation: float | None = None,
               labels: tuple[str, str] = ("tratamento", "controle")) -> pd.DataFrame:
    """Units with a planted effect; with `pre_correlation`, a pre-period correlated that much with the outcome."""
    n = n_treatment + n_control
    noise = rng.standard_normal(n)
    pre = rng.standard_normal(n)
    if pre_correlation is not None:
        noise = pre_correlation * pre + math.sqrt(1 - pre_correlation**2) * noise
    outcome = mean + sd * noise + np.r_[np.full(n_treatment, effect), np.zeros(n_control)]
    frame = pd.DataFrame({"group": np.repeat(labels, (n_treatment, n_control)), "outcome": outcome})
    if pre_correlation is not None:
        frame["pre"] = mean + sd * pre
    return frame


def codes(result: ExperimentResult) -> list[str]:
    return [code for code, _ in result.warnings]


def covered(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    return float(np.mean((low <= truth) & (truth <= high)))


# --- planted truth -------------------------------------------------------------------------------------------------


def test_intervals_cover_the_planted_effect_about_95_percent_of_the_time():
    rng = np.random.default_rng(2026)
    truth, runs = 3.0, 600
    results = [analyse_experiment(experiment(rng, 40, 40, effect=truth, pre_correlation=0.8), n_boot=1000, seed=i)
               for i in range(runs)]
    coverage = {method: covered(np.array([getattr(r, method).effect_low for r in results]),
                                np.array([getattr(r, method).effect_high for r in results]), truth)
                for method in ("welch", "bootstrap", "cuped", "bayes")}
    print("coverage over", runs, "experiments of 40 + 40 units:", coverage)
    for method, share in coverage.items():
        assert 0.92 <= share <= 0.98, (method, share)
    widths = {m: np.mean([getattr(r, m).effect_high - getattr(r, m).effect_low for r in results])
              for m in ("welch", "cuped")}
    assert widths["cuped"] < 0.7 * widths["welch"]  # ρ = 0.8: sd × √(1 − 0.64) = 0.6 of Welch's width


def test_a_null_experiment_is_a_coin_toss():
    rng = np.random.default_rng(7)
    runs = 250
    results = [analyse_experiment(experiment(rng, 25, 25), pre_col=None, n_boot=1000, seed=i) for i in range(runs)]
    probabilities = np.array([r.prob_treatment_better for r in results])
    p_values = np.array([r.p_value for r in results])
    zero_covered = covered(np.array([r.welch.effect_low for r in results]),
                           np.array([r.welch.effect_high for r in results]), 0.0)
    print(f"null: mean P(better) {probabilities.mean():.3f}, CI covers 0 in {zero_covered:.3f}, "
          f"p < 0.05 in {np.mean(p_values < 0.05):.3f}")
    assert 0.45 <= probabilities.mean() <= 0.55
    assert 0.92 <= zero_covered <= 0.98
    # P(better) under the null is close to uniform, so it is rarely confident either way
    assert 0.02 <= np.mean((probabilities > 0.975) | (probabilities < 0.025)) <= 0.09


def test_cuped_removes_the_share_of_variance_the_pre_period_explains():
    rng = np.random.default_rng(11)
    truth = 1.0
    result = analyse_experiment(experiment(rng, 2000, 2000, effect=truth, pre_correlation=0.8), seed=1)
    details = result.cuped_stats
    assert details is not None and result.cuped is not None
    print(f"CUPED: reduction {details.variance_reduction:.3f} (expected 0.64), correlation "
          f"{details.correlation:.3f}, precision gain {details.precision_gain:.2f} (expected 1.78)")
    assert details.variance_reduction == pytest.approx(0.64, abs=0.05)
    assert details.correlation == pytest.approx(0.8, abs=0.03)
    assert details.precision_gain == pytest.approx(1 / (1 - 0.64) - 1, abs=0.3)
    cuped_width = result.cuped.effect_high - result.cuped.effect_low
    welch_width = result.welch.effect_high - result.welch.effect_low
    assert cuped_width == pytest.approx(0.6 * welch_width, rel=0.08)
    assert result.cuped.effect_low <= truth <= result.cuped.effect_high
    assert result.preferred is result.cuped
    assert "low_pre_correlation" not in codes(result)


def test_cuped_with_an_unrelated_pre_period_says_it_barely_helps():
    rng = np.random.default_rng(12)
    frame = experiment(rng, 300, 300, pre_correlation=0.0)
    frame.loc[[0, 5, 400], "pre"] = np.nan
    result = analyse_experiment(frame)
    assert "low_pre_correlation" in codes(result)
    assert dict(result.warnings)["missing_pre"] == {"n": 3}
    assert result.cuped is not None and result.cuped.n_treatment + result.cuped.n_control == 600  # nobody dropped
    assert result.preferred is result.welch


def test_welch_numbers_are_scipys_t_test():
    rng = np.random.default_rng(3)
    frame = experiment(rng, 40, 55, effect=4.0)
    frame.loc[frame["group"] == "tratamento", "outcome"] *= 1.8  # unequal variances
    result = analyse_experiment(frame, confidence=0.9)
    treated = frame.loc[frame["group"] == "tratamento", "outcome"]
    control = frame.loc[frame["group"] == "controle", "outcome"]
    oracle = stats.ttest_ind(treated, control, equal_var=False)
    interval = oracle.confidence_interval(confidence_level=0.9)
    assert result.p_value == pytest.approx(oracle.pvalue, rel=1e-9)
    assert result.welch_df == pytest.approx(oracle.df, rel=1e-9)
    assert (result.welch.effect_low, result.welch.effect_high) == pytest.approx((interval.low, interval.high))
    assert result.effect == pytest.approx(treated.mean() - control.mean())
    assert result.relative_effect == pytest.approx(result.effect / control.mean())
    assert result.welch.relative_low < result.relative_effect < result.welch.relative_high


def test_binary_outcomes_get_beta_binomial_posteriors():
    rng = np.random.default_rng(5)
    n, rate_c, rate_t = 4000, 0.10, 0.125
    frame = pd.DataFrame({"group": ["B"] * n + ["A"] * n,
                          "outcome": np.r_[rng.random(n) < rate_t, rng.random(n) < rate_c].astype(int)})
    result = analyse_experiment(frame)
    assert result.binary and result.control == "A" and result.treatment == "B"
    successes = frame.groupby("group")["outcome"].sum()
    a_t, b_t = 1 + successes["B"], 1 + n - successes["B"]
    a_c, b_c = 1 + successes["A"], 1 + n - successes["A"]
    mean_gap = a_t / (a_t + b_t) - a_c / (a_c + b_c)
    spread = math.sqrt(stats.beta(a_t, b_t).var() + stats.beta(a_c, b_c).var())
    assert result.prob_treatment_better == pytest.approx(stats.norm.cdf(mean_gap / spread), abs=0.01)
    assert result.bayes.effect == pytest.approx(mean_gap, abs=0.001)
    standard_error = math.sqrt((rate_t * (1 - rate_t) + rate_c * (1 - rate_c)) / n)
    assert abs(result.effect - (rate_t - rate_c)) < 4 * standard_error  # coverage itself is checked above
    assert result.bootstrap.effect_low < result.effect < result.bootstrap.effect_high
    assert "skewed_outcome" not in codes(result)
    assert any("p.p." in line for line in describe(result, "pt"))


def test_rare_conversions_warn_that_the_normal_approximation_is_shaky():
    frame = pd.DataFrame({"group": ["t"] * 300 + ["control"] * 300,
                          "outcome": [1] * 4 + [0] * 296 + [1] * 2 + [0] * 298})
    assert "skewed_outcome" in codes(analyse_experiment(frame))


def test_skewed_small_samples_prefer_the_bootstrap():
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"group": ["treatment"] * 40 + ["control"] * 40, "outcome": rng.lognormal(3, 1.5, 80)})
    result = analyse_experiment(frame)
    assert "skewed_outcome" in codes(result)
    assert result.preferred is result.bootstrap
    assert "(bootstrap)" in describe(result, "en")[0]


# --- warnings ------------------------------------------------------------------------------------------------------


def test_small_and_imbalanced_groups_are_warned_about_and_balanced_ones_are_not():
    rng = np.random.default_rng(1)
    lopsided = analyse_experiment(experiment(rng, 10, 200, effect=2.0))
    assert ("small_sample", {"group": "tratamento", "n": 10, "minimum": 30}) in lopsided.warnings
    assert ("imbalanced", {"group": "tratamento", "share": pytest.approx(10 / 210)}) in lopsided.warnings
    balanced = analyse_experiment(experiment(rng, 200, 200, effect=2.0, pre_correlation=0.6))
    assert balanced.warnings == ()


def test_sample_ratio_mismatch_against_the_planned_split():
    rng = np.random.default_rng(2)
    skewed_split = analyse_experiment(experiment(rng, 420, 580), expected_treatment_share=0.5)
    (params,) = [p for c, p in skewed_split.warnings if c == "sample_ratio_mismatch"]
    assert params["p_value"] < 0.001 and params["share"] == pytest.approx(0.42)
    fine_split = analyse_experiment(experiment(rng, 490, 510), expected_treatment_share=0.5)
    assert "sample_ratio_mismatch" not in codes(fine_split)
    planned_30_70 = analyse_experiment(experiment(rng, 150, 350), expected_treatment_share=0.3)
    assert planned_30_70.warnings == ()  # a planned split is not an imbalance


def test_constant_groups_are_warned_about_not_crashed_on():
    frame = pd.DataFrame({"group": ["b"] * 5 + ["a"] * 5, "outcome": [3.0] * 5 + [1.0] * 5, "pre": range(10)})
    result = analyse_experiment(frame)
    assert result.effect == 2.0 and result.p_value == 0.0
    assert result.welch.effect_low == result.welch.effect_high == 2.0
    assert result.prob_treatment_better == 1.0
    assert codes(result).count("zero_variance") == 2
    assert describe(result, "pt")


def test_exclusions_are_counted_and_said():
    rng = np.random.default_rng(4)
    frame = experiment(rng, 40, 40, effect=1.0, labels=("B", "A"))
    frame.loc[[0, 1], "outcome"] = np.nan
    frame.loc[2, "group"] = None
    frame.loc[3, "group"] = "  "
    extra = pd.DataFrame({"group": ["C"] * 6, "outcome": 1.0})
    result = analyse_experiment(pd.concat([frame, extra], ignore_index=True), treatment="B", control="A")
    assert result.excluded == {"missing_group": 2, "other_groups": 6, "missing_outcome": 2}
    assert (result.n_treatment, result.n_control) == (36, 40)
    assert ("other_groups", {"n": 6, "labels": "C"}) in result.warnings
    lines = describe(result, "pt")
    assert "2 unidade(s) sem resultado deixadas de fora." in lines
    assert "6 unidade(s) de outros grupos (C) deixadas de fora." in lines


# --- groups --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "control"), [
    (["Tratamento", "Controle"], "Controle"),
    (["B", "A"], "A"),
    (["variant", "CTRL"], "CTRL"),
    ([1, 0], "0"),
    ([1.0, 0.0], "0"),
    (["promo", "baseline"], "baseline"),
])
def test_the_control_group_is_recognised_by_its_label(labels, control):
    frame = pd.DataFrame({"group": np.repeat(labels, 5), "outcome": np.arange(10.0)})
    result = analyse_experiment(frame, min_per_group=2)
    assert result.control == control
    assert result.treatment == str(labels[0]).removesuffix(".0")


def test_unrecognisable_or_too_many_groups_are_clear_errors():
    frame = pd.DataFrame({"group": ["x", "y"] * 5, "outcome": np.arange(10.0)})
    with pytest.raises(ValueError, match=r"\['x', 'y'\].*control="):
        analyse_experiment(frame)
    assert analyse_experiment(frame, control="y").treatment == "x"
    assert analyse_experiment(frame, treatment="y").control == "x"
    three = pd.DataFrame({"group": ["a", "b", "c"] * 4, "outcome": np.arange(12.0)})
    with pytest.raises(ValueError, match=r"three|3: \['a', 'b', 'c'\]"):
        analyse_experiment(three)
    with pytest.raises(ValueError, match="group 'z' not found"):
        analyse_experiment(three, treatment="z", control="a")
    with pytest.raises(ValueError, match="at least two"):
        analyse_experiment(pd.DataFrame({"group": ["a", "b", "b"], "outcome": [1.0, 2.0, 3.0]}))
    with pytest.raises(ValueError, match=r"no column\(s\) \['outcome'\].*\['group', 'sales'\]"):
        analyse_experiment(pd.DataFrame({"group": ["a"], "sales": [1.0]}))
    with pytest.raises(ValueError, match="'outcome' holds 'muito'"):
        analyse_experiment(pd.DataFrame({"group": ["a", "b"], "outcome": ["1", "muito"]}))


# --- outputs -------------------------------------------------------------------------------------------------------


def test_result_table_has_one_row_per_method():
    rng = np.random.default_rng(6)
    with_pre = result_table(analyse_experiment(experiment(rng, 100, 100, effect=2.0, pre_correlation=0.7)))
    assert list(with_pre.columns) == list(TABLE_COLUMNS)
    assert list(with_pre["method"]) == ["welch", "bootstrap", "cuped", "bayes"]
    assert with_pre["p_value"].notna().tolist() == [True, False, True, False]
    assert with_pre["prob_treatment_better"].notna().tolist() == [False, False, False, True]
    assert (with_pre["effect_low"] < with_pre["effect"]).all() and (with_pre["effect"] < with_pre["effect_high"]).all()
    assert (with_pre[["n_treatment", "n_control"]] == 100).all().all()
    without_pre = result_table(analyse_experiment(experiment(rng, 100, 100), pre_col=None))
    assert list(without_pre["method"]) == ["welch", "bootstrap", "bayes"]


def test_the_bootstrap_is_seeded():
    frame = experiment(np.random.default_rng(8), 30, 30, effect=1.0)
    first, again = analyse_experiment(frame, seed=3), analyse_experiment(frame, seed=3)
    assert first == again
    assert analyse_experiment(frame, seed=4).bootstrap.effect_low != first.bootstrap.effect_low


def test_the_bootstrap_of_few_distinct_values_draws_counts_with_the_same_distribution():
    rng = np.random.default_rng(14)
    items = pd.DataFrame({"group": ["b"] * 300 + ["a"] * 300, "outcome": rng.poisson(2.0, 600).astype(float)})
    counted = analyse_experiment(items, seed=2).bootstrap  # three-ish distinct values per 20 units: multinomial
    jittered = items.assign(outcome=items["outcome"] + rng.uniform(-1e-9, 1e-9, 600))  # all distinct: indexes
    indexed = analyse_experiment(jittered, seed=2).bootstrap
    assert (counted.effect_low, counted.effect_high) == pytest.approx((indexed.effect_low, indexed.effect_high),
                                                                     abs=0.015)


def test_a_bootstrap_past_its_budget_is_cut_and_says_so(monkeypatch):
    monkeypatch.setattr(abtest, "BOOT_BUDGET", 100_000)
    result = analyse_experiment(experiment(np.random.default_rng(15), 100, 100))
    assert result.n_boot == 1000
    assert ("bootstrap_reduced", {"requested": 10_000, "used": 1000}) in result.warnings


def test_describe_speaks_portuguese_with_decimal_commas_and_english_with_points():
    rng = np.random.default_rng(10)
    result = analyse_experiment(experiment(rng, 20, 200, effect=5.0, pre_correlation=0.8))
    pt, en = describe(result, "pt"), describe(result, "en")
    print("\n".join(pt))
    assert len(pt) == len(en) and len(pt) >= 7
    assert pt[0].startswith("Tratamento (tratamento) supera o controle (controle) com ")
    assert "de probabilidade; efeito +" in pt[0] and "[IC 95%: " in pt[0]
    assert re.search(r"200 unidades, média \d+,\d+$", pt[2]) and re.search(r"200 units, mean \d+\.\d+$", en[2])
    assert re.search(r"p = 0,\d{3}$", pt[3]) and re.search(r"p = 0\.\d{3}$", en[3])  # Welch
    assert any(line.startswith("Amostra pequena: o grupo tratamento tem 20 unidades") for line in pt)
    assert any(line.startswith("Small sample: group tratamento has 20 units") for line in en)
    assert all("nan" not in line for line in pt + en)


def test_every_sentence_has_both_languages_with_the_same_fields():
    for key, texts in TEXTS.items():
        assert set(texts) == {"pt", "en"}, key
        fields = [{name for _, name, _, _ in string.Formatter().parse(text) if name} for text in texts.values()]
        assert fields[0] == fields[1], key
    assert set(WARNING_CODES) <= set(TEXTS)


# --- sample size and power -----------------------------------------------------------------------------------------


def reference_n_control(effect_size: float, ratio: float) -> float:
    """statsmodels' nobs1 for a two-sided two-sample t-test at α 0.05 and power 0.8, else a simulated one."""
    try:
        from statsmodels.stats.power import TTestIndPower
    except ImportError:
        return simulated_n_control(effect_size, ratio)
    return float(TTestIndPower().solve_power(effect_size=effect_size, alpha=0.05, power=0.8, ratio=ratio))


def simulated_power(n_control: int, n_treatment: int, effect_size: float, runs: int = 200_000, seed: int = 0) -> float:
    """Share of simulated pooled t-tests (normal outcomes, unit variance) rejecting at α = 0.05.

    Each simulated experiment is drawn through its sufficient statistics (group means and sums of squares), which
    have exactly the distribution they have in raw normal samples, so a run costs the same at any n.
    """
    rng = np.random.default_rng(seed)
    mean_c = rng.normal(0.0, 1 / math.sqrt(n_control), runs)
    mean_t = rng.normal(effect_size, 1 / math.sqrt(n_treatment), runs)
    df = n_control + n_treatment - 2
    pooled = (rng.chisquare(n_control - 1, runs) + rng.chisquare(n_treatment - 1, runs)) / df
    t = (mean_t - mean_c) / np.sqrt(pooled * (1 / n_control + 1 / n_treatment))
    return float(np.mean(np.abs(t) > stats.t.ppf(0.975, df)))


def simulated_n_control(effect_size: float, ratio: float) -> float:
    """The control size at which simulated power crosses 0.8: bisection over n, interpolated between neighbours."""

    def simulated(n: int) -> float:
        return simulated_power(n, max(2, round(ratio * n)), effect_size)

    low, high = 2, 4
    while simulated(high) < 0.8:
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if simulated(middle) < 0.8 else (low, middle)
    return low + (0.8 - simulated(low)) / (simulated(high) - simulated(low))


@pytest.mark.parametrize(("effect_size", "ratio"), [(0.2, 1.0), (0.5, 1.0), (0.8, 1.0), (0.35, 2.0), (1.0, 3.0)])
def test_sample_size_matches_statsmodels(effect_size, ratio):
    planned = sample_size(baseline_mean=200.0, baseline_sd=40.0, minimum_detectable_effect=effect_size * 40 / 200,
                          ratio=ratio)
    reference = reference_n_control(effect_size, ratio)
    print(f"d={effect_size} ratio={ratio}: n_control {planned.n_control_exact:.3f} vs reference {reference:.3f}")
    assert planned.n_control_exact == pytest.approx(reference, rel=0.02)
    assert planned.n_control == math.ceil(reference - 1e-6)
    assert planned.n_treatment == math.ceil(ratio * planned.n_control_exact - 1e-6)
    assert planned.effect_size == pytest.approx(effect_size)


def test_power_of_the_planned_size_is_the_power_asked_for():
    design = {"baseline_mean": 50.0, "baseline_sd": 12.0, "minimum_detectable_effect": 0.1}
    planned = sample_size(**design)
    achieved = power(planned.n_treatment, planned.n_control, **design)
    short = power(planned.n_treatment - 1, planned.n_control - 1, **design)
    simulated = simulated_power(planned.n_control, planned.n_treatment, 5.0 / 12.0, seed=1)
    print(f"n = {planned.n_control} per group: power {achieved:.4f}, one fewer {short:.4f}, simulated {simulated:.4f}")
    assert 0.8 <= achieved < 0.81 and short < 0.8
    assert achieved == pytest.approx(planned.achieved_power)
    assert simulated == pytest.approx(achieved, abs=0.005)
    assert power(planned.n_treatment, planned.n_control, **design) == pytest.approx(
        power(planned.n_treatment, planned.n_control, **{**design, "minimum_detectable_effect": 5.0},
              relative=False))


def test_binary_sample_size_reaches_its_power_in_simulated_z_tests():
    planned = sample_size(baseline_mean=0.10, minimum_detectable_effect=0.2, binary=True)
    rng = np.random.default_rng(3)
    runs = 6_000
    rate_c = rng.binomial(planned.n_control, 0.10, runs) / planned.n_control
    rate_t = rng.binomial(planned.n_treatment, 0.12, runs) / planned.n_treatment
    se = np.sqrt(rate_c * (1 - rate_c) / planned.n_control + rate_t * (1 - rate_t) / planned.n_treatment)
    simulated = float(np.mean(np.abs(rate_t - rate_c) / se > stats.norm.ppf(0.975)))
    print(f"binary: n = {planned.n_control} per group, simulated power {simulated:.4f}")
    assert simulated == pytest.approx(0.8, abs=0.025)
    assert planned.effect == pytest.approx(0.02)


def test_cuped_shrinks_the_sample_by_one_minus_rho_squared():
    plain = sample_size(baseline_mean=100.0, baseline_sd=30.0, minimum_detectable_effect=0.05)
    cuped = sample_size(baseline_mean=100.0, baseline_sd=30.0, minimum_detectable_effect=0.05, cuped_correlation=0.8)
    assert cuped.n_control_exact / plain.n_control_exact == pytest.approx(0.36, rel=0.02)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"baseline_mean": 10.0, "minimum_detectable_effect": 0.1}, "baseline_sd"),
    ({"baseline_mean": 0.0, "baseline_sd": 1.0, "minimum_detectable_effect": 0.1}, "non-zero baseline_mean"),
    ({"baseline_mean": 0.95, "minimum_detectable_effect": 0.1, "binary": True}, "between 0 and 1"),
    ({"baseline_mean": 10.0, "baseline_sd": 1.0, "minimum_detectable_effect": 0.0}, "non-zero"),
    ({"baseline_mean": 10.0, "baseline_sd": 1.0, "minimum_detectable_effect": 0.1, "power": 1.0}, "power"),
])
def test_sample_size_refuses_impossible_designs(arguments, message):
    with pytest.raises(ValueError, match=message):
        sample_size(**arguments)


# --- reading a units CSV -------------------------------------------------------------------------------------------


def test_reads_a_brazilian_csv(tmp_path):
    path = tmp_path / "experimento.csv"
    path.write_bytes(
        "Teste de preço na Páscoa\n\n"
        "Unidade;Grupo;Resultado;Pré-período;Observação\n"
        "L01;Controle;1.234,56;1.100,00;ok\n"
        "L02;Controle;980,5;900;\n"
        "\n"
        'L03;Tratamento;"R$ 1.500,00";1.300,1;"vitrine\nnova"\n'
        "L04;Tratamento;NA;;\n".encode("latin-1"))
    frame = read_units_csv(path)
    assert list(frame.columns) == ["unit", "group", "outcome", "pre"]
    assert frame["unit"].tolist() == ["L01", "L02", "L03", "L04"]
    assert frame["group"].tolist() == ["Controle", "Controle", "Tratamento", "Tratamento"]
    assert frame["outcome"].tolist()[:3] == [1234.56, 980.5, 1500.0] and math.isnan(frame["outcome"].iloc[3])
    assert frame["pre"].tolist()[:3] == [1100.0, 900.0, 1300.1] and math.isnan(frame["pre"].iloc[3])


def test_a_csv_read_gives_the_same_analysis_as_the_frame(tmp_path):
    frame = experiment(np.random.default_rng(13), 80, 90, effect=2.5, pre_correlation=0.7).round(2)
    frame.insert(0, "loja", [f"L{i:03d}" for i in range(len(frame))])
    path = tmp_path / "lojas.csv"
    frame.rename(columns={"group": "grupo", "outcome": "vendas", "pre": "baseline"}).to_csv(
        path, sep=";", decimal=",", index=False, encoding="utf-8-sig")
    read = read_units_csv(path)
    assert read["outcome"].tolist() == frame["outcome"].tolist()
    assert analyse_experiment(read) == analyse_experiment(frame)


def test_comma_delimited_csv_with_points_and_thousands_commas(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text('customer_id,variant,sales\nc1,control,"1,234.5"\nc2,B,12.25\nc3,B,7\n', encoding="utf-8")
    frame = read_units_csv(path)
    assert frame["outcome"].tolist() == [1234.5, 12.25, 7.0]
    assert frame["group"].tolist() == ["control", "B", "B"]


def test_a_value_that_is_not_a_number_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "teste_lojas.csv"
    rows = ["grupo;resultado", "A;10,5", "B;11", "", "A;9,75", "B;12", "B;muito alto", "A;8"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(UnitsFileError) as caught:
        read_units_csv(path)
    message = str(caught.value)
    assert "teste_lojas.csv" in message and "line 7" in message and "'resultado'" in message
    assert "expected a number" in message and "muito alto" in message
    assert (caught.value.line, caught.value.column) == (7, "resultado")


def test_a_point_in_a_decimal_comma_column_is_not_read_as_thousands(tmp_path):
    path = tmp_path / "ambiguo.csv"
    path.write_text("grupo;valor\nA;1.234,5\nB;2,5\nB;1.5\n", encoding="utf-8")
    with pytest.raises(UnitsFileError, match=r"ambiguo.csv, line 4, column 'valor': expected a number, found '1.5'"):
        read_units_csv(path)


def test_a_missing_group_column_names_the_file_and_the_columns_found(tmp_path):
    path = tmp_path / "sem_grupo.csv"
    path.write_text("loja;vendas\nL1;10\nL2;12\n", encoding="utf-8")
    with pytest.raises(UnitsFileError, match=r"sem_grupo.csv: column\(s\) group not found; columns found: "
                                             r"'loja', 'vendas' — expected one of — group: group, grupo"):
        read_units_csv(path)


@pytest.mark.parametrize(("content", "problem"), [
    ("grupo;resultado\nA;1\nB;2;3\n", r"line 3: the line does not split into the header's 2 columns"),
    ('grupo;resultado\r\nA;1\r\n\r\nB;"2\r\n3";4\r\nA;5\r\n', r"line 4: the line does not split"),
    ("unidade;grupo;vendas\n1;a;2\n2;b;3\n1;b;4\n", r"line 4, column 'unidade': unit '1' appears again \(first on "
                                                     r"line 2\)"),
    ("grupo;valor;vendas\na;1;2\n", r"columns 'valor' and 'vendas' both read as the outcome column"),
    ("grupo;resultado\n", "has a header but no rows"),
    ("", "the file is empty"),
    ("grupo;res\x00ultado\n", "binary"),
])
def test_bad_files_are_clear_errors(tmp_path, content, problem):
    path = tmp_path / "ruim.csv"
    path.write_text(content, encoding="utf-8", newline="")
    with pytest.raises(UnitsFileError, match=problem):
        read_units_csv(path)
    assert issubclass(UnitsFileError, ValueError)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(UnitsFileError, match=r"nao_existe\.csv: cannot be read"):
        read_units_csv(tmp_path / "nao_existe.csv")


CSV_ALPHABET = st.sampled_from([*";,\t|\"\n\r .-R$0123456789abcçãéAB", "NA", "1.234,5", "grupo", "controle"])
HEADERS = st.sampled_from(["grupo;resultado;pre\n", "group,outcome\n", "Unidade;Grupo;Vendas\n", ""])
FUZZ = settings(max_examples=int(os.environ.get("SHELFWISE_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def outcome_of(path: Path) -> str:
    try:
        frame = read_units_csv(path)
    except UnitsFileError:
        return "error"
    assert isinstance(frame, pd.DataFrame)
    assert {"group", "outcome"} <= set(frame.columns)
    assert frame["outcome"].dtype == float
    return "frame"


@FUZZ
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes_read_or_fail_cleanly(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    outcome_of(path)


@FUZZ
@given(header=HEADERS, body=st.lists(CSV_ALPHABET, max_size=80).map("".join),
       encoding=st.sampled_from(["utf-8", "latin-1"]))
def test_fuzz_csv_like_text_reads_or_fails_cleanly(tmp_path, header, body, encoding):
    path = tmp_path / "fuzz.csv"
    path.write_bytes((header + body).encode(encoding))
    outcome_of(path)
