"""`shelfwise identity`, `segment`, `value` and `offer` as Python calls: run a customer capability, store its tables.

Identity is state, not history: `customer_identity`, `person_keys` and `identity_review` hold the latest resolution
(tagged with its run), because every later step and every privacy request must read one answer to "who is this".
The analyst's review decisions (`identity_decisions`) outlive runs. Segments, values and offer scores are results
of a run and accumulate, like forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from shelfwise.config import parameters_of
from shelfwise.customers.features import person_features, person_lines_sql
from shelfwise.customers.links import person_keys
from shelfwise.privacy.keys import load_keys
from shelfwise.privacy.vault import Vault
from shelfwise.runs import finish_run, start_run, store_rows
from shelfwise.warehouse.core import has_table
from shelfwise.workspace import Workspace

if TYPE_CHECKING:  # the models load scikit-learn and Splink: a command imports them when it runs them
    from shelfwise.customers.identity import Resolution
    from shelfwise.customers.offer import OfferResult
    from shelfwise.customers.segments import Segmentation

IDENTITY_DDL = """
CREATE TABLE IF NOT EXISTS customer_identity (
    run_id VARCHAR, customer_id VARCHAR, person_id VARCHAR, match_probability DOUBLE, record_source VARCHAR
);
CREATE TABLE IF NOT EXISTS person_keys (
    run_id VARCHAR, kind VARCHAR, key VARCHAR, person_id VARCHAR, evidence VARCHAR, strength BIGINT
);
CREATE TABLE IF NOT EXISTS identity_review (
    run_id VARCHAR, customer_id_l VARCHAR, customer_id_r VARCHAR, match_probability DOUBLE,
    cpf_agrees BOOLEAN, email_agrees BOOLEAN, phone_agrees BOOLEAN, name_agrees BOOLEAN, birth_date_agrees BOOLEAN,
    name_similarity DOUBLE
);
CREATE TABLE IF NOT EXISTS identity_decisions (
    customer_id_l VARCHAR, customer_id_r VARCHAR, decision VARCHAR, decided_at TIMESTAMP, actor VARCHAR
);
"""
"""`record_source` says where a customer id came from: `record` (a customer record, compared by Splink) or
`reference` (an id that receipts or subscriptions use but no customer file described: a person of its own)."""

DECISIONS = ("accept", "reject")


class NoIdentityError(LookupError):
    """A customer step was asked for before `shelfwise identity` resolved anyone."""


@dataclass(frozen=True)
class IdentityRun:
    """A stored identity resolution."""

    run_id: str
    resolution: Resolution
    identity: pd.DataFrame
    keys: pd.DataFrame
    stats: dict[str, object]


def run_identity(workspace: Workspace, *, actor: str | None = None) -> IdentityRun:
    """Resolve customer records into persons, attach cards and devices, and store the result as the current one."""
    from shelfwise.customers.identity import assign_person_ids, resolve_customers

    settings = workspace.settings.identity
    with workspace.warehouse.connect(write=True, purpose="identity") as con:
        con.execute(IDENTITY_DDL)
        run_id = start_run(con, "identity", parameters_of(settings))
        previous = con.execute("SELECT customer_id, person_id FROM customer_identity").df()
        decisions = _latest_decisions(con)
        references = con.execute("SELECT customer_id FROM customers WHERE _placeholder").df()
    try:
        people = Vault(workspace).read_people(None, purpose="identity resolution", actor=actor)
        resolution = resolve_customers(people, settings.resolution(), decisions)
        records = pd.concat([
            resolution.records.assign(record_source="record"),
            references[~references["customer_id"].isin(resolution.records["customer_id"])].assign(
                cluster_key=lambda f: f["customer_id"], match_probability=float("nan"), record_source="reference"),
        ], ignore_index=True)
        identity = records.merge(assign_person_ids(records, previous), on="customer_id")
        with workspace.warehouse.connect(write=True, purpose="identity") as con:
            load_keys(workspace.key_path).install(con)
            keys = person_keys(con, identity, settings.links())
            stats = {**resolution.stats, **_key_counts(keys), "persons": int(keys["person_id"].nunique())}
            con.execute("BEGIN TRANSACTION")
            _replace(con, "customer_identity", run_id,
                     identity[["customer_id", "person_id", "match_probability", "record_source"]])
            _replace(con, "person_keys", run_id, keys)
            _replace(con, "identity_review", run_id, resolution.review)
            con.execute("COMMIT")
            finish_run(con, run_id, metrics=stats)
    except Exception as error:
        with workspace.warehouse.connect(write=True, purpose="identity") as con:
            finish_run(con, run_id, error=error)
        raise
    return IdentityRun(run_id=run_id, resolution=resolution, identity=identity, keys=keys, stats=stats)


def decide_pair(
    workspace: Workspace, customer_id_l: str, customer_id_r: str, decision: str, *, actor: str | None = None,
) -> None:
    """Record an analyst's decision on a pair; the next `run_identity` links (accept) or separates (reject) them."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}; got '{decision}'")
    left, right = sorted((customer_id_l, customer_id_r))
    with workspace.warehouse.connect(write=True, purpose="identity review") as con:
        con.execute(IDENTITY_DDL)
        known = con.execute("SELECT count(*) FROM customers WHERE customer_id IN (?, ?)", [left, right]).fetchall()
        if known[0][0] < 2 - (left == right):
            raise ValueError(f"unknown customer id in the pair ({left}, {right})")
        con.execute("INSERT INTO identity_decisions VALUES (?, ?, ?, ?, ?)",
                    [left, right, decision, datetime.now(), actor or ""])


def _latest_decisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest decision per pair (an analyst may change their mind)."""
    return con.execute(
        "SELECT customer_id_l, customer_id_r, decision FROM identity_decisions "
        "QUALIFY row_number() OVER (PARTITION BY customer_id_l, customer_id_r ORDER BY decided_at DESC) = 1").df()


def _key_counts(keys: pd.DataFrame) -> dict[str, int]:
    counts = keys.groupby(["kind", "evidence"]).size()
    return {f"{kind}_{evidence}".replace("-", "_"): int(n) for (kind, evidence), n in counts.items()}


def _replace(con: duckdb.DuckDBPyConnection, table: str, run_id: str, frame: pd.DataFrame) -> None:
    con.execute(f"DELETE FROM {table}")
    store_rows(con, table, run_id, frame)


def require_identity(con: duckdb.DuckDBPyConnection) -> None:
    """NoIdentityError unless a resolution is stored."""
    if not has_table(con, "person_keys") or not con.execute("SELECT count(*) FROM person_keys").fetchall()[0][0]:
        raise NoIdentityError("no persons yet: run `shelfwise identity` first")


def features_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> pd.DataFrame:
    """The person features as of a date, from the stored resolution (see `require_identity`)."""
    return person_features(con, "person_keys", as_of)


def last_activity(con: duckdb.DuckDBPyConnection) -> date:
    """The last day with a receipt: the default as-of date of customer steps (data, not the clock, decide it)."""
    found = con.execute("SELECT max(CAST(timestamp AS DATE)) FROM transactions").fetchall()[0][0]
    if found is None:
        raise NoIdentityError("no receipts in `transactions`: load receipts before segmenting customers")
    return found


VALUE_DDL = """
CREATE TABLE IF NOT EXISTS customer_value (
    run_id VARCHAR, person_id VARCHAR, frequency DOUBLE, recency DOUBLE, T DOUBLE, monetary DOUBLE,
    expected_purchases_12m DOUBLE, probability_alive DOUBLE, expected_spend DOUBLE, value_12m DOUBLE
);
CREATE TABLE IF NOT EXISTS value_model (run_id VARCHAR, model VARCHAR, parameter VARCHAR, value DOUBLE,
                                        time_unit VARCHAR);
"""

FALLBACK_PENALIZER = 0.01
"""L2 penalty BG/NBD is refitted with when the plain maximum likelihood runs to a boundary (short histories with no
drop-out in sight): a small pull towards moderate parameters, as lifetimes' users are advised to use."""

PURCHASES_VIEW = f"CREATE OR REPLACE TEMP VIEW person_purchases AS {person_lines_sql('person_keys')}"
"""Receipt lines with their person: what the value models count (a person's purchases on a day are one purchase)."""


@dataclass(frozen=True)
class ValueRun:
    """A stored customer-value run."""

    run_id: str
    as_of: date
    values: pd.DataFrame
    parameters: pd.DataFrame
    notes: list[str]


def run_value(workspace: Workspace, *, as_of: date | None = None) -> ValueRun:
    """Fit BG/NBD and Gamma-Gamma on every person's purchases up to `as_of` and store the 12-month values."""
    from shelfwise.customers.value import (
        ValueModelError,
        customer_value,
        fit_bgnbd,
        fit_gamma_gamma,
        purchase_summary,
        value_model_rows,
    )

    settings = workspace.settings.value.model()
    with workspace.warehouse.connect(write=True, purpose="value") as con:
        require_identity(con)
        con.execute(VALUE_DDL)
        as_of = as_of or last_activity(con)
        run_id = start_run(con, "value", {"as_of": as_of, **parameters_of(workspace.settings.value)})
        try:
            con.execute(PURCHASES_VIEW)
            summary = purchase_summary(con, "person_purchases", as_of=as_of, time_unit_days=settings.time_unit_days)
            notes = []
            try:
                bgnbd = fit_bgnbd(summary, settings=settings)
            except ValueModelError as error:  # no drop-out seen, say: the likelihood runs to a boundary
                settings = replace(settings, penalizer=max(settings.penalizer, FALLBACK_PENALIZER))
                bgnbd = fit_bgnbd(summary, settings=settings)
                notes.append(f"{error}; fitted again with penalizer {settings.penalizer}")
            try:
                gamma_gamma = fit_gamma_gamma(summary, settings=settings)
            except ValueModelError as error:
                gamma_gamma, notes = None, [str(error)]
            values = customer_value(summary, bgnbd, gamma_gamma, settings)
            parameters = value_model_rows(bgnbd, gamma_gamma, settings)
            store_rows(con, "customer_value", run_id, values[[
                "person_id", "frequency", "recency", "T", "monetary", "expected_purchases_12m", "probability_alive",
                "expected_spend", "value_12m"]])
            store_rows(con, "value_model", run_id, parameters)
        except Exception as error:
            finish_run(con, run_id, error=error)
            raise
        finish_run(con, run_id, metrics={"persons": len(values), "notes": notes,
                                         "value_12m_total": float(values["value_12m"].sum())})
    return ValueRun(run_id=run_id, as_of=as_of, values=values, parameters=parameters, notes=notes)


SEGMENT_DDL = """
CREATE TABLE IF NOT EXISTS customer_segments (
    run_id VARCHAR, person_id VARCHAR, segment_id BIGINT, segment_name VARCHAR, segment_name_en VARCHAR
);
CREATE TABLE IF NOT EXISTS segment_profiles (
    run_id VARCHAR, segment_id BIGINT, segment_name VARCHAR, segment_name_en VARCHAR, size BIGINT,
    share_of_persons DOUBLE, share_of_revenue DOUBLE, distinguishing VARCHAR, distinguishing_en VARCHAR,
    feature_means JSON
);
CREATE TABLE IF NOT EXISTS segment_features (
    run_id VARCHAR, segment_id BIGINT, feature VARCHAR, mean DOUBLE, overall_mean DOUBLE, z DOUBLE
);
CREATE TABLE IF NOT EXISTS customer_rfm (
    run_id VARCHAR, person_id VARCHAR, r_score BIGINT, f_score BIGINT, m_score BIGINT, rfm_segment VARCHAR,
    rfm_segment_en VARCHAR
);
"""
"""`person_features` is not here: its category columns follow the data, so each run replaces it whole."""


@dataclass(frozen=True)
class SegmentRun:
    """A stored segmentation, with the features it was computed from."""

    run_id: str
    as_of: date
    features: pd.DataFrame
    segmentation: Segmentation
    rfm: pd.DataFrame


def run_segment(
    workspace: Workspace, *, as_of: date | None = None, method: str | None = None, k: int | None = None,
) -> SegmentRun:
    """Compute every person's features as of a date, segment and name them, score RFM, and store it all."""
    from shelfwise.customers.rfm import rfm_scores
    from shelfwise.customers.segments import segment_customers

    config = workspace.settings.segment
    settings = config.model(method=method, k=k)
    lang = workspace.settings.workspace.language
    with workspace.warehouse.connect(write=True, purpose="segment") as con:
        require_identity(con)
        con.execute(SEGMENT_DDL)
        as_of = as_of or last_activity(con)
        run_id = start_run(con, "segment", {"as_of": as_of, **parameters_of(config), "method": settings.method,
                                            "k": settings.k})
        try:
            features = features_as_of(con, as_of)
            segmentation = segment_customers(features, settings)
            rfm = rfm_scores(features)
            _store_segments(con, run_id, features, segmentation, rfm, lang)
        except Exception as error:
            finish_run(con, run_id, error=error)
            raise
        finish_run(con, run_id, metrics={
            "persons": len(features), "segments": int(segmentation.profiles["segment_id"].ge(0).sum()),
            "excluded": segmentation.excluded, "method": segmentation.method,
            "features_used": list(segmentation.features_used),
            "selection": segmentation.selection.to_dict(orient="records")})
    return SegmentRun(run_id=run_id, as_of=as_of, features=features, segmentation=segmentation, rfm=rfm)


def _store_segments(con: duckdb.DuckDBPyConnection, run_id: str, features: pd.DataFrame,
                    segmentation: Segmentation, rfm: pd.DataFrame, lang: str) -> None:
    """The run's tables; names in the workspace's language, with the English ones beside them."""
    local = "pt" if lang == "pt" else "en"
    con.register("feature_rows", features)
    try:
        con.execute("CREATE OR REPLACE TABLE person_features AS SELECT ? AS run_id, * FROM feature_rows", [run_id])
    finally:
        con.unregister("feature_rows")
    assignments = segmentation.assignments
    store_rows(con, "customer_segments", run_id, pd.DataFrame({
        "person_id": assignments["person_id"], "segment_id": assignments["segment_id"],
        "segment_name": assignments[f"segment_name_{local}"], "segment_name_en": assignments["segment_name_en"]}))
    profiles = segmentation.profiles
    fixed = ["segment_id", "segment_name_pt", "segment_name_en", "size", "share_of_persons", "share_of_revenue",
             "distinguishing_pt", "distinguishing_en"]
    means = profiles.drop(columns=fixed).apply(lambda row: row.dropna().to_json(), axis=1)
    store_rows(con, "segment_profiles", run_id, pd.DataFrame({
        "segment_id": profiles["segment_id"], "segment_name": profiles[f"segment_name_{local}"],
        "segment_name_en": profiles["segment_name_en"], "size": profiles["size"],
        "share_of_persons": profiles["share_of_persons"], "share_of_revenue": profiles["share_of_revenue"],
        "distinguishing": profiles[f"distinguishing_{local}"], "distinguishing_en": profiles["distinguishing_en"],
        "feature_means": means}))
    store_rows(con, "segment_features", run_id, segmentation.feature_profile)
    store_rows(con, "customer_rfm", run_id, pd.DataFrame({
        "person_id": rfm["person_id"], "r_score": rfm["r_score"], "f_score": rfm["f_score"],
        "m_score": rfm["m_score"], "rfm_segment": rfm[f"rfm_segment_{local}"],
        "rfm_segment_en": rfm["rfm_segment_en"]}))


OFFER_DDL = """
CREATE TABLE IF NOT EXISTS offer_targets (
    run_id VARCHAR, package VARCHAR, person_id VARCHAR, score DOUBLE, decile BIGINT, segment_name VARCHAR,
    eligible BOOLEAN, has_package BOOLEAN, contact_customer_id VARCHAR
);
CREATE TABLE IF NOT EXISTS offer_lift (
    run_id VARCHAR, package VARCHAR, decile BIGINT, persons BIGINT, takeups BIGINT, rate DOUBLE, lift DOUBLE,
    cumulative_capture DOUBLE
);
"""
"""`contact_customer_id` is the record a contact export uses for an eligible person: their latest record whose
consent allows the partner offer (a person signed up twice has two sets of contact data)."""

OFFER_PURPOSE = "partner_offer"


@dataclass(frozen=True)
class OfferRun:
    """A stored offer-propensity run."""

    run_id: str
    as_of: date
    result: OfferResult
    targets: pd.DataFrame


def run_offer(workspace: Workspace, *, package: str | None, as_of: date | None = None) -> OfferRun:
    """Train the take-up model for a package, score everyone, and mark who may receive the offer."""
    from shelfwise.customers.offer import fit_offer
    from shelfwise.privacy.consent import consented_sql

    basis = workspace.settings.privacy.legal_basis[OFFER_PURPOSE]
    with workspace.warehouse.connect(write=True, purpose="offer") as con:
        require_identity(con)
        con.execute(OFFER_DDL)
        as_of = as_of or last_activity(con)
        run_id = start_run(con, "offer", {"package": package, "as_of": as_of, "legal_basis": basis})
    try:
        with workspace.warehouse.connect(write=False, purpose="offer") as con:
            takeups = con.execute(
                "SELECT k.person_id, s.package, s.start_date FROM subscriptions s JOIN person_keys k "
                "ON k.kind = 'customer' AND k.key = s.customer_id").df()
            members = set(con.execute("SELECT DISTINCT person_id FROM person_keys WHERE kind = 'customer'").df()[
                "person_id"])

            def members_as_of(day: date) -> pd.DataFrame:  # only people with a record can be offered anything
                features = features_as_of(con, day)
                return features[features["person_id"].isin(members)]

            result = fit_offer(members_as_of, takeups, package=package, as_of=as_of)
            contactable = con.execute(
                f"SELECT k.person_id, c.customer_id FROM customers c JOIN person_keys k ON k.kind = 'customer' "
                f"AND k.key = c.customer_id WHERE c.customer_id IN ({consented_sql(OFFER_PURPOSE, basis)}) "
                "QUALIFY row_number() OVER (PARTITION BY k.person_id ORDER BY c.created_at DESC NULLS LAST, "
                "c.customer_id DESC) = 1").df()
            segments = _latest_segment_names(con)
        targets = _targets(result, contactable, segments)
        with workspace.warehouse.connect(write=True, purpose="offer") as con:
            store_rows(con, "offer_targets", run_id, targets.assign(package=package or "*"))
            store_rows(con, "offer_lift", run_id, result.lift.assign(package=package or "*"))
            finish_run(con, run_id, metrics={**result.metrics, "auc": result.auc, "auc_reason": result.auc_reason,
                                             "eligible": int(targets["eligible"].sum())})
    except Exception as error:
        with workspace.warehouse.connect(write=True, purpose="offer") as con:
            finish_run(con, run_id, error=error)
        raise
    return OfferRun(run_id=run_id, as_of=as_of, result=result, targets=targets)


def _latest_segment_names(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not has_table(con, "customer_segments"):
        return pd.DataFrame({"person_id": pd.Series(dtype=str), "segment_name": pd.Series(dtype=str)})
    return con.execute("SELECT person_id, segment_name FROM customer_segments WHERE run_id = "
                       "(SELECT max(run_id) FROM customer_segments)").df()


def _targets(result: OfferResult, contactable: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Scores with eligibility: consent for the partner offer on a record of theirs, and not having the package."""
    targets = (result.scores.merge(contactable.rename(columns={"customer_id": "contact_customer_id"}),
                                   on="person_id", how="left")
               .merge(segments, on="person_id", how="left"))
    targets["eligible"] = targets["contact_customer_id"].notna() & ~targets["has_package"] & targets["score"].notna()
    targets.loc[~targets["eligible"], "contact_customer_id"] = None
    return targets.sort_values("score", ascending=False, na_position="last", ignore_index=True)


def export_offer_contacts(workspace: Workspace, run_id: str, out: Path, *, fmt: str = "csv",
                          deciles: int = 10, actor: str | None = None) -> int:
    """The contact list of an offer run: eligible persons in the top `deciles`, consent checked again now."""
    from shelfwise.privacy.consent import export_contacts

    with workspace.warehouse.connect(write=False, purpose="offer contacts") as con:
        ids = [r[0] for r in con.execute(
            "SELECT contact_customer_id FROM offer_targets WHERE run_id = ? AND eligible AND decile <= ?",
            [run_id, deciles]).fetchall()]
    return export_contacts(workspace, OFFER_PURPOSE, out, fmt, actor=actor, customer_ids=ids)
