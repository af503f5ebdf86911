"""Who will take the partner offer: a take-up propensity model, checked on time it has not seen.

A partner (a streaming company, say) sells a package through the mall; the mall wants to know whom to contact
next. A model that only fits the people who already signed up says nothing about that, so the check is made the
way the model is used: learn from the start of the offer, predict its end. The offer period runs from the first to
the last take-up of the package and is split at `validation_share` from its end:

    training    people as of the day before the period starts, who did not have the package yet;
                label = took it in [start, split)
    held-out    people as of the day before the split, who did not have it by then; label = took it in [split, end]

Features are always read the day before their label window opens (`features_at(day)` reads nothing after `day`),
so nothing a person did on or after signing up tells the model that they signed up. A random split of the same
rows would leak the period's mood (a campaign, a season) into both halves and flatter the model. The held-out AUC,
its 95% interval (Hanley & McNeil 1982) and the take-up rate by score decile are reported; then the model is refit
on both parts and everyone who does not have the package on `as_of` is scored. People who have it are kept, with
no score, so the caller can tell them from people nobody knows.

Gradient boosting (scikit-learn's `HistGradientBoostingClassifier`) because the person features hold missing
values (no visit, no age band), skewed money columns and thresholds (a cinema habit matters past a point), which it
takes as they come, without imputation or scaling. Its built-in early stopping is off: it would hold out a random
tenth of the same rows, which is the leak described above, and it would cost a small offer a tenth of its few
take-ups. A fixed, modest number of shallow, shrunk and regularised trees is used instead, and the held-out time
says whether it worked. Feature importances are permutation importances on the held-out rows (the drop in AUC
when one column is shuffled): they tell what the model relies on for people it has not seen, which importances
on the training rows, or the trees' split gains, do not.

Few take-ups cannot carry a time-based check: below `min_positives` on either side the model is fitted on all the
rows and the result says that no AUC was measured, and why. Rows of a single class, or no feature columns, give a
constant score (the take-up rate seen), said in `metrics["model"]`. At scale the fit takes a seeded random sample
of `max_train_rows` rows (a uniform sample keeps the take-up rate, so scores stay probabilities) and scoring runs
in chunks of `score_chunk_rows`, so a million people fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

TAKEUP_COLUMNS = ["person_id", "package", "start_date"]
SCORE_COLUMNS = ["person_id", "score", "decile", "has_package"]
LIFT_COLUMNS = ["decile", "persons", "takeups", "rate", "lift", "cumulative_capture"]
VALIDATION_COLUMNS = ["person_id", "took", "score", "decile"]
NOT_FEATURES = ("person_id", "as_of", "consent_marketing")
TOO_FEW = "too few take-ups for a time-based check"


class OfferError(ValueError):
    """The offer model cannot be built from these inputs; the message says what is wrong and what to try."""


@dataclass(frozen=True)
class OfferSettings:
    """How the offer model is trained, checked and applied.

    Attributes:
        validation_share: Share of the offer period, at its end, held out to check the model (0.4: the last 40%).
        min_positives: Fewest take-ups (and fewest people who did not take it) in each part for a time-based check.
        seed: Seed of every random choice: samples, the trees' feature binning, permutation shuffles.
        max_iter: Boosting rounds (trees); fixed, as early stopping is off (see the module docstring).
        learning_rate: Shrinkage of each tree's contribution.
        max_depth: Depth of each tree (3: interactions of up to three features).
        min_samples_leaf: Fewest people in a leaf, so a leaf's rate rests on more than a handful of take-ups.
        l2_regularization: L2 penalty on the leaf values.
        max_train_rows: Most rows a fit uses; above it a seeded uniform sample of this many is taken.
        score_chunk_rows: Rows scored at a time, which bounds the memory of scoring.
        importance_repeats: Shuffles per feature in the permutation importance.
        importance_max_rows: Most held-out rows the permutation importance uses (a seeded sample above it).
        top_features: Features listed in `metrics["importances"]`, the most important first.
        threads: OpenMP threads the trees use. 1 by default: OpenMP threads spin while they wait, so on a machine
            another process keeps busy two threads took 40 s where one took 1 s (3,000 people); raise it on a
            machine of your own for a large population.
    """

    validation_share: float = 0.4
    min_positives: int = 20
    seed: int = 42
    max_iter: int = 100
    learning_rate: float = 0.05
    max_depth: int = 3
    min_samples_leaf: int = 50
    l2_regularization: float = 1.0
    max_train_rows: int = 200_000
    score_chunk_rows: int = 200_000
    importance_repeats: int = 3
    importance_max_rows: int = 20_000
    top_features: int = 10
    threads: int = 1

    def __post_init__(self) -> None:
        checks = {
            "validation_share must be above 0 and below 1": 0 < self.validation_share < 1,
            "min_positives must be at least 1": self.min_positives >= 1,
            "max_iter must be at least 1": self.max_iter >= 1,
            "learning_rate must be above 0": self.learning_rate > 0,
            "max_depth must be at least 1": self.max_depth >= 1,
            "min_samples_leaf must be at least 1": self.min_samples_leaf >= 1,
            "l2_regularization must be 0 or more": self.l2_regularization >= 0,
            "max_train_rows must be at least 2": self.max_train_rows >= 2,
            "score_chunk_rows must be at least 1": self.score_chunk_rows >= 1,
            "importance_repeats must be at least 1": self.importance_repeats >= 1,
            "importance_max_rows must be at least 2": self.importance_max_rows >= 2,
            "top_features must be 0 or more": self.top_features >= 0,
            "threads must be at least 1": self.threads >= 1,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise OfferError("; ".join(failed))

    def classifier(self) -> HistGradientBoostingClassifier:
        """A fresh, unfitted gradient-boosting classifier with these hyper-parameters."""
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate, max_iter=self.max_iter, max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            early_stopping=False, random_state=self.seed)


@dataclass(frozen=True)
class OfferResult:
    """The offer model's scores for everyone on `as_of`, and how well it did on held-out time.

    Attributes:
        package: The package modelled; None for any package.
        scores: person_id, score (chance of taking the package; NaN for who has it), decile (1 = the top tenth of
            scores, among the people scored; ties share a decile), has_package; one row per person of
            `features_at(as_of)`.
        lift: decile, persons, takeups, rate (take-up rate in the decile), lift (rate / overall rate),
            cumulative_capture (share of all held-out take-ups in this decile and the ones above); empty when no
            time-based check was made.
        auc: Held-out AUC, or None when it could not be measured.
        auc_reason: Why `auc` is None; None when it was measured.
        metrics: JSON-ready counts, rates, dates (ISO), features used and importances; see `fit_offer`.
        validation: The held-out rows: person_id, took (0/1), score and decile of the model fitted before the
            split; empty when no time-based check was made.
    """

    package: str | None
    scores: pd.DataFrame
    lift: pd.DataFrame
    auc: float | None
    auc_reason: str | None
    metrics: dict[str, object]
    validation: pd.DataFrame


class _Period(NamedTuple):
    """The offer period: first take-up, first held-out day (None: the period is one day), last take-up."""

    start: date
    split: date | None
    end: date


class _Rows(NamedTuple):
    """People as of a day, labelled 1 if they took the package in the window that follows."""

    frame: pd.DataFrame
    took: np.ndarray


def fit_offer(features_at: Callable[[date], pd.DataFrame], takeups: pd.DataFrame, *, package: str | None,
              as_of: date, settings: OfferSettings | None = None) -> OfferResult:
    """Train the take-up model on the offer period, check it on its last part, and score everyone on `as_of`.

    Args:
        features_at: Returns the person features computed with data up to a day (see `features.person_features`):
            person_id and numeric columns. `as_of`, `consent_marketing` and non-numeric columns are not used.
        takeups: Every subscription ever taken, all packages: person_id, package, start_date. Rows without a
            person_id and rows after `as_of` are ignored.
        package: The package to model; None models taking any package.
        as_of: The day the scores are for; nothing after it is read.
        settings: How to train and check; the defaults of `OfferSettings` when None.

    Returns:
        The scores, the held-out AUC and lift, and metrics: package, period_start, split_date, period_end,
        takeups, train_rows, train_takeups, train_base_rate, validation_rows, validation_takeups,
        validation_base_rate, train_rows_used, auc_interval_95, fit_rows, fit_takeups, fit_rows_used, model, features,
        importances, scored_persons, persons_with_package.

    Raises:
        OfferError: takeups lacks a column, the package has no take-up on or before `as_of` (the message lists
            the packages that have), or nobody has features before or during the offer period.
    """
    settings = settings or OfferSettings()
    with threadpool_limits(limits=settings.threads, user_api="openmp"):
        return _fit_offer(features_at, takeups, package, as_of, settings)


def _fit_offer(features_at: Callable[[date], pd.DataFrame], takeups: pd.DataFrame, package: str | None,
               as_of: date, settings: OfferSettings) -> OfferResult:
    """`fit_offer`, with the thread limit in place."""
    takeups = _takeups_of(takeups, package, as_of)
    period = _period(takeups, settings.validation_share)
    train, valid = _parts(features_at, takeups, period)
    columns = _feature_columns([train.frame, valid.frame])
    metrics: dict[str, object] = {
        "package": package, "period_start": period.start.isoformat(),
        "split_date": period.split.isoformat() if period.split else None, "period_end": period.end.isoformat(),
        "takeups": len(takeups), **_part_metrics("train", train), **_part_metrics("validation", valid),
        "train_rows_used": None, "auc_interval_95": None, "importances": {}}
    reason = _no_check_reason(train, valid, period, settings)
    auc, lift, validation = None, pd.DataFrame(columns=LIFT_COLUMNS), pd.DataFrame(columns=VALIDATION_COLUMNS)
    if reason is None:
        auc, lift, validation, check = _time_check(train, valid, columns, settings)
        metrics.update(check)
    both = _Rows(pd.concat([train.frame, valid.frame], ignore_index=True), np.concatenate([train.took, valid.took]))
    model, used, description = _fit(both, columns, settings)
    scores = _scores(model, _features(features_at, as_of), takeups, columns, settings)
    metrics.update({"fit_rows": len(both.took), "fit_takeups": int(both.took.sum()), "fit_rows_used": used,
                    "model": description, "features": columns, "scored_persons": int((~scores["has_package"]).sum()),
                    "persons_with_package": int(scores["has_package"].sum())})
    return OfferResult(package, scores, lift, auc, reason, metrics, validation)


def _takeups_of(takeups: pd.DataFrame, package: str | None, as_of: date) -> pd.DataFrame:
    """The take-ups of `package` (any, when None) on or before `as_of`, start_date as a day; or a clear error."""
    missing = [name for name in TAKEUP_COLUMNS if name not in takeups.columns]
    if missing:
        raise OfferError(f"takeups lacks column(s) {', '.join(missing)}; expected person_id, package, start_date "
                         f"(one row per subscription); it has: {', '.join(map(str, takeups.columns))}")
    known = takeups.loc[takeups["person_id"].notna(), TAKEUP_COLUMNS].copy()
    known["start_date"] = pd.to_datetime(known["start_date"]).dt.normalize()
    known = known[known["start_date"] <= pd.Timestamp(as_of)]
    chosen = known if package is None else known[known["package"] == package]
    if chosen.empty:
        counts = known["package"].value_counts()
        listed = ", ".join(f"{name!r} ({n})" for name, n in counts.items()) or "none"
        what = "any package" if package is None else f"package {package!r}"
        raise OfferError(f"no take-ups of {what} on or before {as_of}; packages taken up (take-ups): {listed}; "
                         "choose one of them, or load the partner's subscriptions first")
    return chosen


def _period(takeups: pd.DataFrame, validation_share: float) -> _Period:
    """First and last take-up day, and the first day of the last `validation_share` of the days between."""
    start, end = takeups["start_date"].min().date(), takeups["start_date"].max().date()
    days = (end - start).days + 1
    if days < 2:
        return _Period(start, None, end)
    train_days = min(max(round((1 - validation_share) * days), 1), days - 1)
    return _Period(start, start + timedelta(days=train_days), end)


def _parts(features_at: Callable[[date], pd.DataFrame], takeups: pd.DataFrame, period: _Period
           ) -> tuple[_Rows, _Rows]:
    """The training rows (the whole period when it is one day) and the held-out rows (none then)."""
    if period.split is None:
        train = _labelled(features_at, takeups, period.start, period.end)
        valid = _Rows(train.frame.iloc[:0], np.zeros(0, dtype=int))
    else:
        train = _labelled(features_at, takeups, period.start, period.split - timedelta(days=1))
        valid = _labelled(features_at, takeups, period.split, period.end)
    if len(train.took) + len(valid.took) == 0:
        last = (period.split or period.start) - timedelta(days=1)
        raise OfferError(f"nobody has person features on or before {last}, so there is nobody to learn from (the "
                         f"offer ran {period.start} to {period.end}); compute the features over a history that "
                         "starts before the offer")
    return train, valid


def _labelled(features_at: Callable[[date], pd.DataFrame], takeups: pd.DataFrame, first: date,
              last: date) -> _Rows:
    """People as of the day before `first` who did not have the package then; took = took it in [first, last]."""
    frame = _features(features_at, first - timedelta(days=1))
    days = takeups["start_date"]
    before = takeups.loc[days < pd.Timestamp(first), "person_id"]
    window = takeups.loc[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last)), "person_id"]
    frame = frame[~frame["person_id"].isin(before)].reset_index(drop=True)
    return _Rows(frame, frame["person_id"].isin(window).to_numpy(dtype=int))


def _features(features_at: Callable[[date], pd.DataFrame], day: date) -> pd.DataFrame:
    """`features_at(day)`, checked to name its people."""
    frame = features_at(day)
    if "person_id" not in frame.columns:
        raise OfferError(f"features_at({day}) returned no person_id column; it returned: "
                         f"{', '.join(map(str, frame.columns))}; pass the frame of features.person_features")
    return frame


def _feature_columns(frames: list[pd.DataFrame]) -> list[str]:
    """Numeric columns of any of the fitting frames, in first-seen order, but for ids, dates and consent."""
    columns: list[str] = []
    for frame in frames:
        columns += [c for c in frame.columns if c not in NOT_FEATURES and c not in columns
                    and pd.api.types.is_numeric_dtype(frame[c])]
    return columns


def _matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The model's input: `columns` of `frame` as floats; a missing category share is 0, any other value NaN."""
    filled = frame.reindex(columns=columns)
    shares = [c for c in columns if c.startswith("cat_")]
    filled[shares] = filled[shares].fillna(0.0)
    return filled.astype("float64").to_numpy()


def _part_metrics(name: str, rows: _Rows) -> dict[str, object]:
    takers = int(rows.took.sum())
    return {f"{name}_rows": len(rows.took), f"{name}_takeups": takers,
            f"{name}_base_rate": takers / len(rows.took) if len(rows.took) else None}


def _no_check_reason(train: _Rows, valid: _Rows, period: _Period, settings: OfferSettings) -> str | None:
    """Why no time-based check can be made (too few take-ups, or too few people without), or None if it can."""
    if period.split is None:
        return f"no later time for a time-based check: all {int(train.took.sum())} take-up(s) fall on {period.start}"
    positives = int(train.took.sum()), int(valid.took.sum())
    if min(positives) < settings.min_positives:
        return (f"{TOO_FEW}: {sum(positives)} ({positives[0]} before {period.split}, {positives[1]} from then on; "
                f"{settings.min_positives} needed in each part)")
    negatives = len(train.took) - positives[0], len(valid.took) - positives[1]
    if min(negatives) < settings.min_positives:
        return (f"too few people who did not take it for a time-based check: {negatives[0]} before "
                f"{period.split}, {negatives[1]} from then on; {settings.min_positives} needed in each part")
    return None


def _time_check(train: _Rows, valid: _Rows, columns: list[str], settings: OfferSettings
                ) -> tuple[float, pd.DataFrame, pd.DataFrame, dict[str, object]]:
    """Fit on the training rows, then AUC, its interval, lift and permutation importances on the held-out rows."""
    model, used, _ = _fit(train, columns, settings)
    score = _probability(model, valid.frame, columns, settings.score_chunk_rows)
    auc = float(roc_auc_score(valid.took, score))
    validation = pd.DataFrame({"person_id": valid.frame["person_id"].to_numpy(), "took": valid.took,
                               "score": score, "decile": _deciles(score)})
    check = {"train_rows_used": used, "auc_interval_95": _auc_interval(auc, valid.took),
             "importances": _importances(model, valid, columns, settings)}
    return auc, _lift(validation), validation, check


def _sample(rows: _Rows, limit: int, seed: int) -> _Rows:
    """The rows, or a seeded uniform sample of `limit` of them (in their order) when there are more."""
    if len(rows.took) <= limit:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows.took), limit, replace=False))
    return _Rows(rows.frame.iloc[keep], rows.took[keep])


def _fit(rows: _Rows, columns: list[str], settings: OfferSettings) -> tuple[ClassifierMixin, int, str]:
    """The fitted model, the rows it used (a sample above `max_train_rows`) and what kind of model it is."""
    rows = _sample(rows, settings.max_train_rows, settings.seed)
    x, y = _matrix(rows.frame, columns), rows.took
    if np.unique(y).size < 2 or not columns:
        why = "one class only in the fitting rows" if np.unique(y).size < 2 else "no numeric feature columns"
        return DummyClassifier(strategy="prior").fit(x, y), len(y), f"constant take-up rate {y.mean():.4f} ({why})"
    x = np.where(np.isnan(x).all(axis=0), 0.0, x)  # a column with no value at all breaks the trees' binning
    return settings.classifier().fit(x, y), len(y), "HistGradientBoostingClassifier"


def _probability(model: ClassifierMixin, frame: pd.DataFrame, columns: list[str], chunk_rows: int) -> np.ndarray:
    """The model's probability of taking the package for each row of `frame`, `chunk_rows` rows at a time."""
    classes = list(model.classes_)
    if 1 not in classes:
        return np.zeros(len(frame))
    parts = [model.predict_proba(_matrix(frame.iloc[i:i + chunk_rows], columns))[:, classes.index(1)]
             for i in range(0, len(frame), chunk_rows)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _deciles(score: np.ndarray) -> np.ndarray:
    """1 for the top tenth of scores to 10 for the bottom; tied scores share their mean rank's decile."""
    if len(score) == 0:
        return np.zeros(0, dtype=int)
    rank = pd.Series(score).rank(ascending=False, method="average").to_numpy()  # 1 = the highest score
    return (np.floor(10 * (rank - 1) / len(score)) + 1).astype(int)


def _lift(validation: pd.DataFrame) -> pd.DataFrame:
    """Take-up rate, lift over the overall rate and cumulative capture of each score decile."""
    by_decile = validation.groupby("decile")["took"].agg(persons="size", takeups="sum").reindex(
        range(1, 11), fill_value=0).rename_axis("decile").reset_index()
    overall = validation["took"].mean()
    by_decile["rate"] = by_decile["takeups"] / by_decile["persons"].replace(0, np.nan)
    by_decile["lift"] = by_decile["rate"] / overall
    by_decile["cumulative_capture"] = by_decile["takeups"].cumsum() / validation["took"].sum()
    return by_decile[LIFT_COLUMNS]


def _auc_interval(auc: float, took: np.ndarray) -> list[float]:
    """95% interval of an AUC from its standard error after Hanley & McNeil (1982), clipped to [0, 1]."""
    positives, negatives = int(took.sum()), int(len(took) - took.sum())
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives)
    half = 1.959964 * math.sqrt(max(variance, 0.0))
    return [max(auc - half, 0.0), min(auc + half, 1.0)]


def _importances(model: ClassifierMixin, valid: _Rows, columns: list[str], settings: OfferSettings
                 ) -> dict[str, float]:
    """Mean drop in held-out AUC when each feature is shuffled, the `top_features` largest first."""
    if not isinstance(model, HistGradientBoostingClassifier):  # a constant score relies on nothing
        return {}
    rows = _sample(valid, settings.importance_max_rows, settings.seed)
    if np.unique(rows.took).size < 2:
        return {}
    result = permutation_importance(model, _matrix(rows.frame, columns), rows.took, scoring="roc_auc",
                                    n_repeats=settings.importance_repeats, random_state=settings.seed)
    order = np.argsort(-result.importances_mean, kind="stable")[:settings.top_features]
    return {columns[i]: float(result.importances_mean[i]) for i in order}


def _scores(model: ClassifierMixin, frame: pd.DataFrame, takeups: pd.DataFrame, columns: list[str],
            settings: OfferSettings) -> pd.DataFrame:
    """Everyone of `frame` with the model's score and decile; who has taken the package up has neither."""
    has = frame["person_id"].isin(takeups["person_id"]).to_numpy()
    score = np.full(len(frame), np.nan)
    score[~has] = _probability(model, frame.loc[~has], columns, settings.score_chunk_rows)
    decile = pd.Series(pd.NA, index=range(len(frame)), dtype="Int64")
    decile[~has] = _deciles(score[~has])
    return pd.DataFrame({"person_id": frame["person_id"].to_numpy(), "score": score, "decile": decile.array,
                         "has_package": has})
