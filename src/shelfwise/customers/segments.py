"""Customer segments: behaviour scaled, the number of segments chosen by silhouette and stability, named as personas.

A marketer wants a handful of groups that behave differently and stay the same when the data is redrawn, so the
number of segments is not asked for but chosen: for each k the silhouette on a sample (how well separated) and the
stability over resamples (the mean adjusted Rand index between clusterings fitted on 80% subsamples and read on
the same common sample -- subsamples rather than bootstrap draws, whose repeated points a density method takes
for clusters). Among the stable k, the best silhouette discounted by instability wins (`choose_k`); every k's
figures are reported.

Segments are found on behaviour, not on the stage of the relationship: recency and tenure change month to month
and RFM (`rfm.py`) reads them alongside, so clustering on them would split every persona into active and lapsed
halves. The default features are frequency, ticket, weekend and hour-of-day shares, category shares, promotion
share, dwell, app use and store loyalty (`BEHAVIOUR`); money and counts go on a log scale, unknowns take the
median, constant columns drop out, everything is standardised (clipped at 5 standard deviations) and the category
block counts as at most `category_weight` features, so thirty categories do not outvote the rest. Every numeric
column still shows in the profiles, and the persona rules (`personas.py`) read recency, tenure and age there.

Persons with fewer than `min_receipts` receipts are not clustered -- two shares of one receipt say nothing -- but
keep a row in every table, in the segment "Poucos dados" / "Too little data" (id -2), and are counted in
`excluded`. HDBSCAN's noise is the segment "Não classificado" / "Unclassified" (id -1).

Large frames stay fast: k is searched on `sample_size` persons, and the final K-means starts from the sample's
centres on everyone (a few Lloyd passes); a Gaussian mixture or HDBSCAN fitted on the sample labels the rest.
A million synthetic persons segment in about 11 s and 300 MB beyond the frame on two cores (K-means); a plain
notebook loop of K-means per k on all rows took 271 s and 1.5 GB, and chose the wrong k.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from shelfwise.customers.personas import (
    NOT_PROFILED,
    TOO_LITTLE_DATA,
    analysis_scale,
    category_slug,
    distinguishing,
    name_segments,
    profile_features,
    right_skewed,
)

METHODS = ("kmeans", "gmm", "hdbscan")
BEHAVIOUR = ("receipts_per_month", "avg_ticket", "weekend_share", "hour_morning_share", "hour_lunch_share",
             "hour_afternoon_share", "hour_evening_share", "promo_share", "app_share", "avg_dwell_minutes",
             "favourite_store_share")
"""The default clustering features (with every `cat_<slug>_share` column) when they are present.

Counts that grow with the number of receipts (receipts, active_days, stores_visited, visit_days, spend_total) are
left out: they would gather the persons with little history into a segment of their own (on the demo mall,
stores_visited alone turned five planted personas into six segments and took the adjusted Rand index from 0.80
to 0.70). Frequency enters once, as receipts a month."""
UNCLASSIFIED = -1
FIXED_NAMES = {UNCLASSIFIED: ("Não classificado", "Unclassified"), TOO_LITTLE_DATA: ("Poucos dados", "Too little data")}
EVERYONE = ("Todos os clientes", "All customers")
"""The name of the one segment of a population that cannot be split (one person, or everyone alike)."""
SUBSAMPLE = 0.8
"""Share of the sample each stability round is fitted on."""
SILHOUETTE_POINTS = 5_000
"""Silhouette is quadratic in points: it is read on at most this many of the sample."""
N_INIT = 3
"""Restarts per K-means or mixture fit."""
HDBSCAN_MIN_SHARE = 0.02
"""HDBSCAN's smallest cluster, as a share of the persons it is fitted on: smaller groups are not segments."""
GMM_REG = 0.1
"""Floor added to the mixture's variances (features are standardised): without it, zero-inflated shares (all the
persons who never bought on promotion) become components of their own, and resampled fits disagree."""
SELECTION_COLUMNS = ["k", "silhouette", "stability", "chosen"]


@dataclass(frozen=True)
class SegmentSettings:
    """How customers are segmented.

    Attributes:
        method: "kmeans" (default), "gmm" (Gaussian mixture, diagonal covariances) or "hdbscan" (density; finds
            its own number of segments and leaves noise unclassified).
        k: A fixed number of segments; None chooses it in [k_min, k_max].
        k_min: Fewest segments tried (three: two segments are seldom a marketing plan).
        k_max: Most segments tried (eight: more personas than a team can act on).
        bootstrap_rounds: Resampled fits per k for the stability score.
        sample_size: Persons the k search (and a GMM or HDBSCAN fit) uses, so a million persons stays fast.
        min_stability: Mean adjusted Rand index between resampled fits a k needs to be called stable.
        min_receipts: Persons with fewer receipts are not clustered: they are counted in `excluded` and keep a row,
            in the segment "Poucos dados" / "Too little data".
        category_weight: Total weight of the `cat_*_share` block, in features' worth; more categories than this
            are weighted down together so they count as this many. Ten: thirty informative categories lost
            adjusted Rand index below it (0.95 at 10, 0.90 at 6), thirty uninformative ones cost 0.13 unweighted.
        seed: Seed of every random choice.
        features: Columns to cluster on; None takes the behaviour set of `BEHAVIOUR` and the category shares.
    """

    method: str = "kmeans"
    k: int | None = None
    k_min: int = 3
    k_max: int = 8
    bootstrap_rounds: int = 10
    sample_size: int = 20_000
    min_stability: float = 0.8
    min_receipts: int = 2
    category_weight: float = 10.0
    seed: int = 42
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Segmentation:
    """What a segmentation run found.

    Attributes:
        assignments: One row per person: person_id, segment_id, segment_name_pt, segment_name_en.
        profiles: One row per segment: segment_id, names, size, share_of_persons, share_of_revenue,
            distinguishing_pt, distinguishing_en, then the mean of every numeric feature.
        feature_profile: Long frame (segment_id, feature, mean, overall_mean, z); z is the segment's mean minus
            everyone's in everyone's standard deviations, on the log scale for money and counts.
        selection: One row per k tried: k, silhouette, stability, chosen.
        excluded: Persons not clustered, by reason (no_person_id, duplicate_person_id, too_few_receipts).
        method: The clustering method.
        features_used: The columns clustered on.
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    feature_profile: pd.DataFrame
    selection: pd.DataFrame
    excluded: dict[str, int]
    method: str
    features_used: tuple[str, ...]


def behaviour_columns(frame: pd.DataFrame, features: tuple[str, ...] | None = None) -> list[str]:
    """The numeric columns to cluster on: `features` if given, else the default behaviour set present in `frame`.

    Raises:
        ValueError: A requested feature is missing or not numeric.
    """
    numeric = [c for c in frame.columns if c not in NOT_PROFILED and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    if features is None:
        return [c for c in numeric if c in BEHAVIOUR or category_slug(c) is not None]
    unknown = [c for c in features if c not in numeric]
    if unknown:
        raise ValueError(f"features {unknown} are not numeric columns of the person features; expected some of: "
                         f"{', '.join(numeric)} -- fix SegmentSettings.features")
    return list(features)


class BehaviourScaler(TransformerMixin, BaseEstimator):
    """Person features to a standardised matrix: log for skewed columns, median for unknowns, category block weighted.

    Args:
        features: Columns to use; None takes the default behaviour set (`behaviour_columns`).
        category_weight: Total weight of the category-share block, in features' worth.
        clip: Standardised values are clipped to +-clip, so a few extreme persons do not pull a centre away.
    """

    _parameter_constraints: ClassVar[dict] = {
        "features": [tuple, list, None],
        "category_weight": [Interval(Real, 0, None, closed="neither")],
        "clip": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, features: tuple[str, ...] | None = None, category_weight: float = 10.0, clip: float = 5.0):
        self.features = features
        self.category_weight = category_weight
        self.clip = clip

    def fit(self, X: pd.DataFrame, y: None = None) -> BehaviourScaler:
        """Learn the columns, their log scale, medians, centres, scales and weights from the persons in `X`."""
        self._validate_params()
        columns = [c for c in behaviour_columns(X, self.features) if X[c].notna().any()]
        self.log_columns_ = [c for c in columns if right_skewed(X[c].to_numpy(dtype=float, na_value=np.nan))]
        self.median_, self.center_, self.scale_ = {}, {}, {}
        for c in columns:
            values = analysis_scale(X[c], c in self.log_columns_)
            self.median_[c] = float(np.nanmedian(values))
            filled = np.where(np.isnan(values), self.median_[c], values)
            self.center_[c], self.scale_[c] = float(filled.mean()), float(filled.std())
        self.columns_ = [c for c in columns if self.scale_[c] > 1e-9 * max(1.0, abs(self.center_[c]))]
        self.dropped_ = [c for c in columns if c not in self.columns_]
        categories = [c for c in self.columns_ if category_slug(c) is not None]
        block = min(1.0, float(np.sqrt(self.category_weight / len(categories)))) if categories else 1.0
        self.weights_ = {c: block if c in categories else 1.0 for c in self.columns_}
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The persons of `X` as a float32 matrix, one column per `columns_`, built column by column (low memory)."""
        check_is_fitted(self, "columns_")
        out = np.empty((len(X), len(self.columns_)), dtype=np.float32)
        for j, c in enumerate(self.columns_):
            values = analysis_scale(X[c], c in self.log_columns_)
            values = np.where(np.isnan(values), self.median_[c], values)
            standard = np.clip((values - self.center_[c]) / self.scale_[c], -self.clip, self.clip)
            out[:, j] = standard * self.weights_[c]
        return out


class DensityClusters(ClusterMixin, BaseEstimator):
    """HDBSCAN's dense cores as segments, and one membership rule for the rows it fitted and for new ones.

    Density needs few dimensions, so HDBSCAN runs on the leading principal components, on at most `max_points`
    rows (its cost grows faster than linearly; cores need no more). On behaviour data it finds pure cores and
    calls most persons noise, so membership is a rule, in the full feature space: a row joins the nearest core's
    segment when it lies within that core's reach (the distance of its farthest member from its centre), and stays
    noise (-1) beyond every reach. HDBSCAN itself has no predict; this rule is its predict.

    Args:
        min_share: Smallest core, as a share of the rows HDBSCAN sees (leaf selection: the finest stable cores).
        dimensions: Principal components HDBSCAN runs on (five kept the planted segments of synthetic malls,
            groceries and the demo apart with 0-6% noise; eight left up to 13% unclassified).
        max_points: Most rows HDBSCAN runs on.
        random_state: Seed of the row sample.
    """

    def __init__(self, *, min_share: float = HDBSCAN_MIN_SHARE, dimensions: int = 5, max_points: int = 5_000,
                 random_state: int | np.random.RandomState | None = None):
        self.min_share = min_share
        self.dimensions = dimensions
        self.max_points = max_points
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: None = None) -> DensityClusters:
        """Find the cores on a sample of `X` and label every row by the membership rule."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        rows = X[check_random_state(self.random_state).permutation(len(X))[:self.max_points]]
        Z = PCA(n_components=min(self.dimensions, X.shape[1], len(rows))).fit_transform(rows)
        size = max(5, round(self.min_share * len(Z)))
        cores = HDBSCAN(min_cluster_size=size, min_samples=min(size, 10), cluster_selection_method="leaf",
                        copy=True).fit(Z).labels_
        found = np.unique(cores[cores >= 0])
        self.cluster_centers_ = np.array([rows[cores == c].mean(axis=0) for c in found]).reshape(-1, X.shape[1])
        self.reach_ = np.array([np.linalg.norm(rows[cores == c] - centre, axis=1).max()
                                for c, centre in zip(found, self.cluster_centers_, strict=True)])
        self.labels_ = self.predict(X)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The nearest core within its reach, else -1."""
        check_is_fitted(self, "cluster_centers_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if len(self.cluster_centers_) == 0:
            return np.full(len(X), UNCLASSIFIED, dtype=np.int64)
        distance = _distances(X, self.cluster_centers_)
        nearest = distance.argmin(axis=1)
        inside = distance[np.arange(len(X)), nearest] <= self.reach_[nearest]
        return np.where(inside, nearest, UNCLASSIFIED).astype(np.int64)


def _distances(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    squared = (X**2).sum(axis=1)[:, None] - 2 * X @ centres.T + (centres**2).sum(axis=1)[None, :]
    return np.sqrt(np.clip(squared, 0, None))


class CustomerSegmenter(ClusterMixin, BaseEstimator):
    """Clusters with their number chosen by silhouette and resampling stability (or fixed), fast on large data.

    Args:
        method: "kmeans", "gmm" or "hdbscan".
        n_clusters: A fixed number of clusters; None chooses it in [k_min, k_max] (HDBSCAN always finds its own).
        k_min: Fewest clusters tried.
        k_max: Most clusters tried.
        bootstrap_rounds: Resampled fits per k for the stability score.
        sample_size: Rows the search (and a GMM or HDBSCAN fit) uses.
        min_stability: Stability a k needs to be preferred.
        random_state: Seed, RandomState or None.

    Attributes:
        labels_: Cluster of each row, numbered by size (0 the largest); -1 is HDBSCAN noise.
        n_clusters_: Clusters found.
        selection_: k, silhouette, stability, chosen for each k tried.
        model_: The fitted K-means, Gaussian mixture or `DensityClusters`.
    """

    _parameter_constraints: ClassVar[dict] = {
        "method": [StrOptions(set(METHODS))],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "k_min": [Interval(Integral, 2, None, closed="left")],
        "k_max": [Interval(Integral, 2, None, closed="left")],
        "bootstrap_rounds": [Interval(Integral, 2, None, closed="left")],
        "sample_size": [Interval(Integral, 10, None, closed="left")],
        "min_stability": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, method: str = "kmeans", *, n_clusters: int | None = None, k_min: int = 3, k_max: int = 8,
                 bootstrap_rounds: int = 10, sample_size: int = 20_000, min_stability: float = 0.8,
                 random_state: int | np.random.RandomState | None = None):
        self.method = method
        self.n_clusters = n_clusters
        self.k_min = k_min
        self.k_max = k_max
        self.bootstrap_rounds = bootstrap_rounds
        self.sample_size = sample_size
        self.min_stability = min_stability
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: None = None) -> CustomerSegmenter:
        """Choose k on a sample of `X`, fit the final model and label every row."""
        self._validate_params()
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) is above k_max ({self.k_max}); lower k_min or raise k_max")
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        rng = check_random_state(self.random_state)
        sample = X[np.sort(rng.choice(len(X), min(len(X), self.sample_size), replace=False))]
        rows, models = [], []
        with threadpool_limits(limits=1):  # many small fits: threads cost more than they give, and spin on a busy box
            for k in self._candidates(sample):
                row, model = self._assess(sample, k, rng)
                rows.append(row)
                models.append(model)
        if not rows:  # fewer than two distinct rows: one cluster
            self.model_ = KMeans(n_clusters=1, n_init=1).fit(sample[:1])
            self.selection_ = pd.DataFrame([[1, np.nan, np.nan, True]], columns=SELECTION_COLUMNS)
        else:
            self.selection_ = choose_k(pd.DataFrame(rows), self.min_stability)
            self.model_ = self._final(X, models[int(np.flatnonzero(self.selection_["chosen"])[0])])
        raw = self.model_.predict(X)
        sizes = np.bincount(raw[raw >= 0], minlength=_centres(self.model_))
        self.order_ = np.argsort(np.argsort(-sizes, kind="stable"))
        self.n_clusters_ = int((sizes > 0).sum())
        self.labels_ = self._ordered(raw)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The cluster of each row of `X` (the numbering of `labels_`)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._ordered(self.model_.predict(X))

    def _ordered(self, raw: np.ndarray) -> np.ndarray:
        ranks = np.append(self.order_, UNCLASSIFIED)  # raw -1 (noise) reads the last entry
        return ranks[raw].astype(np.int64)

    def _candidates(self, sample: np.ndarray) -> list[int | None]:
        distinct = len(np.unique(sample, axis=0))
        if self.method == "hdbscan":
            return [None] if distinct >= 2 else []
        top = min(self.k_max if self.n_clusters is None else self.n_clusters, distinct, len(sample) - 1)
        low = top if self.n_clusters is not None else min(self.k_min, top)
        return list(range(low, top + 1)) if top >= 2 else []

    def _fit_one(self, X: np.ndarray, k: int | None, seed: int) -> KMeans | GaussianMixture | DensityClusters:
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(X)
        if self.method == "gmm":
            mixture = GaussianMixture(n_components=k, covariance_type="diag", reg_covar=GMM_REG, n_init=N_INIT,
                                      random_state=seed)
            return mixture.fit(X.astype(np.float64))
        return DensityClusters(random_state=seed).fit(X)

    def _assess(self, sample: np.ndarray, k: int | None, rng: np.random.RandomState) -> tuple[dict, object]:
        """Silhouette and resampling stability of k on the sample, and the model fitted on the whole sample."""
        seeds = rng.randint(0, 2**31 - 1, size=self.bootstrap_rounds + 1)
        model = self._fit_one(sample, k, seeds[0])
        labels = model.predict(sample)
        runs = []
        for seed in seeds[1:]:
            size = max(k or 2, round(SUBSAMPLE * len(sample)))
            part = np.random.RandomState(seed).choice(len(sample), size, replace=False)
            runs.append(self._fit_one(sample[part], k, seed).predict(sample))
        stability = float(np.mean([adjusted_rand_score(a, b) for a, b in combinations(runs, 2)]))
        found = len(np.unique(labels[labels >= 0]))
        return {"k": k if k is not None else found, "silhouette": _silhouette(sample, labels, seeds[0]),
                "stability": stability}, model

    def _final(self, X: np.ndarray, model: object) -> object:
        """The sample's model; for K-means on more rows than the sample, refined on all of them from its centres."""
        if self.method != "kmeans" or len(X) <= self.sample_size:
            return model
        return KMeans(n_clusters=model.n_clusters, init=model.cluster_centers_, n_init=1, copy_x=False).fit(X)


def _centres(model: object) -> int:
    return len(model.means_) if isinstance(model, GaussianMixture) else len(model.cluster_centers_)


def _silhouette(X: np.ndarray, labels: np.ndarray, seed: int) -> float:
    """Silhouette of the non-noise rows (on at most `SILHOUETTE_POINTS`); NaN when it is undefined."""
    kept = labels >= 0
    X, labels = X[kept], labels[kept]
    if not 2 <= len(np.unique(labels)) <= len(X) - 1:
        return np.nan
    return float(silhouette_score(X, labels, sample_size=min(len(X), SILHOUETTE_POINTS), random_state=seed))


def choose_k(selection: pd.DataFrame, min_stability: float) -> pd.DataFrame:
    """Mark the chosen k: among the stable ones (all, if none is), the best silhouette discounted by instability.

    The score is silhouette x stability: silhouettes of neighbouring k are often within their sampling error of
    each other, and then the k whose resampled fits agree more is the one to trust.
    """
    stable = selection[selection["stability"] >= min_stability]
    pool = stable if len(stable) else selection
    score = (pool["silhouette"] * pool["stability"]).fillna(pool["stability"])
    best = score.idxmax() if score.notna().any() else pool.index[0]
    return selection.assign(chosen=selection.index == best)[SELECTION_COLUMNS]


def segment_customers(features: pd.DataFrame, settings: SegmentSettings | None = None) -> Segmentation:
    """Segment persons by behaviour, choose the number of segments, profile and name them.

    Args:
        features: The person-features frame, one row per `person_id` (any subset of its columns, extra numeric
            columns welcome).
        settings: How to segment; the defaults of `SegmentSettings` when None.

    Returns:
        The `Segmentation`: assignments, profiles, long feature profile, k selection, exclusions.
    """
    settings = settings or SegmentSettings()
    persons, segment_ids, excluded = eligible_persons(features, settings.min_receipts)
    clustered = segment_ids != TOO_LITTLE_DATA
    matrix, used = behaviour_matrix(persons, clustered, settings)
    if matrix.shape[1] and len(matrix) >= 2:
        segmenter = CustomerSegmenter(settings.method, n_clusters=settings.k, k_min=settings.k_min,
                                      k_max=settings.k_max, bootstrap_rounds=settings.bootstrap_rounds,
                                      sample_size=settings.sample_size, min_stability=settings.min_stability,
                                      random_state=settings.seed).fit(matrix)
        segment_ids[clustered] = segmenter.labels_
        selection = segmenter.selection_
    else:  # nobody, one person, or everyone alike: one segment, nothing to choose
        selection = pd.DataFrame([[1, np.nan, np.nan, True]] if len(matrix) else [], columns=SELECTION_COLUMNS)
    feature_profile = profile_features(persons, segment_ids)
    names = segment_names(segment_ids, feature_profile, used)
    assignments = pd.DataFrame({"person_id": persons["person_id"].to_numpy(), "segment_id": segment_ids})
    return Segmentation(assignments=assignments.merge(names, on="segment_id", how="left"),
                        profiles=segment_profiles(persons, segment_ids, feature_profile, names, used),
                        feature_profile=feature_profile, selection=selection, excluded=excluded,
                        method=settings.method, features_used=used)


def behaviour_matrix(persons: pd.DataFrame, clustered: np.ndarray,
                     settings: SegmentSettings) -> tuple[np.ndarray, tuple[str, ...]]:
    """The clustered persons' scaled behaviour matrix and its columns; copies only those columns and rows."""
    columns = behaviour_columns(persons, settings.features)
    rows = pd.DataFrame({c: persons[c].to_numpy(dtype=float, na_value=np.nan)[clustered] for c in columns},
                        columns=columns)
    if rows.empty:  # no columns, or nobody to cluster
        return np.empty((int(clustered.sum()), 0), dtype=np.float32), ()
    scaler = BehaviourScaler(features=settings.features, category_weight=settings.category_weight).fit(rows)
    return scaler.transform(rows), tuple(scaler.columns_)


def eligible_persons(features: pd.DataFrame, min_receipts: int) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Persons with a usable id, once each; their segment ids (-2 if too thin to cluster, else 0); exclusions.

    Rows without a person_id cannot be assigned and are dropped; a repeated person_id keeps its first row. Without
    a `receipts` column nobody is too thin. The frame is not copied when every row is kept.
    """
    if "person_id" not in features.columns:
        raise ValueError("the person features have no 'person_id' column; build them with customers.features")
    known = features["person_id"].notna().to_numpy()
    unique = ~features["person_id"].duplicated().to_numpy() & known
    persons = features if unique.all() else features[unique].reset_index(drop=True)
    receipts = persons["receipts"].fillna(0) if "receipts" in persons else pd.Series(np.inf, index=persons.index)
    thin = receipts.to_numpy(dtype=float) < min_receipts
    excluded = {"no_person_id": int((~known).sum()), "duplicate_person_id": int((known & ~unique).sum()),
                "too_few_receipts": int(thin.sum())}
    return persons, np.where(thin, TOO_LITTLE_DATA, 0).astype(np.int64), excluded


def segment_names(segment_ids: np.ndarray, feature_profile: pd.DataFrame, used: tuple[str, ...]) -> pd.DataFrame:
    """Names of every segment: fixed for -1 and -2, "Todos os clientes" for a lone segment, personas otherwise."""
    ids = np.unique(segment_ids)
    clusters = ids[ids >= 0]
    rows = [(i, *FIXED_NAMES[i]) for i in ids if i < 0]
    if len(clusters) == 1:
        rows.append((clusters[0], *EVERYONE))
    elif len(clusters) > 1:
        named = name_segments(feature_profile[feature_profile["segment_id"].isin(clusters)], used)
        rows += list(named[["segment_id", "segment_name_pt", "segment_name_en"]].itertuples(index=False, name=None))
    return pd.DataFrame(rows, columns=["segment_id", "segment_name_pt", "segment_name_en"])


def segment_profiles(persons: pd.DataFrame, segment_ids: np.ndarray, feature_profile: pd.DataFrame,
                     names: pd.DataFrame, used: tuple[str, ...]) -> pd.DataFrame:
    """One row per segment: names, size, shares of persons and revenue, what distinguishes it, feature means."""
    size = pd.Series(segment_ids).value_counts()
    spend = persons["spend_total"].groupby(segment_ids).sum() if "spend_total" in persons else None
    total = spend.sum() if spend is not None else 0.0
    frame = names.assign(size=names["segment_id"].map(size).astype(int),
                         share_of_persons=names["segment_id"].map(size) / len(persons),
                         share_of_revenue=names["segment_id"].map(spend) / total if total > 0 else np.nan)
    frame = frame.merge(distinguishing(feature_profile, used), on="segment_id", how="left")
    means = feature_profile.pivot(index="segment_id", columns="feature", values="mean").rename_axis(columns=None)
    frame = frame.merge(means, left_on="segment_id", right_index=True, how="left")
    order = np.where(frame["segment_id"] >= 0, frame["segment_id"], frame["segment_id"].max() + 1 - frame["segment_id"])
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
