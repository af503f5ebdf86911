"""Benchmark Shelfwise's demand forecast (issue 4) against the forecasters a user would otherwise pick.

    python bench/forecast.py [--series 5000] [--ets-sample 500] [--prophet-series 50] [--quick]
                             [--parts demo,synthetic,prophet] [--workspace DIR] [--out FILE]

`--quick` is a smoke run (200 synthetic series, one demo store, 50 AutoETS and 5 Prophet series) written to
`bench/results/forecast_quick.json`; the full run takes 15-25 minutes on two cores and writes
`bench/results/forecast.json`. Nothing is downloaded. The figures move with whatever else runs on the machine
(LightGBM's threads are slowed badly by other busy processes): the load average is recorded beside them.

What it measures, every comparison in this run, on this machine:

(a) Accuracy on the demo chain (`run_demo(forecast=False)` in a temporary folder, or `--workspace`). For two
    cutoffs -- the last sales date minus 28 days, and 2026-08-31 (the 28 days after it hold two campaigns; the
    last 28 days hold none) -- `load_inputs(con, settings, today=cutoff)` and `forecast_demand` give Shelfwise's
    28-day forecast; statsforecast fits AutoETS(season_length=7) (model "ZZZ", the off-the-shelf default) and
    SeasonalNaive(7) on the same `history` frame. Each is scored against the units sold in the holdout (the
    `sales` table summed per store, product and day; no row = 0), on the days the store was open and the item
    was in stock (`closed` / `censored` of `truth/sales_expected.parquet`): WAPE = sum|y - f| / sum y; MASE =
    per series mean|y - f| over the in-sample mean|y_t - y_(t-7)| of its observed history
    (`shelfwise.forecast.metrics.seasonal_scale`), averaged over series; bias; the 80% / 95% interval coverage.
    The noise floor is the same figures for the planted mean demand (`expected_units`), which no forecaster can
    beat on average. The same again on promotion days (`promo_role == 'promo'`), and the share of AutoETS's
    promotion-day WAPE gap to the floor that Shelfwise closes. Then the demo's real horizon (the 28 days after the
    last sales date, with Black Friday week and planned campaigns, which neither holdout has): Shelfwise and
    AutoETS ZZZ against the planted demand (`truth/future_expected.parquet`), on all days, on Black Friday week
    outside campaigns, and on campaign days.
(b) Speed and generality: `bench/forecast_data.py` draws `--series` synthetic series (20 stores x N/20 products,
    730 days + 28 held out, weekly/yearly seasonality, trend, negative-binomial noise, ~20% slow movers,
    promotions with a lift proportional to the discount, Brazilian holidays, 25 Dec / 1 Jan closed) in the
    shapes `load_inputs` returns; the full AutoML with its backtests (`ForecastSettings()`) runs in a fresh
    subprocess: wall time, series per second, peak memory (psutil: RSS of the process and its children every
    0.5 s, PSS every 5 s). The holdout is scored against the draws and the planted mean, Shelfwise against
    SeasonalNaive on every series and against AutoETS ZZZ on a seeded sample of `--ets-sample` series (ZZZ costs
    0.3-0.5 s of CPU a series here; Shelfwise's figures on the same sample are reported beside it).
(c) Prophet (yearly + weekly seasonality, `add_country_holidays('BR')`, one model per series, serially) on
    `--prophet-series` of those series: seconds per series, extrapolated to all series, the ratio to Shelfwise's
    wall time per series (Prophet's time divided by the cores, as if run in parallel on all of them, so the ratio
    is not flattered), and WAPE / MASE on the same holdout. A second Prophet with the discount as an extra
    regressor (what a careful analyst would add) is reported beside it.

Every Shelfwise-versus-peer difference also gets a 95% interval from a paired bootstrap over series (2,000
resamples), so a win by a hair is not read as a win. Each part runs in its own subprocess of this script
(`_worker`), so the memory figures start clean. Figures are printed and written to JSON with the targets of the
issue (`targets`: value, target, met).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness import to_json

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "forecast.json"
QUICK_RESULTS = BENCH / "results" / "forecast_quick.json"
HORIZON = 28
SEASON = 7
LEVELS = (80, 95)
PROMO_CUTOFF = date(2026, 8, 31)
KEY = ["store_id", "product_id"]
SEED = 42

TARGET_WALL_SECONDS = 600
TARGET_GAP_CLOSED = 0.5
TARGET_COVERAGE_80 = (0.70, 0.90)
TARGET_PROPHET_RATIO = 10


# --------------------------------------------------------------------------------------------------- scoring


def series_scale(history: Any, cutoff: Any) -> Any:
    """MASE denominators: per series, the mean |y_t - y_(t-7)| of its observed history up to `cutoff`."""
    import pandas as pd

    from shelfwise.forecast.metrics import seasonal_scale

    cutoffs = history[KEY].drop_duplicates().assign(cutoff=pd.Timestamp(cutoff))
    scale = seasonal_scale(history[[*KEY, "date", "units", "observed"]], cutoffs)
    return scale.set_index(KEY)["scale"]


def accuracy(frame: Any, methods: list[str], scale: Any, mask: Any = None,
             peers: tuple[str, ...] = ()) -> dict[str, Any]:
    """WAPE, MASE, bias (and coverage for methods with `<m>_lo_80`... columns) over the scored rows of `frame`.

    `frame`: store_id, product_id, date, y, scored, one column per method (and its interval columns).
    """
    rows = frame[frame["scored"] & (True if mask is None else mask)]
    volume = float(rows["y"].sum())
    out: dict[str, Any] = {"series": int(rows.groupby(KEY).ngroups) if len(rows) else 0, "days": len(rows),
                           "volume": volume}
    if rows.empty or volume <= 0:
        return out
    for method in methods:
        error = rows[method] - rows["y"]
        per_series = error.abs().groupby([rows["store_id"], rows["product_id"]]).mean()
        denominators = scale.reindex(per_series.index)
        mase = (per_series / denominators.where(denominators > 0)).dropna()
        figures = {"wape": float(error.abs().sum() / volume), "mase": float(mase.mean()),
                   "bias": float(error.sum() / volume), "mase_series": len(mase)}
        for level in LEVELS:
            lower, upper = f"{method}_lo_{level}", f"{method}_hi_{level}"
            if lower in rows:
                figures[f"coverage_{level}"] = float(rows["y"].between(rows[lower], rows[upper]).mean())
        out[method] = figures
    for peer in peers:
        out[f"shelfwise_minus_{peer}"] = paired_bootstrap(frame, peer, scale, mask)
    return out


def paired_bootstrap(frame: Any, peer: str, scale: Any, mask: Any = None, ours: str = "shelfwise",
                     reps: int = 2000, seed: int = SEED) -> dict[str, Any]:
    """WAPE and MASE of `ours` minus `peer`, with a 95% interval from resampling whole series (paired).

    Negative means `ours` is more accurate; `share_ours_better` is the share of resamples where it is.
    """
    import numpy as np
    import pandas as pd

    rows = frame[frame["scored"] & (True if mask is None else mask)]
    if rows.empty or peer not in rows or rows[peer].isna().all():
        return {}
    keys = [rows["store_id"], rows["product_id"]]
    per = pd.DataFrame({"y": rows["y"].groupby(keys).sum(),
                        "ours": (rows[ours] - rows["y"]).abs().groupby(keys).sum(),
                        "peer": (rows[peer] - rows["y"]).abs().groupby(keys).sum(),
                        "days": rows["y"].groupby(keys).size()})
    denominators = scale.reindex(per.index)
    per["scale"] = denominators.where(denominators > 0).to_numpy()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(per), (reps, len(per)))
    y, a, b = (per[c].to_numpy()[pick] for c in ("y", "ours", "peer"))
    wape = (a.sum(axis=1) - b.sum(axis=1)) / np.maximum(y.sum(axis=1), 1e-9)
    mase_terms = ((per["ours"] - per["peer"]) / per["days"] / per["scale"]).to_numpy()
    mase = np.nanmean(mase_terms[pick], axis=1)
    point_wape = (per["ours"].sum() - per["peer"].sum()) / per["y"].sum()
    return {"series": len(per), "resamples": reps,
            "wape_diff": float(point_wape), "wape_diff_ci95": [float(np.quantile(wape, 0.025)),
                                                               float(np.quantile(wape, 0.975))],
            "mase_diff": float(np.nanmean(mase_terms)), "mase_diff_ci95": [float(np.nanquantile(mase, 0.025)),
                                                                           float(np.nanquantile(mase, 0.975))],
            "share_ours_better_wape": float((wape < 0).mean()), "share_ours_better_mase": float((mase < 0).mean())}


def gap_closed(figures: dict[str, Any], ours: str = "shelfwise", peer: str = "auto_ets_zzz",
               floor: str = "noise_floor") -> float | None:
    """(WAPE_peer - WAPE_ours) / (WAPE_peer - WAPE_floor): the share of the peer's gap to the floor we close."""
    if not all(m in figures for m in (ours, peer, floor)):
        return None
    gap = figures[peer]["wape"] - figures[floor]["wape"]
    return (figures[peer]["wape"] - figures[ours]["wape"]) / gap if gap > 0 else None


# --------------------------------------------------------------------------------------------------- contenders


def shelfwise_columns(forecasts: Any) -> Any:
    """Shelfwise's forecast frame as method columns `shelfwise`, `shelfwise_lo_80` ..."""
    out = forecasts[[*KEY, "date", "forecast"]].rename(columns={"forecast": "shelfwise"})
    for level in LEVELS:
        out[f"shelfwise_lo_{level}"] = forecasts[f"lower_{level}"]
        out[f"shelfwise_hi_{level}"] = forecasts[f"upper_{level}"]
    out["shelfwise_model"] = forecasts["model"]
    return out


def run_shelfwise(history: Any, features: Any, categories: Any, settings: Any,
                  excluded: dict[str, int] | None = None, sampler: MemorySampler | None = None,
                  ) -> tuple[Any, dict[str, Any]]:
    """`forecast_demand`, timed per phase."""
    from shelfwise.forecast.automl import forecast_demand

    phases: dict[str, float] = {}
    started = time.perf_counter()
    last = [started, "prepare"]

    def progress(name: str) -> None:
        now = time.perf_counter()
        phases[last[1]] = round(now - last[0], 2)
        last[0], last[1] = now, name
        if sampler is not None:
            sampler.phase = name
        print(f"    shelfwise: {name} ({now - started:.0f} s)", flush=True)

    if sampler is not None:
        sampler.phase = "prepare"
    result = forecast_demand(history, features, categories, settings, excluded=excluded, progress=progress)
    if sampler is not None:
        sampler.phase = "after"
    wall = time.perf_counter() - started
    phases[last[1]] = round(time.perf_counter() - last[0], 2)
    info = {"wall_seconds": wall, "phases_seconds": phases, "counts": result.counts, "weights": result.weights,
            "own_backtest_summary": result.summary,
            "models_chosen": result.series["model"].value_counts().to_dict(),
            "demand_classes": result.series["demand_class"].value_counts().to_dict()}
    return result, info


def run_statsforecast(history: Any, models: list[str], h: int = HORIZON) -> tuple[Any, dict[str, float]]:
    """AutoETS(7) 'ZZZ' and/or SeasonalNaive(7) on `history` (units as y), each timed; columns as `accuracy` wants."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    build = {"auto_ets_zzz": lambda: AutoETS(season_length=SEASON, alias="auto_ets_zzz"),
             "seasonal_naive": lambda: SeasonalNaive(season_length=SEASON, alias="seasonal_naive")}
    frame = history.assign(unique_id=history["store_id"] + "|" + history["product_id"])
    frame = frame.rename(columns={"date": "ds", "units": "y"})[["unique_id", "ds", "y"]]
    frame["y"] = frame["y"].astype(float)
    out, seconds = None, {}
    for name in models:
        started = time.perf_counter()
        sf = StatsForecast(models=[build[name]()], freq="D", n_jobs=os.cpu_count() or 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = sf.forecast(df=frame, h=h, level=list(LEVELS))
        seconds[name] = time.perf_counter() - started
        fc = fc.reset_index() if "unique_id" not in fc.columns else fc
        part = pd.DataFrame({"unique_id": fc["unique_id"], "date": pd.to_datetime(fc["ds"]),
                             name: fc[name].clip(lower=0)})
        for level in LEVELS:
            part[f"{name}_lo_{level}"] = fc[f"{name}-lo-{level}"].clip(lower=0)
            part[f"{name}_hi_{level}"] = fc[f"{name}-hi-{level}"].clip(lower=0)
        out = part if out is None else out.merge(part, on=["unique_id", "date"], how="outer")
    keys = out["unique_id"].str.split("|", n=1, expand=True)
    out.insert(0, "store_id", keys[0])
    out.insert(1, "product_id", keys[1])
    return out.drop(columns="unique_id"), seconds


# --------------------------------------------------------------------------------------------------- memory


class MemorySampler:
    """Peak RSS and PSS of this process plus its children (statsforecast's worker processes), sampled in a thread.

    RSS summed over forked children counts their shared pages once per process (an upper bound); PSS shares them
    out (the honest total). RSS is read every `interval` seconds (/proc/PID/statm, cheap); PSS every `pss_every`
    samples: it walks every page table of a process of several GB and holds its memory map lock while it does, which
    read every half second slowed the timed run itself (5,000 series: 104 s against 96 s unwatched, one pair of runs).
    """

    def __init__(self, interval: float = 0.5, pss_every: int = 10) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.peak_rss = self.peak_pss = self.peak_self_rss = 0
        self.baseline_rss = self.process.memory_info().rss
        self.max_children = 0
        self.pss_every = pss_every
        self.loads: list[float] = []
        self.phase = "start"
        self.by_phase: dict[str, float] = {}
        self._cpu_before = self._cpu_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _cpu_seconds() -> float:
        import resource

        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def _sample(self, with_pss: bool) -> None:
        import psutil

        self.loads.append(os.getloadavg()[0])

        processes = [self.process]
        with contextlib.suppress(psutil.Error):
            processes += self.process.children(recursive=True)
        rss = pss = 0
        for proc in processes:
            try:
                memory = proc.memory_full_info() if with_pss else proc.memory_info()
            except psutil.Error:
                continue
            rss += memory.rss
            pss += getattr(memory, "pss", memory.rss)
            if proc is self.process:
                self.peak_self_rss = max(self.peak_self_rss, memory.rss)
        self.peak_rss = max(self.peak_rss, rss)
        self.max_children = max(self.max_children, len(processes) - 1)
        if with_pss:
            self.peak_pss = max(self.peak_pss, pss)
            self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0), pss / 2**20)

    def _run(self) -> None:
        samples = 0
        while not self._stop.is_set():
            self._sample(with_pss=samples % self.pss_every == 0)
            samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(with_pss=True)
        self.cpu_seconds = self._cpu_seconds() - self._cpu_before

    def figures(self) -> dict[str, float]:
        import resource

        mb = 2**20
        return {"peak_rss_mb": self.peak_rss / mb, "peak_pss_mb": self.peak_pss / mb,
                "peak_rss_main_process_mb": self.peak_self_rss / mb, "rss_before_mb": self.baseline_rss / mb,
                "max_child_processes": self.max_children,
                "ru_maxrss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "ru_maxrss_largest_child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "cpu_seconds_self_and_children": self.cpu_seconds,
                "peak_pss_mb_by_phase": self.by_phase,
                "load_average_1min_during": {"mean": sum(self.loads) / len(self.loads), "max": max(self.loads)}}


# --------------------------------------------------------------------------------------------------- (a) demo


def demo_inputs(ws: Any, today: date, stores: list[str] | None) -> tuple[Any, Any, Any, dict[str, int]]:
    """`load_inputs` of the demo as of `today`, restricted to `stores` when given."""
    from shelfwise.forecast.automl import load_inputs

    with ws.warehouse.connect(write=False) as con:
        history, features, categories, excluded = load_inputs(con, ws.settings.forecast, today=today)
    if stores:
        history = history[history["store_id"].isin(stores)]
        features = features[features["store_id"].isin(stores)]
    return history, features, categories, excluded


def demo_holdout(ws: Any, truth: Any, cutoff: date, stores: list[str] | None) -> dict[str, Any]:
    """Shelfwise, AutoETS ZZZ, SeasonalNaive and the noise floor on the 28 days after `cutoff`."""
    import pandas as pd

    settings = ws.settings.forecast
    end = cutoff + timedelta(days=HORIZON)
    history, features, categories, excluded = demo_inputs(ws, cutoff, stores)
    with ws.warehouse.connect(write=False) as con:
        actual = con.execute("""
            SELECT store_id, product_id, date, sum(units) AS units FROM sales
            WHERE date > ? AND date <= ? GROUP BY ALL""", [cutoff, end]).df()
    print(f"  cutoff {cutoff}: {history.groupby(KEY).ngroups} series, {len(history):,} history rows", flush=True)
    result, info = run_shelfwise(history, features, categories, settings, excluded)
    print("  statsforecast AutoETS ZZZ and SeasonalNaive ...", flush=True)
    peers, peer_seconds = run_statsforecast(history, ["auto_ets_zzz", "seasonal_naive"])

    horizon = truth[(truth["date"] > pd.Timestamp(cutoff)) & (truth["date"] <= pd.Timestamp(end))]
    known = history[KEY].drop_duplicates()
    frame = horizon.merge(known, on=KEY)  # series with a history (every contender forecasts them)
    actual["date"] = pd.to_datetime(actual["date"])
    frame = frame.merge(actual, on=[*KEY, "date"], how="left")
    negative = int((frame["units"] < 0).sum())
    frame["y"] = frame["units"].fillna(0).clip(lower=0)
    frame["scored"] = ~(frame["closed"] | frame["censored"])
    frame["promo"] = frame["promo_role"].eq("promo")
    frame["noise_floor"] = frame["expected_units"]
    frame = frame.merge(shelfwise_columns(result.forecasts), on=[*KEY, "date"], how="left")
    frame = frame.merge(peers, on=[*KEY, "date"], how="left")
    methods = ["shelfwise", "auto_ets_zzz", "seasonal_naive", "noise_floor"]
    missing = {m: int(frame[m].isna().sum()) for m in methods}
    scale = series_scale(history, cutoff)
    overall = accuracy(frame, methods, scale, peers=("auto_ets_zzz",))
    promo = accuracy(frame, methods, scale, frame["promo"], peers=("auto_ets_zzz",))
    out = {
        "cutoff": str(cutoff), "holdout": f"{cutoff + timedelta(days=1)}..{end}",
        "series": int(frame.groupby(KEY).ngroups), "series_days_scored": int(frame["scored"].sum()),
        "series_days_not_scored_closed_or_censored": int((~frame["scored"]).sum()),
        "promo_series_days_scored": int((frame["scored"] & frame["promo"]).sum()),
        "campaigns_in_holdout": sorted(c for c in frame.loc[frame["promo"], "campaign_id"].unique() if c),
        "negative_daily_sales_clipped_to_0": negative, "forecasts_missing": missing,
        "overall": overall, "promo_days": promo, "promo_gap_closed": gap_closed(promo),
        "shelfwise": info, "statsforecast_seconds": peer_seconds,
    }
    if stores:
        out["stores"] = stores
    return out


def demo_future(ws: Any, root: Path, last: date, stores: list[str] | None) -> dict[str, Any]:
    """Shelfwise and AutoETS ZZZ on the demo's real horizon (28 days after its last sales date), against the
    planted expected demand: the one holdout that holds Black Friday week and campaigns planned inside the horizon,
    which the backtest-style holdouts above never do (a model that lost what it learnt of last November and of
    promotions passed every one of them)."""
    import pandas as pd

    from shelfwise.retail_calendar import black_friday

    history, features, categories, excluded = demo_inputs(ws, last, stores)
    print(f"  horizon after {last}: {history.groupby(KEY).ngroups} series", flush=True)
    result, info = run_shelfwise(history, features, categories, ws.settings.forecast, excluded)
    peers, peer_seconds = run_statsforecast(history, ["auto_ets_zzz"])
    truth = pd.read_parquet(root / "truth" / "future_expected.parquet")
    truth["date"] = pd.to_datetime(truth["date"])
    frame = truth.merge(shelfwise_columns(result.forecasts)[[*KEY, "date", "shelfwise"]], on=[*KEY, "date"])
    frame = frame.merge(peers, on=[*KEY, "date"], how="left")
    friday = pd.Timestamp(black_friday(last.year))
    campaign = frame["campaign_id"].notna()
    subsets = {"all_days": pd.Series(True, index=frame.index),
               "black_friday_week_without_campaign": ~campaign & (frame["date"] - friday).abs().le(
                   pd.Timedelta(days=3)),
               "campaign_days": campaign}
    out: dict[str, Any] = {"origin": str(last), "series": int(frame.groupby(KEY).ngroups),
                           "shelfwise": info, "statsforecast_seconds": peer_seconds}
    for name, rows in subsets.items():
        part = frame[rows]
        expected = float(part["expected_units"].sum())
        figures: dict[str, Any] = {"series_days": int(rows.sum()), "expected_units": expected}
        out[name] = figures
        if expected <= 0:  # e.g. --quick's one store runs no campaign inside the horizon
            continue
        for method in ("shelfwise", "auto_ets_zzz"):
            figures[method] = {"wape_vs_planted": float((part[method] - part["expected_units"]).abs().sum() / expected),
                               "forecast_over_planted": float(part[method].sum() / expected)}
        if name == "campaign_days":
            baseline = float(part["baseline_units"].sum())
            figures["planted_lift"] = expected / baseline
            figures["shelfwise_lift"] = float(part["shelfwise"].sum()) / baseline
    return out


def part_demo(args: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from shelfwise.pipelines.demo import run_demo
    from shelfwise.workspace import open_workspace

    built = None
    if args.get("workspace"):
        root = Path(args["workspace"])
        if not (root / "warehouse.duckdb").exists():
            print(f"  building the demo workspace in {root} ...", flush=True)
            started = time.perf_counter()
            run_demo(root, forecast=False)
            built = time.perf_counter() - started
        temporary = None
    else:
        temporary = Path(tempfile.mkdtemp(prefix="shelfwise-bench-"))
        root = temporary / "demo"
        print(f"  building the demo workspace in {root} ...", flush=True)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run_demo(root, forecast=False)
        built = time.perf_counter() - started
    try:
        ws = open_workspace(root)
        truth = pd.read_parquet(root / "truth" / "sales_expected.parquet")
        truth["date"] = pd.to_datetime(truth["date"])
        with ws.warehouse.connect(write=False) as con:
            last = con.execute("SELECT max(date) FROM sales").fetchone()[0]
        stores = sorted(truth["store_id"].unique())[: args["demo_stores"]] if args.get("demo_stores") else None
        out: dict[str, Any] = {"demo_build_seconds": built, "last_sales_date": str(last)}
        for name, cutoff in (("demo_holdout_last28", last - timedelta(days=HORIZON)),
                             ("demo_holdout_2026_08_31", PROMO_CUTOFF)):
            print(f"demo holdout {name} ...", flush=True)
            out[name] = demo_holdout(ws, truth, cutoff, stores)
        print("demo horizon (planted demand) ...", flush=True)
        out["demo_future_horizon"] = demo_future(ws, root, last, stores)
        return out
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


# --------------------------------------------------------------------------------------------------- (b) synthetic


def part_synthetic(args: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from shelfwise.config import ForecastSettings

    sys.path.insert(0, str(BENCH))
    from forecast_data import synthetic

    stores = args["stores"]
    products = args["series"] // stores
    started = time.perf_counter()
    data = synthetic(stores, products, horizon=HORIZON, seed=SEED)
    generated = time.perf_counter() - started
    n = stores * products
    print(f"  generated {n} series ({len(data.history):,} history rows) in {generated:.1f} s", flush=True)

    load_before = os.getloadavg()
    with MemorySampler() as sampler:
        result, info = run_shelfwise(data.history, data.features, data.categories, ForecastSettings(),
                                     sampler=sampler)
    memory = sampler.figures()
    load_after = os.getloadavg()
    wall = info["wall_seconds"]
    print(f"  shelfwise: {n} series in {wall:.1f} s ({n / wall:.1f} series/s), peak RSS "
          f"{memory['peak_rss_mb']:.0f} MB (PSS {memory['peak_pss_mb']:.0f} MB)", flush=True)

    print("  statsforecast SeasonalNaive on every series ...", flush=True)
    naive, naive_seconds = run_statsforecast(data.history, ["seasonal_naive"])
    rng = np.random.default_rng(SEED + 1)
    series = data.series[KEY]
    sample_size = min(args["ets_sample"], n)
    sample = series.iloc[np.sort(rng.choice(n, sample_size, replace=False))]
    print(f"  statsforecast AutoETS ZZZ on {sample_size} sampled series ...", flush=True)
    ets, ets_seconds = run_statsforecast(data.history.merge(sample, on=KEY), ["auto_ets_zzz"])

    frame = data.holdout.assign(scored=~data.holdout["closed"], noise_floor=data.holdout["expected"])
    frame = frame.merge(shelfwise_columns(result.forecasts), on=[*KEY, "date"], how="left")
    frame = frame.merge(naive, on=[*KEY, "date"], how="left")
    scale = series_scale(data.history, data.history["date"].max())
    methods = ["shelfwise", "seasonal_naive", "noise_floor"]
    in_sample = frame.merge(sample, on=KEY).merge(ets, on=[*KEY, "date"], how="left")
    slow = frame.merge(data.series[[*KEY, "intermittent"]], on=KEY)["intermittent"].to_numpy()
    accuracy_all = {"overall": accuracy(frame, methods, scale),
                    "promo_days": accuracy(frame, methods, scale, frame["promo"]),
                    "planted_slow_movers": accuracy(frame, methods, scale, pd.Series(slow, index=frame.index)),
                    "planted_regular": accuracy(frame, methods, scale, pd.Series(~slow, index=frame.index))}
    ets_methods = ["shelfwise", "auto_ets_zzz", "seasonal_naive", "noise_floor"]
    accuracy_sample = {"overall": accuracy(in_sample, ets_methods, scale, peers=("auto_ets_zzz",)),
                       "promo_days": accuracy(in_sample, ets_methods, scale, in_sample["promo"],
                                              peers=("auto_ets_zzz",))}
    accuracy_sample["promo_gap_closed"] = gap_closed(accuracy_sample["promo_days"])
    accuracy_all["promo_gap_closed_vs_seasonal_naive"] = gap_closed(accuracy_all["promo_days"],
                                                                    peer="seasonal_naive")

    # what the Prophet worker needs: a seeded sample of series, their history, holdout and Shelfwise's forecasts
    prophet_n = min(args["prophet_series"], n)
    chosen = series.iloc[np.sort(np.random.default_rng(SEED + 2).choice(n, prophet_n, replace=False))]
    folder = Path(args["exchange"])
    data.history.merge(chosen, on=KEY).to_parquet(folder / "prophet_history.parquet")
    data.features.merge(chosen, on=KEY).to_parquet(folder / "prophet_features.parquet")
    frame.merge(chosen, on=KEY).to_parquet(folder / "prophet_holdout.parquet")

    return {
        "series": n, "stores": stores, "products": products, "days_of_history": 730, "horizon": HORIZON,
        "seed": SEED, "generate_seconds": generated, "history_rows": len(data.history),
        "feature_rows": len(data.features),
        "planted": {"slow_movers": int(data.series["intermittent"].sum()),
                    "promoted_series": int(data.series["promoted"].sum()),
                    "series_with_promotion_in_holdout": int(frame[frame["promo"]].groupby(KEY).ngroups),
                    "promotion_series_days_in_holdout": int(frame["promo"].sum())},
        "settings": "ForecastSettings() (defaults: 3 backtest windows of 28 days, all default candidates)",
        "wall_seconds": wall, "series_per_second": n / wall, "ms_per_series": 1000 * wall / n,
        **memory, "load_average_before": load_before, "load_average_after": load_after,
        "shelfwise": info,
        "accuracy_all_series": accuracy_all,
        "auto_ets_sample": {
            "series": sample_size,
            "why": "AutoETS ZZZ costs ~0.5 s a series on this host (~20 min for 5,000 on 2 cores), so it is fit on "
                   "a seeded random sample and Shelfwise (fit on all series) is scored on the same sample",
            "auto_ets_seconds": ets_seconds["auto_ets_zzz"],
            "auto_ets_seconds_per_series": ets_seconds["auto_ets_zzz"] / sample_size,
            **accuracy_sample},
        "seasonal_naive_seconds": naive_seconds["seasonal_naive"],
    }


# --------------------------------------------------------------------------------------------------- (c) Prophet


def part_prophet(args: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
        logging.getLogger(name).propagate = False
    from prophet import Prophet

    folder = Path(args["exchange"])
    history = pd.read_parquet(folder / "prophet_history.parquet")
    features = pd.read_parquet(folder / "prophet_features.parquet")
    frame = pd.read_parquet(folder / "prophet_holdout.parquet")
    keys = history[KEY].drop_duplicates().itertuples(index=False)
    holidays_ok = True
    try:
        probe = Prophet()
        probe.add_country_holidays("BR")
    except Exception as error:  # an offline holidays lookup that fails: go on without, and say so
        holidays_ok = False
        print(f"  add_country_holidays('BR') failed ({error}); Prophet runs without holidays", flush=True)

    def fit(store: str, product: str, regressor: bool) -> pd.DataFrame:
        train = history[(history["store_id"] == store) & (history["product_id"] == product) & history["observed"]]
        train = train.rename(columns={"date": "ds", "units": "y"})[["ds", "y"]]
        model = Prophet(yearly_seasonality=True, weekly_seasonality=True, daily_seasonality=False)
        if holidays_ok:
            model.add_country_holidays("BR")
        own = features[(features["store_id"] == store) & (features["product_id"] == product)]
        own = own.rename(columns={"date": "ds"})[["ds", "discount_pct"]]
        if regressor:
            model.add_regressor("discount_pct")
            train = train.merge(own, on="ds", how="left").fillna({"discount_pct": 0})
        model.fit(train)
        future = model.make_future_dataframe(periods=HORIZON, include_history=False)
        if regressor:
            future = future.merge(own, on="ds", how="left").fillna({"discount_pct": 0})
        fc = model.predict(future)
        return pd.DataFrame({"store_id": store, "product_id": product, "date": fc["ds"],
                             "forecast": fc["yhat"].clip(lower=0), "lo": fc["yhat_lower"].clip(lower=0),
                             "hi": fc["yhat_upper"].clip(lower=0)})

    out: dict[str, Any] = {"series": 0, "add_country_holidays_BR": holidays_ok}
    keys = list(keys)
    for variant, regressor in (("prophet", False), ("prophet_discount_regressor", True)):
        parts, started = [], time.perf_counter()
        for store, product in keys:
            parts.append(fit(store, product, regressor))
        seconds = time.perf_counter() - started
        fc = pd.concat(parts, ignore_index=True).rename(
            columns={"forecast": variant, "lo": f"{variant}_lo_80", "hi": f"{variant}_hi_80"})
        frame = frame.merge(fc, on=[*KEY, "date"], how="left")
        out[variant] = {"seconds": seconds, "seconds_per_series": seconds / len(keys)}
        print(f"  {variant}: {len(keys)} series in {seconds:.1f} s", flush=True)
    out["series"] = len(keys)
    scale = series_scale(history, history["date"].max())
    methods = ["shelfwise", "prophet", "prophet_discount_regressor", "seasonal_naive", "noise_floor"]
    peers = ("prophet", "prophet_discount_regressor")
    out["accuracy"] = {"overall": accuracy(frame, methods, scale, peers=peers),
                       "promo_days": accuracy(frame, methods, scale, frame["promo"], peers=peers)}
    return out


# --------------------------------------------------------------------------------------------------- driver


def worker(argv: list[str]) -> None:
    """`_worker PART ARGS_JSON RESULT_JSON`: run one part, write its figures."""
    part, arguments, target = argv
    warnings.filterwarnings("ignore")
    run = {"demo": part_demo, "synthetic": part_synthetic, "prophet": part_prophet}[part]
    out = run(json.loads(arguments))
    Path(target).write_text(json.dumps(to_json(out), indent=2, ensure_ascii=False), encoding="utf-8")


def run_part(part: str, arguments: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run a part in a fresh subprocess (its output goes to ours); its figures, or the error."""
    target = folder / f"{part}.json"
    load = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_worker", part, json.dumps(arguments),
                           str(target)], check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0 or not target.exists():
        return {"error": f"worker {part} exited with {done.returncode}", "seconds": wall}
    out = json.loads(target.read_text(encoding="utf-8"))
    out["part_seconds"], out["load_average_at_start"] = wall, load
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on, and which source they measured."""
    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False)
        return done.stdout.rstrip()

    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    names = ("shelfwise", "pandas", "numpy", "duckdb", "statsforecast", "mlforecast", "lightgbm", "prophet",
             "cmdstanpy", "holidays", "psutil")
    sources = sorted((BENCH.parent / "src" / "shelfwise" / "forecast").glob("*.py"))
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in sources}
    return {"cpu_count": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "memory_gb": memory_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": {name: package(name) for name in names},
            "git_head": git("rev-parse", "--short", "HEAD").strip(),
            "src_uncommitted_changes": git("status", "--porcelain", "--", "src").splitlines(),
            "forecast_source_sha256": digests}


def target(value: Any, goal: str, met: bool | None, **extra: Any) -> dict[str, Any]:
    return {"value": value, "target": goal, "met": met, **extra}


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of issue 4: value, target, met (None when the part did not run)."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("demo_holdout_last28", "demo_holdout_2026_08_31"):
        holdout = report.get(name)
        if not holdout or "overall" not in holdout:
            continue
        overall = holdout["overall"]
        for metric in ("wape", "mase"):
            ours, peer = overall["shelfwise"][metric], overall["auto_ets_zzz"][metric]
            out[f"{name}_{metric}_beats_auto_ets"] = target(
                ours, f"< AutoETS ZZZ ({peer:.3f})", ours < peer, auto_ets_zzz=peer,
                noise_floor=overall["noise_floor"][metric],
                difference_ci95=overall.get("shelfwise_minus_auto_ets_zzz", {}).get(f"{metric}_diff_ci95"))
        cover = overall["shelfwise"]["coverage_80"]
        out[f"{name}_coverage_80"] = target(cover, "0.70-0.90", TARGET_COVERAGE_80[0] <= cover <= TARGET_COVERAGE_80[1],
                                            coverage_95=overall["shelfwise"]["coverage_95"])
    holdout = report.get("demo_holdout_2026_08_31")
    if holdout and "promo_gap_closed" in holdout:
        closed = holdout["promo_gap_closed"]
        promo = holdout["promo_days"]
        out["demo_2026_08_31_promo_gap_closed"] = target(
            closed, f">= {TARGET_GAP_CLOSED}", closed is not None and closed >= TARGET_GAP_CLOSED,
            wape_shelfwise=promo["shelfwise"]["wape"], wape_auto_ets_zzz=promo["auto_ets_zzz"]["wape"],
            wape_noise_floor=promo["noise_floor"]["wape"], promo_series_days=promo["days"])
    future = report.get("demo_future_horizon")
    if future and "all_days" in future:
        for name in ("all_days", "black_friday_week_without_campaign", "campaign_days"):
            if "shelfwise" not in future[name]:
                continue
            ours, peer = (future[name][m]["wape_vs_planted"] for m in ("shelfwise", "auto_ets_zzz"))
            out[f"demo_future_{name}_wape_beats_auto_ets"] = target(
                ours, f"< AutoETS ZZZ ({peer:.3f}), both against the planted demand", ours < peer,
                forecast_over_planted=future[name]["shelfwise"]["forecast_over_planted"],
                auto_ets_over_planted=future[name]["auto_ets_zzz"]["forecast_over_planted"])
    synth = next((v for k, v in report.items() if k.startswith("synthetic_") and "wall_seconds" in v), None)
    if synth:
        out["synthetic_wall_seconds"] = target(
            synth["wall_seconds"], f"< {TARGET_WALL_SECONDS} s for {synth['series']} series with backtests",
            synth["wall_seconds"] < TARGET_WALL_SECONDS, series=synth["series"])
        sample = synth["auto_ets_sample"]["overall"]
        for metric in ("wape", "mase"):
            ours, peer = sample["shelfwise"][metric], sample["auto_ets_zzz"][metric]
            out[f"synthetic_sample_{metric}_beats_auto_ets"] = target(
                ours, f"< AutoETS ZZZ ({peer:.3f})", ours < peer, series=synth["auto_ets_sample"]["series"],
                noise_floor=sample["noise_floor"][metric],
                difference_ci95=sample.get("shelfwise_minus_auto_ets_zzz", {}).get(f"{metric}_diff_ci95"))
    prophet = report.get("prophet")
    if prophet and "accuracy" in prophet and synth:
        serial = prophet["seconds_per_series_prophet_over_shelfwise_serial"]
        out["prophet_time_ratio_serial"] = target(
            serial, f">= {TARGET_PROPHET_RATIO}x (Prophet s/series, one series after another as a notebook loop runs "
            "it, over Shelfwise s/series on all cores)", serial >= TARGET_PROPHET_RATIO)
        parallel = prophet["seconds_per_series_prophet_over_shelfwise_parallel"]
        out["prophet_time_ratio_all_cores"] = target(
            parallel, f">= {TARGET_PROPHET_RATIO}x (Prophet s/series / cores, as if spread over every core, over "
            "Shelfwise s/series)", parallel >= TARGET_PROPHET_RATIO)
        overall = prophet["accuracy"]["overall"]
        for metric in ("wape", "mase"):
            ours, peer = overall["shelfwise"][metric], overall["prophet"][metric]
            out[f"prophet_{metric}_shelfwise_better"] = target(
                ours, f"< Prophet ({peer:.3f})", ours < peer, prophet=peer, series=prophet["series"],
                noise_floor=overall["noise_floor"][metric],
                difference_ci95=overall.get("shelfwise_minus_prophet", {}).get(f"{metric}_diff_ci95"))
    return out


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_accuracy(title: str, figures: dict[str, Any]) -> None:
    methods = [k for k, v in figures.items() if isinstance(v, dict) and "wape" in v]
    print(f"  {title}: {figures.get('series', 0)} series, {figures.get('days', 0):,} series-days, "
          f"volume {figures.get('volume', 0):,.0f}")
    if not methods:
        print("    (nothing to score)")
        return
    print(f"    {'method':<28} {'WAPE':>7} {'MASE':>7} {'bias':>7} {'cov80':>7} {'cov95':>7}")
    for method in methods:
        m = figures[method]
        print(f"    {method:<28} {fmt(m['wape']):>7} {fmt(m['mase']):>7} {fmt(m['bias']):>7} "
              f"{fmt(m.get('coverage_80')):>7} {fmt(m.get('coverage_95')):>7}")
    for name, diff in figures.items():
        if name.startswith("shelfwise_minus_") and diff:
            wape, mase = diff["wape_diff_ci95"], diff["mase_diff_ci95"]
            print(f"    {name}: WAPE {diff['wape_diff']:+.3f} [{wape[0]:+.3f}, {wape[1]:+.3f}], MASE "
                  f"{diff['mase_diff']:+.3f} [{mase[0]:+.3f}, {mase[1]:+.3f}] (95% series bootstrap)")


def print_summary(report: dict[str, Any]) -> None:
    print()
    for name in ("demo_holdout_last28", "demo_holdout_2026_08_31"):
        holdout = report.get(name)
        if not holdout or "overall" not in holdout:
            continue
        print(f"{name} (holdout {holdout['holdout']}; Shelfwise {holdout['shelfwise']['wall_seconds']:.0f} s, "
              f"AutoETS ZZZ {holdout['statsforecast_seconds']['auto_ets_zzz']:.0f} s)")
        print_accuracy("all days", holdout["overall"])
        print_accuracy("promotion days", holdout["promo_days"])
        print(f"    promotion-day gap to the floor closed vs AutoETS ZZZ: {fmt(holdout['promo_gap_closed'])}")
    synth = next((v for k, v in report.items() if k.startswith("synthetic_") and "wall_seconds" in v), None)
    if synth:
        print(f"synthetic: {synth['series']} series, Shelfwise {synth['wall_seconds']:.1f} s "
              f"({synth['series_per_second']:.1f} series/s, {synth['ms_per_series']:.0f} ms/series), "
              f"peak RSS {synth['peak_rss_mb']:.0f} MB, PSS {synth['peak_pss_mb']:.0f} MB, "
              f"{synth['cpu_seconds_self_and_children']:.0f} CPU s, 1-min load average during "
              f"{synth['load_average_1min_during']['mean']:.1f}; phases {synth['shelfwise']['phases_seconds']}")
        print_accuracy("all series, all days", synth["accuracy_all_series"]["overall"])
        print_accuracy("all series, promotion days", synth["accuracy_all_series"]["promo_days"])
        sample = synth["auto_ets_sample"]
        print_accuracy(f"AutoETS sample ({sample['auto_ets_seconds_per_series']:.2f} s/series), all days",
                       sample["overall"])
        print_accuracy("AutoETS sample, promotion days", sample["promo_days"])
    prophet = report.get("prophet")
    if prophet and "accuracy" in prophet:
        print(f"prophet: {prophet['prophet']['seconds_per_series']:.2f} s/series serially "
              f"({synth['series']:,} series ≈ {prophet['extrapolated_seconds_all_series_serial']:.0f} s, "
              f"{prophet['extrapolated_seconds_all_series_parallel']:.0f} s on {os.cpu_count()} cores); Shelfwise is "
              f"{prophet['seconds_per_series_prophet_over_shelfwise_serial']:.1f}x faster than Prophet serially, "
              f"{prophet['seconds_per_series_prophet_over_shelfwise_parallel']:.1f}x than Prophet on every core, "
              f"{prophet['equal_work_ratio_all_cores']:.1f}x than Prophet doing the same work (forecast + "
              f"{prophet['equal_work_fits_per_series'] - 1} backtest windows) on every core")
        print_accuracy("Prophet series, all days", prophet["accuracy"]["overall"])
    print()
    for name, check in report["targets"].items():
        mark = {True: "MET ", False: "MISS", None: "n/a "}[check["met"]]
        ci = check.get("difference_ci95")
        shown = f"; difference 95% CI [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
        print(f"  [{mark}] {name}: {fmt(check['value'])} (target {check['target']}){shown}")


def main() -> None:
    if sys.argv[1:2] == ["_worker"]:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=5000, help="synthetic series (a multiple of --stores)")
    parser.add_argument("--stores", type=int, default=20, help="stores of the synthetic chain")
    parser.add_argument("--ets-sample", type=int, default=500, help="synthetic series AutoETS ZZZ is fit on")
    parser.add_argument("--prophet-series", type=int, default=200,
                        help="synthetic series Prophet is fit on (50 give an accuracy interval too wide to call)")
    parser.add_argument("--demo-stores", type=int, default=0, help="restrict the demo to its first N stores (0: all)")
    parser.add_argument("--parts", default="demo,synthetic,prophet", help="which parts to run (comma separated)")
    parser.add_argument("--workspace", help="demo workspace to use (built there if missing); default: a temp one")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 series, 1 demo store, 50 AutoETS and 5 Prophet series")
    parser.add_argument("--out", type=Path, help="JSON file to write (default bench/results/forecast.json)")
    args = parser.parse_args()
    if args.quick:
        args.series, args.stores, args.ets_sample, args.prophet_series = 200, 5, 50, 5
        args.demo_stores = args.demo_stores or 1
    out_path = args.out or (QUICK_RESULTS if args.quick else RESULTS)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if "prophet" in parts and "synthetic" not in parts:
        parser.error("the prophet part compares with the synthetic run: add 'synthetic' to --parts")
    series = args.series - args.series % args.stores

    started = time.perf_counter()
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; figures will be noisy")
    report: dict[str, Any] = {
        "command": "python bench/forecast.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "method": "each part in a fresh subprocess of this script; contenders fit on the same frames; WAPE over "
                  "scored series-days (store open, item in stock), MASE = per series mean |error| over the "
                  "in-sample mean |y_t - y_(t-7)| of observed history, averaged over series; statsforecast and "
                  "Prophet forecasts clipped at 0; noise floor = planted mean demand as the forecast",
    }
    exchange = Path(tempfile.mkdtemp(prefix="shelfwise-bench-forecast-"))
    try:
        if "demo" in parts:
            print("(a) demo chain ...", flush=True)
            demo = run_part("demo", {"workspace": args.workspace, "demo_stores": args.demo_stores}, exchange)
            if "error" in demo:
                report["demo_error"] = demo
            else:
                for name in ("demo_holdout_last28", "demo_holdout_2026_08_31", "demo_future_horizon"):
                    report[name] = demo.pop(name)
                report["demo"] = demo
        if "synthetic" in parts:
            print(f"(b) {series} synthetic series ...", flush=True)
            report[f"synthetic_{series}"] = run_part(
                "synthetic", {"series": series, "stores": args.stores, "ets_sample": args.ets_sample,
                              "prophet_series": args.prophet_series, "exchange": str(exchange)}, exchange)
        synth = report.get(f"synthetic_{series}", {})
        if "prophet" in parts and "wall_seconds" in synth:
            print(f"(c) Prophet on {args.prophet_series} series ...", flush=True)
            prophet = run_part("prophet", {"exchange": str(exchange)}, exchange)
            if "prophet" in prophet:
                ours = synth["wall_seconds"] / synth["series"]
                theirs = prophet["prophet"]["seconds_per_series"]
                cores = os.cpu_count() or 1
                prophet["shelfwise_seconds_per_series"] = ours
                prophet["extrapolated_seconds_all_series_serial"] = theirs * synth["series"]
                prophet["extrapolated_seconds_all_series_parallel"] = theirs * synth["series"] / cores
                prophet["seconds_per_series_prophet_over_shelfwise_serial"] = theirs / ours
                prophet["seconds_per_series_prophet_over_shelfwise_parallel"] = theirs / cores / ours
                # Shelfwise's time includes its backtest; Prophet's is one fit. The same work for Prophet -- one fit
                # per backtest window and one for the forecast -- is derived, not measured (fits on 28-84 days less
                # history cost about as much)
                from shelfwise.config import ForecastSettings

                fits = ForecastSettings().windows + 1
                prophet["equal_work_fits_per_series"] = fits
                prophet["equal_work_ratio_all_cores"] = theirs * fits / cores / ours
                prophet["ratio_note"] = (f"Prophet fits one series at a time on one core; the parallel ratio divides "
                                         f"its time by the {cores} cores Shelfwise uses")
            report["prophet"] = prophet
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    report["total_seconds"] = time.perf_counter() - started
    report["targets"] = targets(report)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(report)
    print(f"\ntotal {report['total_seconds'] / 60:.1f} min; written {out_path}")


if __name__ == "__main__":
    main()
