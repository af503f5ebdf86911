"""The demo chain's planted campaigns measured by `shelfwise demo`, and the promotion commands on its workspace."""

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shelfwise.cli import app


@pytest.fixture(scope="module")
def demo(forecast_demo):
    return forecast_demo


@pytest.fixture(scope="module")
def measured(demo):
    """Shelfwise, naive pre/post and oracle on the same measured cells, against the planted truth."""
    with demo.workspace.warehouse.connect(purpose="test") as con:
        lift = con.execute("SELECT * FROM promo_lift WHERE run_id = (SELECT max(run_id) FROM promo_lift)").df()
        pre = con.execute("""
            WITH cells AS (SELECT DISTINCT campaign_id, store_id, product_id, start_date FROM promo_lift
                           WHERE level = 'cell' AND status = 'ok'),
            open_days AS (SELECT DISTINCT date FROM sales)
            SELECT c.campaign_id, c.store_id, c.product_id,
                   sum(coalesce(s.units, 0)) / count(DISTINCT o.date) AS pre_daily
            FROM cells c JOIN open_days o ON o.date BETWEEN c.start_date - INTERVAL 28 DAY AND c.start_date - 1
            LEFT JOIN sales s ON s.date = o.date AND s.store_id = c.store_id AND s.product_id = c.product_id
            GROUP BY ALL""").df()
    truth = pd.read_parquet(demo.truth_dir / "promo_cells.parquet")
    cells = lift[(lift["level"] == "cell") & (lift["status"] == "ok")].merge(
        truth, on=["campaign_id", "store_id", "product_id"]).merge(pre, on=["campaign_id", "store_id", "product_id"])
    cells["naive_baseline"] = cells["pre_daily"] * cells["days"]
    return lift, cells


def _campaign_errors(cells: pd.DataFrame, lift: pd.DataFrame) -> pd.DataFrame:
    sums = cells.groupby("campaign_id")[["actual_units", "expected_baseline_units", "expected_promo_units",
                                         "naive_baseline"]].sum()
    truth = 100 * (sums["expected_promo_units"] / sums["expected_baseline_units"] - 1)
    ours = lift[lift["level"] == "campaign"].set_index("campaign_id").reindex(sums.index)
    return pd.DataFrame({
        "ours": (ours["lift_pct"] - truth).abs(),
        "oracle": (100 * (sums["actual_units"] / sums["expected_baseline_units"] - 1) - truth).abs(),
        "naive": (100 * (sums["actual_units"] / sums["naive_baseline"] - 1) - truth).abs(),
        "covered": (ours["lift_low"] <= truth) & (truth <= ours["lift_high"]),
    })


def test_campaign_lift_is_close_to_the_oracle_and_far_better_than_before_after(measured):
    lift, cells = measured
    errors = _campaign_errors(cells, lift)
    assert len(errors) >= 18
    assert errors["ours"].median() <= 1.25 * errors["oracle"].median()
    assert errors["ours"].median() < 0.5 * errors["naive"].median()
    assert errors["covered"].mean() >= 0.8


def test_black_friday_and_christmas_are_not_mistaken_for_the_promotion(measured, demo):
    lift, cells = measured
    occasions = pd.read_parquet(demo.truth_dir / "promo_campaigns.parquet").set_index("campaign_id")["occasion"]
    peak = cells[cells["campaign_id"].map(occasions).isin(["black_friday", "natal"])]
    errors = _campaign_errors(peak, lift)
    assert len(errors) >= 2
    assert errors["ours"].mean() < 0.5 * errors["naive"].mean()


def test_cell_lifts_and_their_intervals(measured):
    _, cells = measured
    error = (cells["lift_pct"] - cells["true_lift_pct"]).abs()
    oracle = (100 * (cells["actual_units"] / cells["expected_baseline_units"] - 1) - cells["true_lift_pct"]).abs()
    assert len(cells) >= 200
    assert error.median() <= 1.3 * oracle.median()
    covered = (cells["lift_low"] <= cells["true_lift_pct"]) & (cells["true_lift_pct"] <= cells["lift_high"])
    assert 0.8 <= covered.mean() <= 0.97
    assert (cells["lift_high"] - cells["lift_low"]).median() < 100


def test_dip_and_cannibalisation_follow_the_planted_ones(measured, demo):
    lift, _ = measured
    truth = pd.read_parquet(demo.truth_dir / "promo_campaigns.parquet").set_index("campaign_id")
    totals = lift[(lift["level"] == "campaign") & (lift["status"] == "ok")].set_index("campaign_id")
    both = totals.join(truth, rsuffix="_true")
    assert np.corrcoef(both["post_promo_dip_units"], both["post_dip_units"])[0, 1] > 0.6
    assert 0.5 < both["post_promo_dip_units"].sum() / both["post_dip_units"].sum() < 1.6
    assert both["cannibalised_units"].sum() > 0


def test_every_campaign_has_a_row_and_the_unmeasured_say_why(measured, demo):
    lift, _ = measured
    totals = lift[lift["level"] == "campaign"]
    with demo.workspace.warehouse.connect(purpose="test") as con:
        campaigns = con.execute("SELECT count(DISTINCT campaign_id) FROM campaigns").fetchall()[0][0]
    assert len(totals) == campaigns
    assert set(totals["status"]) <= {"ok", "planned", "no_products", "before_history", "too_little_data"}
    assert totals.loc[totals["status"] != "ok", "lift_pct"].isna().all()
    assert totals.loc[totals["campaign_id"] == "CMP-010", "overlaps_with"].item() == "CMP-011"


def test_the_promotion_commands_on_the_demo(demo, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(demo.workspace.root, root, ignore=shutil.ignore_patterns("*.lock"))
    runner = CliRunner()
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        products = [r[0] for r in con.execute("SELECT product_id FROM promo_lift WHERE level = 'cell' "
                                              "AND campaign_id = 'CMP-022' LIMIT 2").fetchall()]
    outcome = runner.invoke(app, ["promo", "plan", "-w", str(root), "--products", ",".join(products),
                                  "--discount", "20", "--start", "2026-11-10", "--days", "7", "--cost", "4000",
                                  "--save"])
    assert outcome.exit_code == 0, outcome.output
    assert "Lift previsto" in outcome.output and "PLAN-" in outcome.output
    outcome = runner.invoke(app, ["abtest", "-w", str(root), "--campaign", "CMP-014"])
    assert outcome.exit_code == 0, outcome.output
    assert "Amostra pequena" in outcome.output
    units = tmp_path / "teste.csv"
    units.write_text("loja;grupo;vendas;pre\n" + "\n".join(
        f"L{i};{'tratamento' if i % 2 else 'controle'};{100 + 7 * (i % 2) + i % 5},5;{95 + i % 5}"
        for i in range(80)), encoding="utf-8")
    outcome = runner.invoke(app, ["abtest", "-w", str(root), str(units)])
    assert outcome.exit_code == 0, outcome.output
    outcome = runner.invoke(app, ["abtest", "-w", str(root), str(tmp_path / "missing.csv")])
    assert outcome.exit_code != 0 and "missing.csv" in outcome.output
    for table in ("promo_lift", "promo_plans", "abtest_results", "recommendations"):
        out = tmp_path / f"{table}.csv"
        outcome = runner.invoke(app, ["export", table, "-w", str(root), "--out", str(out)])
        assert outcome.exit_code == 0, outcome.output
        assert len(pd.read_csv(out)) > 0
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        saved = con.execute("SELECT count(*) FROM campaigns WHERE campaign_id LIKE 'PLAN-%'").fetchall()[0][0]
        results = con.execute("SELECT DISTINCT method FROM abtest_results").df()["method"]
    assert saved == 1
    assert {"welch", "bootstrap", "bayes"} <= set(results)


def test_cross_shopping_in_the_mall(demo):
    found = demo.crosssell.recommendations
    assert len(found) > 0
    assert (found["lift"] > 1).all()
    assert (found["item_id"] != found["recommended_id"]).all()
