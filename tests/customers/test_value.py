"""Customer value against published figures (CDNOW), planted truth (simulated BG/NBD customers), Monte Carlo
and hand-computed purchase histories; and the inputs that must end in a clear error or a finite answer."""

import importlib.util
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shelfwise.customers.value import (
    VALUE_COLUMNS,
    BgNbd,
    GammaGamma,
    ValueModelError,
    ValueSettings,
    customer_value,
    fit_bgnbd,
    fit_gamma_gamma,
    purchase_summary,
    value_model_rows,
)

# Fader, Hardie & Lee (2005) "Counting your customers the easy way", CDNOW cohort, weeks
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4
# Fader, Hardie & Lee (2005) "RFM and CLV: using iso-value curves", the same cohort's 946 repeat customers
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
PLANTED = {"r": 0.75, "alpha": 4.0, "a": 0.8, "b": 2.5}


def cdnow_file(name: str) -> pd.DataFrame:
    """A CDNOW summary as shipped inside the lifetimes wheel (a test-only dependency, used for its data)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes (test dependency, for the CDNOW data files) is not installed")
    return pd.read_csv(Path(spec.origin).parent / "datasets" / name)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_file("cdnow_customers_summary.csv").rename(columns={"ID": "person_id"})


@pytest.fixture(scope="module")
def cdnow_spend() -> pd.DataFrame:
    frame = cdnow_file("cdnow_customers_summary_with_transactions.csv")
    return frame.rename(columns={"ID": "person_id", "x": "frequency", "t_x": "recency", "zbar": "monetary"})


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow) -> BgNbd:
    return fit_bgnbd(cdnow)


@pytest.fixture(scope="module")
def cdnow_gamma_gamma(cdnow_spend) -> GammaGamma:
    return fit_gamma_gamma(cdnow_spend)


def simulate_bgnbd(seed: int, n: int, *, r: float, alpha: float, a: float, b: float, calibration: float,
                   holdouts: tuple[float, ...]) -> pd.DataFrame:
    """BG/NBD customers: first purchase at 0 in the first 12 weeks, a calibration period, then the holdouts.

    Each round gives every still-active customer their next purchase; a customer drops out right after their
    K-th repeat purchase, K ~ Geometric(p). Columns: frequency, recency, T, alive (at T), future_<h> per holdout.
    """
    rng = np.random.default_rng(seed)
    rate = np.maximum(rng.gamma(r, 1 / alpha, n), 1e-12)
    drops_after = rng.geometric(rng.beta(a, b, n))
    T = calibration - rng.uniform(0, 12, n)
    x, t_x, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    future = {h: np.zeros(n) for h in holdouts}
    active, k = np.ones(n, dtype=bool), 0
    while active.any():
        clock[active] += rng.exponential(1 / rate[active])
        k += 1
        seen = active & (clock <= T)
        x[seen], t_x[seen] = k, clock[seen]
        for h in holdouts:
            future[h] += active & (clock > T) & (clock <= T + h)
        active &= (clock <= T + max(holdouts)) & (k < drops_after)
    frame = pd.DataFrame({"person_id": np.arange(n), "frequency": x, "recency": t_x, "T": T,
                          "alive": drops_after > x})
    return frame.assign(**{f"future_{h:g}": count for h, count in future.items()})


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return simulate_bgnbd(0, 5000, **PLANTED, calibration=52.0, holdouts=(26.0, 52.0))


@pytest.fixture(scope="module")
def planted_bgnbd(planted) -> BgNbd:
    return fit_bgnbd(planted)


def summary_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "frequency", "recency", "T", "monetary"])


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """The Mann-Whitney probability that a positive outscores a negative (ties count half)."""
    ranks = stats.rankdata(score)
    positives, negatives = label.sum(), (~label).sum()
    return (ranks[label].sum() - positives * (positives + 1) / 2) / (positives * negatives)


# --- published figures ----------------------------------------------------------------------------------------

def test_bgnbd_reproduces_fader_hardie_lee_on_cdnow(cdnow_bgnbd):
    model = cdnow_bgnbd
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(model, name) == pytest.approx(published, rel=0.02), name
    assert model.log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
    assert model.n == 2357
    # the paper's worked example: 2 repeat purchases, the last at 30.43 of 38.86 weeks -> 1.226 in the next 39
    assert model.expected_purchases(2, 30.43, 38.86, 39) == pytest.approx(1.226, abs=0.002)


def test_gamma_gamma_reproduces_iso_value_paper_on_cdnow(cdnow_spend, cdnow_gamma_gamma):
    model = cdnow_gamma_gamma
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(model, name) == pytest.approx(published, rel=0.02), name
    assert model.n == 946
    repeat = cdnow_spend[cdnow_spend["frequency"] > 0]
    spend = model.expected_spend(repeat["frequency"], repeat["monetary"])
    population = model.p * model.v / (model.q - 1)
    # shrinkage: each person's expected spend lies between their own mean and the population's
    low, high = np.minimum(repeat["monetary"], population), np.maximum(repeat["monetary"], population)
    assert ((spend >= low - 1e-9) & (spend <= high + 1e-9)).all()


def test_customer_value_on_cdnow(cdnow, cdnow_spend, cdnow_bgnbd, cdnow_gamma_gamma):
    settings = ValueSettings()
    bgnbd, gamma_gamma = cdnow_bgnbd, cdnow_gamma_gamma
    value = customer_value(cdnow_spend, bgnbd, gamma_gamma, settings)
    assert list(value.columns) == VALUE_COLUMNS and len(value) == 2357
    numbers = value[["expected_purchases_12m", "probability_alive", "expected_spend", "value_12m"]]
    assert np.isfinite(numbers.to_numpy()).all() and (numbers.to_numpy() >= 0).all()
    assert value["probability_alive"].le(1).all() and (value["spend_model"] == "gamma_gamma").all()
    expected = bgnbd.expected_purchases(cdnow["frequency"], cdnow["recency"], cdnow["T"], 365 / 7)
    np.testing.assert_allclose(value["expected_purchases_12m"], expected)
    np.testing.assert_allclose(value["value_12m"], value["expected_purchases_12m"] * value["expected_spend"])
    discounted = customer_value(cdnow_spend, bgnbd, gamma_gamma, ValueSettings(annual_discount_rate=0.1))
    ratio = discounted["value_12m"] / value["value_12m"]
    assert ((ratio > 1 / 1.1) & (ratio < 1)).all()  # every purchase discounted by less than a full year's rate


def test_value_model_rows(cdnow_bgnbd, cdnow_gamma_gamma):
    rows = value_model_rows(cdnow_bgnbd, cdnow_gamma_gamma, ValueSettings())
    assert list(rows.columns) == ["model", "parameter", "value", "time_unit"]
    r = rows[(rows["model"] == "bg_nbd") & (rows["parameter"] == "r")].iloc[0]
    assert r["value"] == pytest.approx(0.243, rel=0.02) and r["time_unit"] == "week"
    assert set(rows.loc[rows["model"] == "gamma_gamma", "parameter"]) == {"p", "q", "v", "log_likelihood", "n"}
    assert set(value_model_rows(cdnow_bgnbd, None)["model"]) == {"bg_nbd"}


# --- planted truth ---------------------------------------------------------------------------------------------

def test_bgnbd_recovers_planted_parameters(planted_bgnbd):
    model = planted_bgnbd
    # over 12 simulated populations of 5,000 the estimates spread (coefficient of variation) r 3%, alpha 4%,
    # a 5%, b 8%: the tolerances are about three of those
    tolerance = {"r": 0.10, "alpha": 0.15, "a": 0.15, "b": 0.25}
    for name, truth in PLANTED.items():
        assert getattr(model, name) == pytest.approx(truth, rel=tolerance[name]), name


@pytest.mark.parametrize("holdout", [26.0, 52.0])
def test_expected_holdout_purchases_match_simulated(planted, planted_bgnbd, holdout):
    fitted, truth = planted_bgnbd, BgNbd(**PLANTED, log_likelihood=np.nan, n=0)
    realised = planted[f"future_{holdout:g}"].sum()
    for model in (fitted, truth):  # the formula with the true parameters, and the whole fit-and-predict path
        expected = model.expected_purchases(planted["frequency"], planted["recency"], planted["T"], holdout)
        assert expected.sum() == pytest.approx(realised, rel=0.05)


def test_probability_alive_separates_alive_from_dropped(planted, planted_bgnbd):
    model = planted_bgnbd
    alive = model.probability_alive(planted["frequency"], planted["recency"], planted["T"])
    assert auc(alive, planted["alive"].to_numpy()) > 0.8
    assert alive[planted["alive"]].mean() > alive[~planted["alive"]].mean() + 0.3


# --- the formulas against Monte Carlo --------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (1, 2.0, 38.86), (2, 30.43, 38.86), (7, 35.0, 38.86)])
def test_probability_alive_and_expectation_match_monte_carlo(x, t_x, T):
    """Draw (lambda, p) from the prior, weight by the history's likelihood, simulate the next 52 weeks."""
    model = BgNbd(**PUBLISHED_BGNBD, log_likelihood=np.nan, n=0)
    rng = np.random.default_rng(x)
    rate, p = rng.gamma(model.r, 1 / model.alpha, 300_000), rng.beta(model.a, model.b, 300_000)
    still = (1 - p) ** x * rate**x * np.exp(-rate * T)
    dropped = (x > 0) * p * (1 - p) ** max(x - 1, 0) * rate**x * np.exp(-rate * t_x)
    weight = (still + dropped) / (still + dropped).sum()
    future = np.minimum(rng.poisson(rate * 52), rng.geometric(p)) * still / (still + dropped)
    assert model.probability_alive(x, t_x, T) == pytest.approx(np.dot(weight, still / (still + dropped)), abs=0.01)
    standard_error = np.sqrt(np.dot(weight, (future - np.dot(weight, future)) ** 2) / (1 / np.dot(weight, weight)))
    assert abs(model.expected_purchases(x, t_x, T, 52) - np.dot(weight, future)) < 4 * standard_error + 1e-3


@pytest.mark.parametrize(("params", "x", "t_x", "T", "t"), [
    (PUBLISHED_BGNBD, 50, 100.0, 104.0, 52.0),      # a heavy buyer
    (PUBLISHED_BGNBD, 300, 515.0, 520.0, 365.0),   # ten years of weekly purchases, a year ahead
    ({"r": 1.0, "alpha": 5.5, "a": 1411.0, "b": 1710.0}, 3, 10.0, 20.0, 52.0),  # a, b where hyp2f1 gives up
    ({"r": 0.5, "alpha": 4.0, "a": 1.0, "b": 2.0}, 4, 20.0, 30.0, 52.0),  # a = 1, where eq. 10 reads 0/0
])
def test_expected_purchases_of_extreme_histories_match_monte_carlo(params, x, t_x, T, t):
    """Given alive, lambda ~ Gamma(r+x, alpha+T) and p ~ Beta(a, b+x); simulate the purchases before dropout."""
    model = BgNbd(**params, log_likelihood=np.nan, n=0)
    rng = np.random.default_rng(x)
    rate = rng.gamma(model.r + x, 1 / (model.alpha + T), 300_000)
    future = np.minimum(rng.poisson(rate * t), rng.geometric(rng.beta(model.a, model.b + x, 300_000)))
    expected = model.expected_purchases(x, t_x, T, t)
    simulated = model.probability_alive(x, t_x, T) * future.mean()
    assert np.isfinite(expected)
    assert expected == pytest.approx(simulated, abs=4 * future.std() / np.sqrt(future.size) + 1e-3)


# --- the purchase summary -------------------------------------------------------------------------------------

@pytest.fixture
def purchases() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE purchases (person_id VARCHAR, timestamp TIMESTAMP, amount DECIMAL(10, 2))")
    con.execute("""INSERT INTO purchases VALUES
        ('ana', '2024-01-01 10:00', 10), ('ana', '2024-01-01 15:30', 5),  -- one day, one occasion of 15
        ('ana', '2024-01-15 09:00', 20),
        ('ana', '2024-01-29 11:00', -8),                                   -- a return: no occasion
        ('ana', '2024-02-12 18:00', 30),
        ('ana', '2024-03-10 12:00', 100),                                  -- after as_of: ignored
        ('bia', '2024-02-05 12:00', 12.5),                                 -- one purchase only
        ('caio', '2024-03-01 12:00', 40),                                  -- only after as_of: absent
        ('davi', '2024-01-08 10:00', 10), ('davi', '2024-01-08 10:05', -10), -- netted to 0: no occasion
        ('davi', '2024-01-22 10:00', 7),
        ('eva', '2024-02-26 23:59', 9),                                    -- on as_of itself: counted
        (NULL, '2024-01-10 10:00', 50)""")
    return con


def test_purchase_summary_by_hand(purchases):
    summary = purchase_summary(purchases, "purchases", as_of=date(2024, 2, 26)).set_index("person_id")
    assert list(summary.index) == ["ana", "bia", "davi", "eva"]
    expected = pd.DataFrame({
        "frequency": [2, 0, 0, 0],
        "recency": [6.0, 0.0, 0.0, 0.0],          # ana: 1 Jan to 12 Feb is 42 days
        "T": [8.0, 3.0, 5.0, 0.0],                # to 26 Feb: 56, 21, 35 and 0 days
        "monetary": [25.0, 0.0, 0.0, 0.0],        # ana's repeat occasions: 20 and 30
        "occasions": [3, 1, 1, 1],
        "total_spend": [65.0, 12.5, 7.0, 9.0],
    }, index=pd.Index(["ana", "bia", "davi", "eva"], name="person_id"))
    pd.testing.assert_frame_equal(summary[expected.columns], expected, check_dtype=False)
    assert summary.loc["ana", "first_purchase"] == pd.Timestamp("2024-01-01")
    assert summary.loc["ana", "last_purchase"] == pd.Timestamp("2024-02-12")
    in_days = purchase_summary(purchases, "purchases", as_of=date(2024, 2, 26), time_unit_days=1)
    assert in_days.set_index("person_id").loc["ana", ["recency", "T"]].tolist() == [42.0, 56.0]


def test_purchase_summary_names_missing_columns(purchases):
    purchases.execute("CREATE TABLE receipts AS SELECT person_id, timestamp AS sold_at, amount FROM purchases")
    with pytest.raises(ValueModelError, match=r"lacks column.*timestamp"):
        purchase_summary(purchases, "receipts", as_of=date(2024, 2, 26))


# --- bad inputs: a clear error or a finite answer -------------------------------------------------------------

def test_a_single_customer_is_a_clear_error():
    with pytest.raises(ValueModelError, match="at least 2 customers with purchases; got 1"):
        fit_bgnbd(summary_frame([(1, 3, 10.0, 20.0, 5.0)]))


def test_an_empty_summary_is_a_clear_error_and_no_rows():
    empty = summary_frame([])
    with pytest.raises(ValueModelError, match="got 0"):
        fit_bgnbd(empty)
    with pytest.raises(ValueModelError, match="got 0"):
        fit_gamma_gamma(empty)
    assert list(customer_value(empty, BgNbd(**PLANTED, log_likelihood=0.0, n=0), None).columns) == VALUE_COLUMNS


def test_identical_customers_need_a_penalizer():
    same = summary_frame([(i, 2, 10.0, 20.0, 5.0) for i in range(50)])
    with pytest.raises(ValueModelError, match=r"same history.*penalizer"):
        fit_bgnbd(same)
    with pytest.raises(ValueModelError, match="same mean spend"):
        fit_gamma_gamma(same)
    model = fit_bgnbd(same, settings=ValueSettings(penalizer=0.01))
    value = customer_value(same, model, None)
    assert np.isfinite(value.select_dtypes("number").to_numpy()).all()
    assert value["expected_purchases_12m"].nunique() == 1 and (value["spend_model"] == "own_mean").all()


def test_nobody_repeating_is_a_clear_error_and_scores_with_an_earlier_model():
    once = summary_frame([(i, 0, 0.0, 10.0 + i, 0.0) for i in range(40)]).assign(occasions=1, total_spend=8.0)
    with pytest.raises(ValueModelError, match="repeat purchase"):
        fit_bgnbd(once)
    with pytest.raises(ValueModelError, match="at least 10 customers with a repeat purchase"):
        fit_gamma_gamma(once)
    value = customer_value(once, BgNbd(**PUBLISHED_BGNBD, log_likelihood=0.0, n=0), None)
    assert (value["expected_spend"] == 8.0).all() and (value["spend_model"] == "population_mean").all()
    assert np.isfinite(value["value_12m"]).all() and (value["probability_alive"] == 1).all()


def test_few_customers_fit_and_spend_falls_back_to_means():
    few = summary_frame([(1, 3, 10.0, 20.0, 5.0), (2, 0, 0.0, 15.0, 0.0), (3, 1, 2.0, 30.0, 7.0)])
    with pytest.raises(ValueModelError, match="got 2"):
        fit_gamma_gamma(few)
    value = customer_value(few, fit_bgnbd(few), None, ValueSettings(annual_discount_rate=0.05))
    assert np.isfinite(value.select_dtypes("number").to_numpy()).all()
    assert value["expected_spend"].tolist() == [5.0, 6.0, 7.0]
    assert value["spend_model"].tolist() == ["own_mean", "population_mean", "own_mean"]


def test_heavy_tailed_spend_refuses_gamma_gamma():
    rng = np.random.default_rng(5)
    frequency = rng.integers(1, 6, 400)
    mean_spend = 1 / rng.gamma(0.6, 1 / 10.0, 400)  # q = 0.6: the population's mean spend is infinite
    heavy = summary_frame([]).assign(person_id=np.arange(400), frequency=frequency, recency=1.0, T=2.0,
                                     monetary=rng.gamma(4 * frequency, mean_spend / (4 * frequency)))
    with pytest.raises(ValueModelError, match=r"q = .* <= 1"):
        fit_gamma_gamma(heavy)


@pytest.mark.parametrize(("rows", "message"), [
    ([(1, 1, 30.0, 20.0, 5.0), (2, 0, 0.0, 9.0, 0.0)], "recency below 0 or above T"),
    ([(1, 1.5, 3.0, 20.0, 5.0), (2, 0, 0.0, 9.0, 0.0)], "not a whole number"),
    ([(1, 1, np.nan, 20.0, 5.0), (2, 0, 0.0, 9.0, 0.0)], "missing or infinite"),
])
def test_invalid_histories_are_named(rows, message):
    with pytest.raises(ValueModelError, match=message):
        fit_bgnbd(summary_frame(rows))


def test_settings_are_validated():
    with pytest.raises(ValueModelError, match=r"time_unit_days must be at least 1.*penalizer must be 0 or more"):
        ValueSettings(time_unit_days=0, penalizer=-1)
    assert ValueSettings(time_unit_days=1).time_unit == "day" and ValueSettings().horizon == pytest.approx(365 / 7)
