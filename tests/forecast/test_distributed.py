"""`[compute] engine = "dask"`: the same run on a real local cluster gives the same forecasts as on this machine.

The cluster has worker processes (processes=True), as a real one does: the tasks, the frames and the LightGBM
model cross process boundaries by pickling, which threads in one process would never test. Starting two workers
takes about 3 s here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from shelfwise.config import ComputeSettings
from shelfwise.pipelines.forecasting import ForecastRun, run_forecast

from .samples import HORIZON, TODAY, cases_workspace

pytestmark = pytest.mark.filterwarnings("ignore:Found null values in lag364")  # 200 days: no value a year back

RTOL = 1e-6
"""statsforecast's Fugue backend returns its forecasts as float32, so the two paths agree to ~6e-8, not exactly."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[ForecastRun, ForecastRun, set[str]]:
    """The bad-input workspace (14 series, every path) forecast here, then on a two-worker cluster."""
    from distributed import Client, LocalCluster

    ws, _ = cases_workspace(tmp_path_factory.mktemp("distributed"))
    local = run_forecast(ws, horizon=HORIZON, today=TODAY)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        compute = ComputeSettings(engine="dask", scheduler=cluster.scheduler_address, n_jobs=ws.settings.compute.n_jobs)
        remote = run_forecast(replace(ws, settings=replace(ws.settings, compute=compute)), horizon=HORIZON,
                              today=TODAY)
        ran = set(client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes)))
    return local, remote, ran


def assert_same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    """Same rows and text columns; numbers equal to RTOL, or to a millionth of a unit near zero (a lower bound
    is forecast minus spread: its float32 error is relative to the forecast, not to itself)."""
    assert list(left.columns) == list(right.columns)
    left = left.sort_values(keys, ignore_index=True)
    right = right.sort_values(keys, ignore_index=True)
    numeric = [c for c in left.columns if pd.api.types.is_float_dtype(left[c])]
    pd.testing.assert_frame_equal(left.drop(columns=numeric), right.drop(columns=numeric))
    for column in numeric:
        np.testing.assert_allclose(right[column].to_numpy(dtype=float), left[column].to_numpy(dtype=float),
                                   rtol=RTOL, atol=1e-6, equal_nan=True, err_msg=column)


def test_the_cluster_ran_the_statistical_models_and_the_global_model(runs):
    _, _, ran = runs
    assert "fit_global_model" in ran, ran  # the client.submit of fit_global_model
    assert {"frompandas", "p2pshuffle"} <= ran, ran  # the panel sent over, partitioned by series for Fugue


def test_forecasts_on_the_cluster_equal_the_local_ones(runs):
    local, remote, _ = runs
    assert len(local.result.forecasts) == len(remote.result.forecasts) == 14 * HORIZON
    assert_same(local.result.forecasts, remote.result.forecasts, ["store_id", "product_id", "date"])
    assert remote.result.origin == local.result.origin == TODAY


def test_the_cluster_chooses_the_same_models_with_the_same_backtest(runs):
    local, remote, _ = runs
    pd.testing.assert_frame_equal(local.result.series, remote.result.series)
    assert local.result.counts == remote.result.counts
    assert local.result.weights == remote.result.weights
    assert_same(local.result.backtest, remote.result.backtest, ["store_id", "product_id", "model", "cutoff"])
    remote_quantiles = remote.result.quantiles.as_dict()
    for name, value in local.result.quantiles.as_dict().items():
        assert remote_quantiles[name] == pytest.approx(value, rel=RTOL), name
