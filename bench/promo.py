"""Benchmark Shelfwise's promotion lift against the before/after comparison and the noise floor (planted truth).

    python bench/promo.py [--seeds 1] [--workdir DIR] [--out FILE]

One seed (7) takes about 25 s on two cores (17 s of it building the demo); `--seeds N` repeats on demo seeds
7, 8, ... and adds the pooled figures, since one demo holds only ~21 measurable campaigns and ~236 cells and their
medians are noisy. Nothing is downloaded. Writes `bench/results/promo.json` (or `--out`).

What it measures, every method on the same cells, in the same run:

data       `run_demo(workspace, seed=s, forecast=False)` (in a fresh subprocess) generates and loads the seeded
           demo chain; its truth folder plants every campaign's effect: `promo_cells.parquet` (one row per
           campaign x store x product: expected units with and without the promotion over the window) and
           `promo_campaigns.parquet` (occasion: black_friday, natal, tema, sobreposta, planejada).
shelfwise  `measure_campaigns(con)` on the read-only warehouse, in another fresh subprocess: wall time of the call,
           RSS before it, peak RSS sampled (psutil, every 20 ms) during it and the process's `ru_maxrss`.
           Only cells and campaigns it calls 'ok' are scored; the truth's cells and campaigns it leaves out are
           counted with the reason from its `status` column.
naive      The pre/post comparison an analyst would make: a cell's baseline is its mean daily units over the 28
           days before the start (from `sales`; a day with no row counts as zero, a day the whole chain sold
           nothing -- closed on 25 Dec and 1 Jan -- is left out of the mean) x the campaign's days.
oracle     Knows each cell's planted expected baseline: actual / expected baseline - 1. Its error is the sales'
           own noise over the window, the floor no method can beat on one cell.

Shelfwise's cell figure is its reported `lift_pct`; where the table also has `measured_lift_pct` (the cell's own
actual / baseline before any pooling across sibling cells), that is scored beside it as `shelfwise_unpooled`
(no interval, not a target). The sha256 of lift.py, baseline.py, panel.py and intervals.py as each measuring
process imported them is recorded per seed, and a run whose seeds measured different code says so.

Truth of a cell = 100 x (expected promo units / expected baseline units - 1) over the window (the planted lift,
and where an overlapping campaign wins some days, theirs on those days). A campaign's truth, oracle and naive lift
are the same ratios of sums over its measured cells; Shelfwise's is its campaign row. Actual units are the
`sales` table summed per day (clipped at zero, as Shelfwise reads it) over the window -- one figure for all
three methods (checked against Shelfwise's `actual_units`). Error = |estimate - truth| in lift points.

Figures, for cells and campaigns: median / mean / RMS absolute error of each method and their ratios to the
oracle's; 90% interval coverage of the truth (with which side the misses fall) and median width; the same for
the Black Friday and Christmas campaigns (where a before/after comparison reads the season as the promotion);
the post-promotion dip and cannibalisation units Shelfwise estimates against the truth's (campaign totals,
correlation, ratio of totals). Ratios carry a 90% bootstrap interval resampling campaigns (a campaign's cells
share its days, so they are not independent). Targets of the issue:

- campaign-level median |error| <= 1.25 x the oracle's, and clearly below the naive one: the 90% bootstrap
  interval of (naive - Shelfwise) median campaign |error| lies above zero (a one-sided 95% test);
- cell-level median |error| <= 1.1 x the oracle's;
- the 90% intervals cover the truth for 80-97% of cells and of campaigns.

With `--seeds N` the targets are judged on the pooled figures (every seed's are printed and written too).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness import to_json

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "promo.json"
FIRST_SEED = 7
BEFORE_DAYS = 28
PEAKS = ("black_friday", "natal")
METHODS = ("shelfwise", "naive", "oracle")
KEY = ["campaign_id", "store_id", "product_id"]
RESAMPLES = 2000
TARGET_CAMPAIGN_RATIO = 1.25
TARGET_CELL_RATIO = 1.1
TARGET_COVERAGE = (0.80, 0.97)


# --------------------------------------------------------------------------------------------------- workers


class RssSampler:
    """Peak RSS of this process while the block runs, sampled in a thread."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.before = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def part_demo(args: dict[str, Any]) -> dict[str, Any]:
    from shelfwise.pipelines.demo import run_demo

    started = time.perf_counter()
    report = run_demo(Path(args["workspace"]), seed=args["seed"], forecast=False)
    return {"truth_dir": str(report.truth_dir), "demo_seconds": time.perf_counter() - started}


def part_measure(args: dict[str, Any]) -> dict[str, Any]:
    import resource

    import duckdb

    from shelfwise.promo import baseline, intervals, lift, panel

    source = {Path(m.__file__).name: hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest()[:12]
              for m in (lift, baseline, panel, intervals)}
    con = duckdb.connect(args["warehouse"], read_only=True)
    load_before = os.getloadavg()[0]
    with RssSampler() as rss:
        started = time.perf_counter()
        result = lift.measure_campaigns(con)
        seconds = time.perf_counter() - started
    con.close()
    result.table.to_parquet(args["table"], index=False)
    mb = 2**20
    return {"wall_seconds": seconds, "rss_before_mb": rss.before / mb, "peak_rss_mb": rss.peak / mb,
            "ru_maxrss_process_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load_average_1min_before_and_after": [load_before, os.getloadavg()[0]],
            "counts": result.counts, "calibration": result.calibration, "source_sha256": source}


def worker(argv: list[str]) -> None:
    """`_worker PART ARGS_JSON RESULT_JSON`: run one part, write its figures."""
    part, arguments, target = argv
    warnings.filterwarnings("ignore")
    run = {"demo": part_demo, "measure": part_measure}[part]
    out = run(json.loads(arguments))
    Path(target).write_text(json.dumps(to_json(out), indent=2, ensure_ascii=False), encoding="utf-8")


def run_part(part: str, arguments: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run a part in a fresh subprocess; its figures (a failure stops the benchmark)."""
    target = folder / f"{part}.json"
    target.unlink(missing_ok=True)
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "_worker", part, json.dumps(arguments),
                    str(target)], check=True)
    return json.loads(target.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------- the three methods

WINDOWS_SQL = """
WITH daily AS (
    SELECT date, store_id, product_id, greatest(sum(units), 0) AS units FROM sales GROUP BY ALL
), trading AS (SELECT DISTINCT date FROM sales),
windows AS (
    SELECT DISTINCT campaign_id, store_id, product_id, CAST(start AS DATE) AS first, CAST("end" AS DATE) AS last
    FROM bench_cells
), before_days AS (
    SELECT w.first, count(t.date) AS before_days
    FROM (SELECT DISTINCT first FROM windows) w
    LEFT JOIN trading t ON t.date >= w.first - CAST($days AS INTEGER) AND t.date < w.first
    GROUP BY ALL
)
SELECT w.campaign_id, w.store_id, w.product_id, w.last - w.first + 1 AS days,
       coalesce(sum(d.units) FILTER (WHERE d.date >= w.first), 0) AS actual,
       coalesce(sum(d.units) FILTER (WHERE d.date < w.first), 0) AS before_units,
       any_value(b.before_days) AS before_days
FROM windows w
JOIN before_days b USING (first)
LEFT JOIN daily d ON d.store_id = w.store_id AND d.product_id = w.product_id
 AND d.date >= w.first - CAST($days AS INTEGER) AND d.date <= w.last
GROUP BY ALL
"""


def window_units(con: Any, cells: Any) -> Any:
    """Per cell: actual units in the window, units and trading days in the 28 days before it, window days."""
    con.register("bench_cells", cells[[*KEY, "start", "end"]])
    try:
        return con.execute(WINDOWS_SQL, {"days": BEFORE_DAYS}).df()
    finally:
        con.unregister("bench_cells")


def cell_frame(con: Any, table: Any, truth_cells: Any, truth_campaigns: Any, seed: int) -> Any:
    """Every cell Shelfwise measured ('ok'), with the truth and the three methods' lifts (percent)."""
    import numpy as np

    ours = table[(table["level"] == "cell") & (table["status"] == "ok")]
    if "measured_lift_pct" not in ours.columns:
        ours = ours.assign(measured_lift_pct=float("nan"))
    ours = ours[[*KEY, "lift_pct", "lift_low", "lift_high", "measured_lift_pct", "actual_units", "baseline_units"]]
    cells = truth_cells.merge(ours, on=KEY, how="inner")
    cells = cells.merge(window_units(con, cells), on=KEY, how="left")
    naive_base = np.where(cells["before_days"] > 0,
                          cells["before_units"] / cells["before_days"].clip(lower=1) * cells["days"], np.nan)
    base = cells["expected_baseline_units"]
    occasion = truth_campaigns.set_index("campaign_id")["occasion"]
    return cells.assign(
        seed=seed, occasion=cells["campaign_id"].map(occasion),
        truth=100 * (cells["expected_promo_units"] / base - 1), shelfwise=cells["lift_pct"],
        shelfwise_unpooled=cells["measured_lift_pct"],
        low=cells["lift_low"], high=cells["lift_high"], oracle=100 * (cells["actual"] / base - 1),
        naive_baseline=naive_base,
        naive=np.where(naive_base > 0, 100 * (cells["actual"] / np.where(naive_base > 0, naive_base, 1) - 1), np.nan),
    )


def campaign_frame(cells: Any, table: Any, truth_campaigns: Any) -> Any:
    """Every campaign Shelfwise measured ('ok'): the ratios of sums over its measured cells, and its own row."""
    sums = cells.groupby("campaign_id").agg(
        seed=("seed", "first"), cells=("truth", "size"), actual=("actual", "sum"),
        expected_baseline=("expected_baseline_units", "sum"), expected_promo=("expected_promo_units", "sum"),
        naive_baseline=("naive_baseline", lambda v: v.sum(min_count=len(v))),
        truth_dip=("post_dip_units", "sum"), actual_shelfwise=("actual_units", "sum"))
    ours = table[(table["level"] == "campaign") & (table["status"] == "ok")].set_index("campaign_id")
    truth = truth_campaigns.set_index("campaign_id")
    frame = sums.join(ours[["lift_pct", "lift_low", "lift_high", "post_promo_dip_units", "cannibalised_units",
                            "baseline_units"]], how="inner")
    frame = frame.join(truth[["name", "occasion", "true_lift_pct", "cannibalised_units"]], rsuffix="_truth")
    return frame.assign(
        truth=100 * (frame["expected_promo"] / frame["expected_baseline"] - 1), shelfwise=frame["lift_pct"],
        low=frame["lift_low"], high=frame["lift_high"], oracle=100 * (frame["actual"] / frame["expected_baseline"] - 1),
        naive=100 * (frame["actual"] / frame["naive_baseline"] - 1),
        shelfwise_dip=frame["post_promo_dip_units"], shelfwise_cannibalised=frame["cannibalised_units"],
        truth_cannibalised=frame["cannibalised_units_truth"],
    ).reset_index()


# --------------------------------------------------------------------------------------------------- scoring


def errors(frame: Any) -> dict[str, Any]:
    """|estimate - truth| per method (NaN where a method has no estimate)."""
    return {m: (frame[m] - frame["truth"]).abs().to_numpy(dtype=float) for m in METHODS}


def summary(values: Any) -> dict[str, Any]:
    import numpy as np

    v = values[np.isfinite(values)]
    if not len(v):
        return {"n": 0, "median_abs_error": None, "mean_abs_error": None, "rms_error": None}
    return {"n": len(v), "median_abs_error": float(np.median(v)), "mean_abs_error": float(v.mean()),
            "rms_error": float(np.sqrt((v**2).mean()))}


def interval(frame: Any) -> dict[str, Any]:
    """Coverage of the truth by Shelfwise's 90% interval, which side the misses fall, and the widths."""
    inside = (frame["low"] <= frame["truth"]) & (frame["truth"] <= frame["high"])
    width = frame["high"] - frame["low"]
    return {"n": len(frame), "coverage": float(inside.mean()) if len(frame) else None,
            "truth_below_interval": int((frame["truth"] < frame["low"]).sum()),
            "truth_above_interval": int((frame["truth"] > frame["high"]).sum()),
            "median_width": float(width.median()) if len(frame) else None,
            "mean_width": float(width.mean()) if len(frame) else None}


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def bootstrap(frame: Any, seed: int = 0) -> dict[str, list[float]]:
    """90% intervals of the median-error ratios and of (naive - Shelfwise), resampling whole campaigns."""
    import numpy as np

    err = errors(frame)
    groups = list(frame.groupby(["seed", "campaign_id"]).indices.values())
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {"shelfwise_over_oracle": [], "naive_over_oracle": [],
                                     "naive_minus_shelfwise": []}
    for _ in range(RESAMPLES):
        rows = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        med = {m: np.nanmedian(err[m][rows]) for m in METHODS}
        draws["shelfwise_over_oracle"].append(med["shelfwise"] / med["oracle"])
        draws["naive_over_oracle"].append(med["naive"] / med["oracle"])
        draws["naive_minus_shelfwise"].append(med["naive"] - med["shelfwise"])
    return {k: [float(np.nanpercentile(v, 5)), float(np.nanpercentile(v, 95))] for k, v in draws.items()}


def accuracy(frame: Any, *, resample: bool = True) -> dict[str, Any]:
    """Error of each method, their ratios to the oracle's, and Shelfwise's interval coverage."""
    err = errors(frame)
    out: dict[str, Any] = {"n": len(frame), "campaigns": int(frame.groupby(["seed", "campaign_id"]).ngroups)}
    for m in METHODS:
        out[m] = summary(err[m]) | {"bias": float((frame[m] - frame["truth"]).mean()) if len(frame) else None}
    if "shelfwise_unpooled" in frame and frame["shelfwise_unpooled"].notna().any():
        unpooled = (frame["shelfwise_unpooled"] - frame["truth"]).abs().to_numpy(dtype=float)
        out["shelfwise_unpooled"] = summary(unpooled) | {
            "bias": float((frame["shelfwise_unpooled"] - frame["truth"]).mean())}
        out["shelfwise_unpooled_over_oracle"] = {
            stat: ratio(out["shelfwise_unpooled"][stat], out["oracle"][stat])
            for stat in ("median_abs_error", "mean_abs_error", "rms_error")}
    out["naive_undefined"] = int(frame["naive"].isna().sum())
    for m in ("shelfwise", "naive"):
        out[f"{m}_over_oracle"] = {stat: ratio(out[m][stat], out["oracle"][stat])
                                   for stat in ("median_abs_error", "mean_abs_error", "rms_error")}
    out["naive_over_shelfwise_median"] = ratio(out["naive"]["median_abs_error"], out["shelfwise"]["median_abs_error"])
    out["interval_90"] = interval(frame)
    if resample and len(frame) >= 5:
        out["bootstrap_90"] = bootstrap(frame)
    return out


def side_effects(campaigns: Any) -> dict[str, Any]:
    """Post-promotion dip and cannibalised units: Shelfwise's campaign figures against the truth's."""
    import numpy as np

    out = {}
    for name, ours, truth in (("post_promo_dip_units", "shelfwise_dip", "truth_dip"),
                              ("cannibalised_units", "shelfwise_cannibalised", "truth_cannibalised")):
        a, b = campaigns[ours].to_numpy(dtype=float), campaigns[truth].to_numpy(dtype=float)
        corr = float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() > 0 and b.std() > 0 else None
        out[name] = {"campaigns": len(a), "shelfwise_total": float(a.sum()), "truth_total": float(b.sum()),
                     "total_ratio": ratio(float(a.sum()), float(b.sum())), "correlation": corr,
                     "median_abs_error": float(np.median(np.abs(a - b))) if len(a) else None}
    return out


def figures(cells: Any, campaigns: Any) -> dict[str, Any]:
    peak_cells, peak_campaigns = cells[cells["occasion"].isin(PEAKS)], campaigns[campaigns["occasion"].isin(PEAKS)]
    return {"cells": accuracy(cells), "campaigns": accuracy(campaigns),
            "black_friday_and_christmas": {"cells": accuracy(peak_cells, resample=False),
                                           "campaigns": accuracy(peak_campaigns, resample=False),
                                           "campaign_ids": [f"{s}:{c}" for s, c in zip(
                                               peak_campaigns["seed"], peak_campaigns["campaign_id"], strict=True)]},
            "side_effects": side_effects(campaigns)}


def left_out(table: Any, truth_cells: Any, truth_campaigns: Any, cells: Any) -> dict[str, Any]:
    """The truth's cells and campaigns not scored, counted by the reason Shelfwise's status column gives."""
    campaign_status = table[table["level"] == "campaign"].set_index("campaign_id")["status"]
    cell_status = table[table["level"] == "cell"].set_index(KEY)["status"]
    scored = set(map(tuple, cells[KEY].to_numpy()))
    reasons = []
    for key in map(tuple, truth_cells[KEY].to_numpy()):
        status = campaign_status.get(key[0], "campaign not in the warehouse")
        if key in scored:
            continue
        if status != "ok":
            reasons.append(f"campaign {status}")
        else:
            reasons.append(f"cell {cell_status.get(key, 'not listed (product never sold in that store)')}")
    campaign_reasons = [campaign_status.get(c, "not in the warehouse") for c in truth_campaigns["campaign_id"]]
    others = campaign_status[~campaign_status.index.isin(truth_campaigns["campaign_id"])]
    ours_ok = table[(table["level"] == "cell") & (table["status"] == "ok")]
    unplanted = ~ours_ok.set_index(KEY).index.isin(truth_cells.set_index(KEY).index)
    return {"truth_cells": len(truth_cells), "cells_scored": len(cells),
            "cells_left_out": {r: reasons.count(r) for r in sorted(set(reasons))},
            "truth_campaigns": len(truth_campaigns),
            "campaigns_scored": sum(r == "ok" for r in campaign_reasons),
            "campaigns_left_out": {r: campaign_reasons.count(r) for r in sorted(set(campaign_reasons)) if r != "ok"},
            "warehouse_campaigns_without_truth": {str(k): int(v) for k, v in others.value_counts().items()},
            "measured_cells_without_truth": int(unplanted.sum())}


def campaign_rows(campaigns: Any) -> list[dict[str, Any]]:
    columns = ["seed", "campaign_id", "name", "occasion", "cells", "truth", "shelfwise", "low", "high", "naive",
               "oracle", "true_lift_pct", "shelfwise_dip", "truth_dip", "shelfwise_cannibalised",
               "truth_cannibalised"]
    return campaigns[columns].rename(columns={"true_lift_pct": "truth_all_cells"}).to_dict("records")


# --------------------------------------------------------------------------------------------------- one seed


def demo_workspace(folder: Path, seed: int, exchange: Path) -> tuple[Path, float | None]:
    """The seed's demo workspace (reused when `folder` already holds one); its truth folder and build time."""
    if (folder / "warehouse.duckdb").exists() and (folder / "truth" / "promo_cells.parquet").exists():
        print(f"  seed {seed}: reusing the demo in {folder}", flush=True)
        return folder / "truth", None
    print(f"  seed {seed}: generating the demo chain ...", flush=True)
    built = run_part("demo", {"workspace": str(folder), "seed": seed}, exchange)
    return Path(built["truth_dir"]), built["demo_seconds"]


def run_seed(seed: int, workdir: Path, exchange: Path) -> tuple[dict[str, Any], Any, Any]:
    """Build the seed's demo, measure it, score the three methods: its figures, cell and campaign frames."""
    import duckdb
    import pandas as pd

    folder = workdir / f"seed-{seed}"
    truth_dir, demo_seconds = demo_workspace(folder, seed, exchange)
    print(f"  seed {seed}: measure_campaigns ...", flush=True)
    table_path = exchange / f"lift-{seed}.parquet"
    measured = run_part("measure", {"warehouse": str(folder / "warehouse.duckdb"), "table": str(table_path)},
                        exchange)
    table = pd.read_parquet(table_path)
    truth_cells = pd.read_parquet(truth_dir / "promo_cells.parquet")
    truth_campaigns = pd.read_parquet(truth_dir / "promo_campaigns.parquet")
    con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        cells = cell_frame(con, table, truth_cells, truth_campaigns, seed)
    finally:
        con.close()
    campaigns = campaign_frame(cells, table, truth_campaigns)
    report = figures(cells, campaigns) | {
        "seed": seed, "left_out": left_out(table, truth_cells, truth_campaigns, cells),
        "actual_units_max_abs_difference_from_shelfwise": float((cells["actual"] - cells["actual_units"]).abs().max()),
        "cells_with_stock_outs": int((cells["censored_days"] > 0).sum()),
        "cells_sharing_days_with_another_campaign": int((cells["days_won_by_other_campaign"] > 0).sum()),
        "performance": {"demo_seconds": demo_seconds, "measure_campaigns_wall_seconds": measured["wall_seconds"],
                        "rss_before_mb": measured["rss_before_mb"], "peak_rss_mb": measured["peak_rss_mb"],
                        "ru_maxrss_process_mb": measured["ru_maxrss_process_mb"],
                        "load_average_1min_before_and_after": measured["load_average_1min_before_and_after"]},
        "shelfwise_counts": measured["counts"], "shelfwise_calibration": measured["calibration"],
        "measured_source_sha256": measured["source_sha256"],
        "campaign_rows": campaign_rows(campaigns),
    }
    return report, cells, campaigns


# --------------------------------------------------------------------------------------------------- targets


def target(value: Any, goal: str, met: bool | None, **extra: Any) -> dict[str, Any]:
    return {"value": value, "target": goal, "met": met, **extra}


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets on one figure set (a seed's or the pooled)."""
    cells, camps = report["cells"], report["campaigns"]
    boot = camps.get("bootstrap_90", {})
    ratio_camp = camps["shelfwise_over_oracle"]["median_abs_error"]
    ours, naive = camps["shelfwise"]["median_abs_error"], camps["naive"]["median_abs_error"]
    gap = boot.get("naive_minus_shelfwise")
    ratio_cell = cells["shelfwise_over_oracle"]["median_abs_error"]
    low, high = TARGET_COVERAGE
    out = {
        "campaign_median_error_vs_oracle": target(
            ratio_camp, f"<= {TARGET_CAMPAIGN_RATIO} x oracle",
            ratio_camp is not None and ratio_camp <= TARGET_CAMPAIGN_RATIO,
            shelfwise=ours, oracle=camps["oracle"]["median_abs_error"], ci90=boot.get("shelfwise_over_oracle")),
        "campaign_median_error_below_naive": target(
            ours, f"clearly < naive ({naive:.1f}): 90% bootstrap interval of naive - Shelfwise above 0",
            gap is not None and ours < naive and gap[0] > 0, naive=naive, naive_minus_shelfwise_ci90=gap),
        "cell_median_error_vs_oracle": target(
            ratio_cell, f"<= {TARGET_CELL_RATIO} x oracle", ratio_cell is not None and ratio_cell <= TARGET_CELL_RATIO,
            shelfwise=cells["shelfwise"]["median_abs_error"], oracle=cells["oracle"]["median_abs_error"],
            ci90=cells.get("bootstrap_90", {}).get("shelfwise_over_oracle")),
    }
    for level, part in (("cell", cells), ("campaign", camps)):
        cover = part["interval_90"]["coverage"]
        out[f"{level}_interval_90_coverage"] = target(
            cover, f"{low:.2f}-{high:.2f}", cover is not None and low <= cover <= high,
            median_width=part["interval_90"]["median_width"])
    return out


# --------------------------------------------------------------------------------------------------- printing


def fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_campaigns(rows: list[dict[str, Any]]) -> None:
    print(f"    {'campaign':<46} {'occasion':<12} {'cells':>5} {'truth':>6} {'Shelfwise [90%]':>24} "
          f"{'naive':>7} {'oracle':>7}  {'|S-T|':>5} {'|N-T|':>5} {'|O-T|':>5}")
    for r in rows:
        inside = " " if r["low"] <= r["truth"] <= r["high"] else "*"
        print(f"    {r['campaign_id'] + ' ' + r['name']:<46.46} {r['occasion']:<12} {r['cells']:>5} "
              f"{r['truth']:>6.1f} {r['shelfwise']:>7.1f} [{r['low']:>6.1f}, {r['high']:>6.1f}]{inside} "
              f"{fmt(r['naive']):>7} {r['oracle']:>7.1f}  {abs(r['shelfwise'] - r['truth']):>5.1f} "
              f"{fmt(abs(r['naive'] - r['truth'])):>5} {abs(r['oracle'] - r['truth']):>5.1f}")
    print("    (* the truth is outside Shelfwise's 90% interval; lifts in %, errors in lift points)")


def print_accuracy(title: str, part: dict[str, Any]) -> None:
    iv = part["interval_90"]
    of = f" ({part['campaigns']} campaigns)" if part["campaigns"] != part["n"] else ""
    print(f"    {title}: {part['n']}{of}; 90% interval covers {fmt(iv['coverage'], 3)} "
          f"(truth below {iv['truth_below_interval']}, above {iv['truth_above_interval']}), median width "
          f"{fmt(iv['median_width'])} points")
    print(f"      {'method':<18} {'median|err|':>11} {'mean|err|':>10} {'RMS':>7} {'bias':>7}   "
          f"{'/oracle: median':>15} {'mean':>6} {'RMS':>6}")
    for m in [*METHODS[:1], *(["shelfwise_unpooled"] if "shelfwise_unpooled" in part else []), *METHODS[1:]]:
        s = part[m]
        rel = part.get(f"{m}_over_oracle", {})
        print(f"      {m:<18} {fmt(s['median_abs_error']):>11} {fmt(s['mean_abs_error']):>10} "
              f"{fmt(s['rms_error']):>7} {fmt(s['bias']):>7}   {fmt(rel.get('median_abs_error'), 2):>15} "
              f"{fmt(rel.get('mean_abs_error'), 2):>6} {fmt(rel.get('rms_error'), 2):>6}")
    boot = part.get("bootstrap_90")
    if boot:
        a, b, c = boot["shelfwise_over_oracle"], boot["naive_over_oracle"], boot["naive_minus_shelfwise"]
        print(f"      90% bootstrap (campaigns resampled): Shelfwise/oracle median [{a[0]:.2f}, {a[1]:.2f}], "
              f"naive/oracle [{b[0]:.2f}, {b[1]:.2f}], naive - Shelfwise median [{c[0]:+.1f}, {c[1]:+.1f}] points")
    if part["naive_undefined"]:
        print(f"      naive undefined (no units in the 28 days before) on {part['naive_undefined']}")


def print_figures(title: str, report: dict[str, Any]) -> None:
    print(f"\n  {title}")
    print_accuracy("cells", report["cells"])
    print_accuracy("campaigns", report["campaigns"])
    peaks = report["black_friday_and_christmas"]
    print(f"    Black Friday + Christmas ({', '.join(peaks['campaign_ids'])}):")
    print_accuracy("  cells", peaks["cells"])
    print_accuracy("  campaigns", peaks["campaigns"])
    for name, s in report["side_effects"].items():
        print(f"    {name}: Shelfwise {s['shelfwise_total']:,.0f} vs truth {s['truth_total']:,.0f} over "
              f"{s['campaigns']} campaigns (ratio {fmt(s['total_ratio'], 2)}, correlation {fmt(s['correlation'], 2)}, "
              f"median |error| {fmt(s['median_abs_error'], 0)} units a campaign)")


def print_seed(report: dict[str, Any]) -> None:
    out, perf = report["left_out"], report["performance"]
    load = perf["load_average_1min_before_and_after"]
    print(f"\nseed {report['seed']}: scored {out['cells_scored']} of the truth's {out['truth_cells']} cells "
          f"(left out: {out['cells_left_out']}) and {out['campaigns_scored']} of its {out['truth_campaigns']} "
          f"campaigns (left out: {out['campaigns_left_out']}); warehouse campaigns without truth: "
          f"{out['warehouse_campaigns_without_truth']}")
    print(f"  measure_campaigns {perf['measure_campaigns_wall_seconds']:.1f} s, peak RSS {perf['peak_rss_mb']:.0f} MB "
          f"(before the call {perf['rss_before_mb']:.0f} MB; process ru_maxrss {perf['ru_maxrss_process_mb']:.0f} MB); "
          f"load average {load[0]:.1f} -> {load[1]:.1f}; demo build {fmt(perf['demo_seconds'])} s")
    print(f"  {report['cells_with_stock_outs']} scored cells had stock-out days, "
          f"{report['cells_sharing_days_with_another_campaign']} shared days with another campaign")
    print_campaigns(report["campaign_rows"])
    print_figures(f"seed {report['seed']} figures", report)


def print_targets(title: str, checks: dict[str, dict[str, Any]]) -> None:
    print(f"\n  targets, {title}:")
    for name, check in checks.items():
        mark = {True: "MET ", False: "MISS", None: "n/a "}[check["met"]]
        ci = check.get("ci90") or check.get("naive_minus_shelfwise_ci90")
        shown = f"; 90% CI [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        print(f"    [{mark}] {name}: {fmt(check['value'], 3)} (target {check['target']}){shown}")


# --------------------------------------------------------------------------------------------------- driver


def machine() -> dict[str, Any]:
    """What the figures were measured on, and which source they measured."""
    from shelfwise.runs import library_versions

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False)
        return done.stdout.rstrip()

    extra = {}
    for name in ("scipy", "holidays", "psutil"):
        try:
            extra[name] = version(name)
        except PackageNotFoundError:
            extra[name] = "not installed"
    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    sources = sorted((BENCH.parent / "src" / "shelfwise" / "promo").glob("*.py"))
    return {"cpu_count": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "memory_gb": memory_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": library_versions() | extra, "git_head": git("rev-parse", "--short", "HEAD"),
            "src_uncommitted_changes": git("status", "--porcelain", "--", "src").splitlines(),
            "promo_source_sha256": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in sources}}


def pooled(reports: list[dict[str, Any]], cells: list[Any], campaigns: list[Any]) -> dict[str, Any]:
    import pandas as pd

    walls = [r["performance"]["measure_campaigns_wall_seconds"] for r in reports]
    return figures(pd.concat(cells, ignore_index=True), pd.concat(campaigns, ignore_index=True)) | {
        "seeds": [r["seed"] for r in reports],
        "measure_campaigns_wall_seconds": {"mean": sum(walls) / len(walls), "max": max(walls)},
        "peak_rss_mb_max": max(r["performance"]["peak_rss_mb"] for r in reports)}


def main() -> None:
    if sys.argv[1:2] == ["_worker"]:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help=f"demo seeds to run: {FIRST_SEED}, {FIRST_SEED + 1}, ...")
    parser.add_argument("--workdir", type=Path,
                        help="keep the demo workspaces here (seed-N/, reused when present); default: a temp folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args()
    from shelfwise.promo.lift import LiftSettings

    started = time.perf_counter()
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; timings will be noisy")
    report: dict[str, Any] = {
        "command": " ".join(["python bench/promo.py", *sys.argv[1:]]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_before": os.getloadavg(), "lift_settings": asdict(LiftSettings()),
        "method": __doc__.split("What it measures, ", 1)[1].split("Targets of the issue", 1)[0].strip(),
    }
    exchange = Path(tempfile.mkdtemp(prefix="shelfwise-bench-promo-"))
    workdir = args.workdir or exchange
    reports, cells, campaigns = [], [], []
    try:
        for seed in range(FIRST_SEED, FIRST_SEED + args.seeds):
            seed_report, seed_cells, seed_campaigns = run_seed(seed, workdir, exchange)
            seed_report["targets"] = targets(seed_report)
            reports.append(seed_report)
            cells.append(seed_cells)
            campaigns.append(seed_campaigns)
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    report["seeds"] = {str(r["seed"]): r for r in reports}
    sources = {json.dumps(r["measured_source_sha256"], sort_keys=True) for r in reports}
    report["source_changed_during_run"] = len(sources) > 1
    if len(reports) > 1:
        report["pooled"] = pooled(reports, cells, campaigns)
        report["pooled"]["targets"] = targets(report["pooled"])
    report["targets"] = report["pooled"]["targets"] if len(reports) > 1 else reports[0]["targets"]
    report["targets_judged_on"] = "pooled seeds" if len(reports) > 1 else f"seed {FIRST_SEED}"
    report["total_seconds"] = time.perf_counter() - started
    for seed_report in reports:
        print_seed(seed_report)
    if len(reports) > 1:
        print_figures(f"pooled over seeds {report['pooled']['seeds']}", report["pooled"])
    for seed_report in reports:
        print_targets(f"seed {seed_report['seed']}", seed_report["targets"])
    if len(reports) > 1:
        print_targets("pooled (judged)", report["targets"])
    print(f"\n  measured source (sha256): {', '.join(sorted(sources))}")
    if report["source_changed_during_run"]:
        print("  WARNING: lift.py / baseline.py changed between seeds; the seeds measured different code")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\ntotal {report['total_seconds']:.0f} s; written {args.out}")


if __name__ == "__main__":
    main()
