"""Choosing among the candidates by their backtest: the combination of the best two, or a clearly better model.

The models are ranked by their pooled backtest metric (MASE or WAPE); the forecast is the combination of the best
two, with blend weights fitted on the backtest separately for each kind of day (regular, promotion, holiday,
peak) and, where the backtest holds enough of them, for each of its weekdays -- a model that knows promotions
and the calendar (the global one) should carry a promotion day or Black Friday, while on regular days the
statistical model's level is as good or better. A single model replaces the
combination for a series only when its backtest metric is lower by `selection_margin` -- three windows are too
noisy to trust a per-series winner by less (plain per-series arg-min lost to the combination in the design
study) -- and never on a day of promotion or calendar event it cannot see (`features.day_regime`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfwise.config import ForecastSettings
from shelfwise.forecast.candidates import GLOBAL_MODEL, INTERMITTENT_MODELS, LEVELS, NATIVE_INTERVALS
from shelfwise.forecast.features import REGIMES, regime_of
from shelfwise.forecast.metrics import KEY, backtest_metrics, seasonal_scale

COMBINATION = "combination"
CHOSEN = "automl"
"""`forecast_backtest.model` of the forecast the run chose per series (what `forecasts` holds)."""
WEEKDAY_MARK = "@"
"""`regular@5`: the blend weights of a kind of day on one weekday (0 = Monday), where the backtest has enough of it."""
MIN_REGIME_DAYS = 100
"""Scored days a kind of day needs in the backtest before it gets combination weights of its own."""
BACKTEST_COLUMNS = ("store_id", "product_id", "model", "cutoff", "days", "volume", "wape", "mase", "bias",
                    "coverage_80", "coverage_95", "selected")


def join_candidates(parts: list[pd.DataFrame], truth: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Outer-join the candidates' wide frames on `keys`, clip at 0, attach `truth`'s columns (actuals, regime)."""
    wide = None
    for part in parts:
        if part.empty:
            continue
        part = part.copy()
        part["ds"] = pd.to_datetime(part["ds"])
        if "cutoff" in part:
            part["cutoff"] = pd.to_datetime(part["cutoff"])
        part["unique_id"] = part["unique_id"].astype(np.int64)
        wide = part if wide is None else wide.merge(part, on=list(keys), how="outer")
    if wide is None:  # no candidate ran (every series borrowed or without demand): an empty frame of the right types
        wide = truth.iloc[:0][["unique_id", "ds"]].assign(**{k: pd.Series(dtype="datetime64[ns]")
                                                              for k in keys if k not in ("unique_id", "ds")})
    values = [c for c in wide.columns if c not in keys]
    wide[values] = wide[values].astype(float).clip(lower=0)
    return wide.merge(truth, on=["unique_id", "ds"], how="left")


def model_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of `frame` that hold a model's point forecast."""
    return [c for c in frame.columns if c in (GLOBAL_MODEL, COMBINATION, *NATIVE_INTERVALS, *INTERMITTENT_MODELS)]


def combination_weights(cv: pd.DataFrame, scale: pd.DataFrame, metric: str) -> dict[str, dict[str, float]]:
    """The best two whole-catalogue models by pooled backtest metric, and their blend weights per regime and weekday.

    Promotion, holiday and peak days get weights of their own: a model that knows them (the global one) should
    carry them, while on regular days the statistical model's level is as good or better. A kind of day with
    fewer than `MIN_REGIME_DAYS` scored days in the backtest -- Black Friday is in it only when the forecast is made
    in December -- takes the weights of the promotion days, the nearest evidence of how far to trust the model
    that sees such days; without those, the regular weights. Each kind of day then gets weights per weekday
    (`regular@5` for Saturdays) where it has `MIN_REGIME_DAYS` of them: the statistical model's additive week and
    the global model's learnt one are not equally right on every day (the demo's last 28 days: WAPE 0.2978 with
    weekday weights against 0.2989 without, MASE 0.707 against 0.710).
    """
    everyone = [m for m in model_columns(cv) if m not in INTERMITTENT_MODELS]
    if not everyone or cv.empty:
        return {}
    scored = cv[cv["observed"].fillna(False).astype(bool)].dropna(subset=everyone)
    if scored.empty:
        return {kind: {everyone[0]: 1.0} for kind in REGIMES}
    scale = scale.set_index(["unique_id", "cutoff"])["scale"]
    scale = scale.where(scale > 0)

    def score(frame: pd.DataFrame, prediction: pd.Series) -> float:
        error = (prediction - frame["y"]).abs()
        if metric == "wape":
            return float(error.sum() / max(frame["y"].abs().sum(), 1e-9))
        per_series = error.groupby([frame["unique_id"], frame["cutoff"]]).mean()
        return float((per_series / scale.reindex(per_series.index)).replace(np.inf, np.nan).mean())

    ranked = sorted(everyone, key=lambda m: score(scored, scored[m]))
    if len(ranked) == 1:
        return {kind: {ranked[0]: 1.0} for kind in REGIMES}
    best, second = ranked[:2]
    grid = np.round(np.linspace(0, 1, 11), 2)

    def blend(frame: pd.DataFrame) -> dict[str, float]:
        losses = [score(frame, w * frame[best] + (1 - w) * frame[second]) for w in grid]
        weight = float(grid[int(np.argmin(losses))])
        return {best: weight, second: round(1 - weight, 2)}

    regime = regime_of(scored)
    evidence = {kind: (regime == kind).sum() >= MIN_REGIME_DAYS for kind in REGIMES}
    weights = {"regular": blend(scored[regime == "regular"])}
    weights["promo"] = blend(scored[regime == "promo"]) if evidence["promo"] else weights["regular"]
    for kind in ("holiday", "peak"):
        weights[kind] = blend(scored[regime == kind]) if evidence[kind] else weights["promo"]
    cells = weekday_cells(regime, scored["ds"])
    names, sizes = np.unique(cells, return_counts=True)
    for cell in names[sizes >= MIN_REGIME_DAYS]:
        weights[str(cell)] = blend(scored[cells == cell])
    used = {m for blend_weights in weights.values() for m, w in blend_weights.items() if w > 0}
    if len(used) == 1:  # the blend chose one model outright: call the forecast by that model's name
        only = used.pop()
        return {kind: {only: 1.0} for kind in REGIMES}
    return weights


def add_combination(frame: pd.DataFrame, weights: dict[str, dict[str, float]]) -> pd.DataFrame:
    """`frame` with a `combination` column: the members blended with each row's regime weights."""
    members = list(weights.get("regular", {}))
    if len(members) < 2 or not all(m in frame for m in members):
        return frame
    frame = frame.copy()
    regime = regime_of(frame)
    frame[COMBINATION] = np.nan
    cells = weekday_cells(regime, frame["ds"])
    for cell in np.unique(cells):
        rows = cells == cell
        blend = weights.get(str(cell), weights[str(cell).split(WEEKDAY_MARK)[0]])
        frame.loc[rows, COMBINATION] = sum(w * frame.loc[rows, m] for m, w in blend.items())
    return frame


def weekday_cells(regime: np.ndarray, dates: pd.Series) -> np.ndarray:
    """Per row, its kind of day on its weekday (`regular@5`): the cells the combination is weighted in."""
    weekday = pd.to_datetime(dates).dt.dayofweek.to_numpy().astype(str)
    return np.char.add(np.char.add(regime.astype(str), WEEKDAY_MARK), weekday)


def regime_weights(weights: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The weights per kind of day alone, without their weekday cells (what a person reads)."""
    return {kind: blend for kind, blend in weights.items() if WEEKDAY_MARK not in kind}


def score_candidates(cv: pd.DataFrame, scale: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """Per (series, model, cutoff) metrics of every candidate, with their native intervals where they have them."""
    if cv.empty:
        return pd.DataFrame(columns=["unique_id", *KEY, "model", "cutoff", "days", "volume", "wape", "mase", "bias",
                                     "coverage_80", "coverage_95"])
    rows = []
    for model in model_columns(cv):
        part = cv[["unique_id", "ds", "cutoff", "y", "observed"]].assign(model=model, forecast=cv[model])
        for level in LEVELS:
            for side, bound in (("lo", "lower"), ("hi", "upper")):
                column = f"{model}-{side}-{level}"
                part[f"{bound}_{level}"] = cv[column].clip(lower=0) if column in cv else np.nan
        rows.append(part.dropna(subset=["forecast"]))
    return metrics_by_id(pd.concat(rows, ignore_index=True), scale, info)


def backtest_scale(cv: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """MASE's scale of every (unique_id, cutoff) of the backtest `cv`, from history (unique_id, date, units, observed).

    Read once and shared by the combination, the candidates' scores and the backtest table (three passes over a
    5,000-series history cost 5 s).
    """
    return seasonal_scale(history, cv[["unique_id", "cutoff"]].drop_duplicates(), keys=["unique_id"])


def metrics_by_id(long: pd.DataFrame, scale: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """`backtest_metrics` of a long frame keyed by unique_id, with the series' store_id and product_id."""
    long = long.rename(columns={"ds": "date"})
    long["observed"] = long["observed"].fillna(False).astype(bool)
    metrics = backtest_metrics(long, None, keys=["unique_id"], scale=scale)
    return metrics.merge(info[["unique_id", *KEY]], on="unique_id")


def choose_models(scores: pd.DataFrame, info: pd.DataFrame, settings: ForecastSettings,
                  weights: dict[str, dict[str, float]]) -> pd.DataFrame:
    """unique_id, model: the combination (or the best whole-catalogue model), unless one model is clearly better."""
    members = list(weights.get("regular", {}))
    default = COMBINATION if len(members) > 1 else next(iter(members), None)
    modelled = info.loc[info["path"].isin(["backtested", "forecast_only"]), ["unique_id"]].copy()
    if default is None:  # no backtest to weigh a combination by: the first candidate that forecasts every series
        everyone = [m for m in settings.model_list if m not in INTERMITTENT_MODELS]
        default = (everyone or list(settings.model_list))[0]
    modelled["model"] = default
    if not scores.empty:
        table = scores.pivot_table(index="unique_id", columns="model", values=settings.metric, aggfunc="mean")
        reference = table[default] if default in table else table.min(axis=1)
        best = table.idxmin(axis=1, skipna=True)
        best_value = table.min(axis=1, skipna=True)
        clearly = best_value < (1 - settings.selection_margin) * reference
        # the intermittent methods have no forecast for smooth series, which keep the default
        override = best[clearly & best.notna()]
        no_default = reference.isna() & best.notna()
        override = pd.concat([override, best[no_default]])
        modelled = modelled.set_index("unique_id")
        modelled.loc[override.index, "model"] = override
        modelled = modelled.reset_index()
    return modelled


def calibrated_natives(scores: pd.DataFrame) -> set[str]:
    """Models whose own intervals covered within 5 points of nominal at both levels in the backtest."""
    if scores.empty:
        return set()
    coverage = scores.groupby("model")[["coverage_80", "coverage_95"]].mean()
    good = (coverage["coverage_80"].sub(0.80).abs() <= 0.05) & (coverage["coverage_95"].sub(0.95).abs() <= 0.05)
    return set(coverage.index[good]) & set(NATIVE_INTERVALS)


def chosen_forecast(frame: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    """One forecast column per row: the chosen model's (native intervals carried along).

    On promotion and calendar-event days a series whose chosen model cannot see them takes the combination's.
    """
    if frame.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "forecast", "model", "regime"])
    merged = frame.merge(choice[["unique_id", "model"]], on="unique_id")
    out = merged[[c for c in ("unique_id", "ds", "cutoff", "y", "observed", "regime", "model") if c in merged]].copy()
    out["forecast"] = np.nan
    for level in LEVELS:
        out[f"native_lower_{level}"] = np.nan
        out[f"native_upper_{level}"] = np.nan
    for model, rows in merged.groupby("model").groups.items():
        if model not in merged:
            continue
        out.loc[rows, "forecast"] = merged.loc[rows, model]
        for level in LEVELS:
            for side, bound in (("lo", "lower"), ("hi", "upper")):
                column = f"{model}-{side}-{level}"
                if column in merged:
                    out.loc[rows, f"native_{bound}_{level}"] = merged.loc[rows, column].clip(lower=0)
    blind = (regime_of(out) != "regular") & ~out["model"].isin([COMBINATION, GLOBAL_MODEL])
    if COMBINATION in merged and blind.any():  # a model blind to promotions and events does not forecast their days
        out.loc[blind, "forecast"] = merged.loc[blind, COMBINATION]
        out.loc[blind, [c for c in out.columns if c.startswith("native_")]] = np.nan
    missing = out["forecast"].isna()  # a model that failed for this series: the combination's members fill in
    if missing.any():
        fallback = merged[model_columns(merged)].mean(axis=1)
        out.loc[missing, "forecast"] = fallback[missing]
    return out.dropna(subset=["forecast"])


def backtest_table(scores: pd.DataFrame, crossfit: pd.DataFrame, choice: pd.DataFrame, scale: pd.DataFrame,
                   info: pd.DataFrame) -> pd.DataFrame:
    """Every candidate's per-window metrics plus the chosen forecast's (as model `automl`), one frame."""
    keys = info[["unique_id", *KEY]]
    parts = [scores]
    if not crossfit.empty:
        parts.append(metrics_by_id(crossfit.assign(model=CHOSEN), scale, info))
    table = pd.concat(parts, ignore_index=True)
    selected = choice.merge(keys, on="unique_id")[[*KEY, "model"]].assign(selected=True)
    table = table.merge(selected, on=[*KEY, "model"], how="left")
    table["selected"] = table["selected"].eq(True) | table["model"].eq(CHOSEN)
    return table[list(BACKTEST_COLUMNS)]
