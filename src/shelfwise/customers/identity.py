"""Identity resolution: which customer records are the same person.

Loyalty apps, e-commerce sign-ups and store registrations leave several records per shopper, with typos,
reordered names, missing or mistyped CPFs and phones in four formats. Every customer figure (visits, value,
segments, offers) counts persons, so the records are linked first. Exact keys miss true pairs and link
relatives who share a phone, so the links come from Splink's probabilistic model (m/u trained by EM) on a
private in-memory DuckDB connection. The recipe, thresholds and floors are the ones measured in
bench/notes/identity_design_study.md: read it before changing them.

Personal values enter only through `people`. The connection is private and closed afterwards, and only ids,
probabilities and agreement flags leave it. Splink's cluster ids change from run to run, so
`assign_person_ids` carries the person ids of the previous run over.
"""

from __future__ import annotations

import logging
import numbers
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import duckdb
import pandas as pd

from shelfwise.privacy.pseudonyms import normalised_sql

__all__ = ["IdentitySettings", "Resolution", "assign_person_ids", "resolve_customers"]

PEOPLE_COLUMNS = ("customer_id", "name", "email", "phone", "document", "birth_date")
FIELDS = ("cpf", "email", "phone", "name", "birth_date")
EXACT_RULES = ("same valid CPF", "same e-mail", "same phone and name")
_IDENTIFIERS = ("cpf", "email", "phone")
_EM_BLOCKS = (("cpf",), ("name_sorted", "dob"), ("email",), ("phone",))  # never name-only or dob-only (study §3)
_COMPARISON_OF = {"cpf": "cpf", "email": "email", "phone": "phone", "name_sorted": "name", "dob": "dob"}
_MIN_EM_PAIRS = 10


@dataclass(frozen=True)
class IdentitySettings:
    """How customer records are linked into persons (defaults measured in the identity design study).

    Attributes:
        link_threshold: Pairs scoring at least this match probability are linked; linked records form a
            person (connected components).
        review_threshold: Pairs scoring in [review_threshold, link_threshold) whose records end in different
            persons go to the review list for an analyst to accept or reject.
        default_area_code: Two-digit area code (DDD) given to phone numbers stored without one.
        u_max_pairs: Random record pairs sampled to estimate u, how often two different persons agree.
        seed: Seed of that sampling, so that a run on the same records gives the same persons.
        m_floor: Smallest m probability of a comparison level. EM on clean data drives the 'disagree' levels to
            ~0, and one typo then vetoes an otherwise certain pair.
        cpf_m_floor: The same floor for the CPF comparison: two different valid CPFs are strong evidence.
        unseen_u: u given to a comparison level that no sampled pair reached.
        min_training_records: With fewer distinct records than this the model cannot be trained, and the exact
            rules (same valid CPF, same e-mail, same phone and name) link records instead.
        placeholder_min_records: A CPF, e-mail or phone shared by at least this many different records is a
            placeholder (the store's own number, 'naotem@...') and is ignored.
        max_block_size: A name or birth date shared by more records than this forms no candidate pairs by
            itself (the pairs would grow quadratically); such records can still pair through other keys.
        dob_first_name_from: From this many records on, records sharing a birth date pair only when they also
            share a first name (a birth date alone gives n²/20,000 pairs).
        threads: DuckDB threads of the private connection.
    """

    link_threshold: float = 0.95
    review_threshold: float = 0.5
    default_area_code: str = "11"
    u_max_pairs: float = 2e6
    seed: int = 42
    m_floor: float = 0.01
    cpf_m_floor: float = 0.001
    unseen_u: float = 1e-5
    min_training_records: int = 50
    placeholder_min_records: int = 20
    max_block_size: int = 1000
    dob_first_name_from: int = 1_000_000
    threads: int = 1

    def __post_init__(self) -> None:
        kinds = {"float": numbers.Real, "int": numbers.Integral, "str": str}
        wrong = [f"{f.name} ({f.type})" for f in fields(self) if isinstance(getattr(self, f.name), bool)
                 or not isinstance(getattr(self, f.name), kinds[str(f.type)])]
        if wrong:
            raise ValueError(f"identity settings of the wrong type: {', '.join(wrong)}")
        if not 0 < self.review_threshold <= self.link_threshold <= 1:
            raise ValueError(f"thresholds must satisfy 0 < review_threshold <= link_threshold <= 1; got review "
                             f"{self.review_threshold}, link {self.link_threshold}")
        if not re.fullmatch(r"[1-9][0-9]", self.default_area_code):
            raise ValueError(f"default_area_code must be a two-digit DDD such as '11'; got {self.default_area_code!r}")
        if not (0 < self.m_floor < 0.5 and 0 < self.cpf_m_floor < 0.5 and 0 < self.unseen_u < 1):
            raise ValueError("m_floor and cpf_m_floor must be in (0, 0.5) and unseen_u in (0, 1)")
        small = [f.name for f in fields(self) if f.type == "int" and f.name != "seed" and getattr(self, f.name) < 1]
        if small or self.u_max_pairs < 1:
            raise ValueError(f"{', '.join(small) or 'u_max_pairs'} must be at least 1")


@dataclass(frozen=True)
class Resolution:
    """The persons found in a set of customer records; ids, scores and flags only, never personal values.

    Attributes:
        records: One row per input customer_id: customer_id, cluster_key (the smallest customer_id of its
            person, deterministic but not stable across runs: see `assign_person_ids`) and match_probability
            (the highest probability of a link from the record to another record of its person; NaN alone).
        review: Pairs for an analyst, undecided and in different persons: those scoring in [review_threshold,
            link_threshold), and those scoring higher that hold two different valid CPFs (never linked
            automatically). Columns: customer_id_l, customer_id_r, match_probability, `<field>_agrees` per
            field of FIELDS (NA when either side lacks it) and name_similarity (Jaro-Winkler, normalised names).
        conflicts: Rejected pairs whose records still ended in one person through other links:
            customer_id_l, customer_id_r, cluster_key.
        model: Splink's model (settings with m and u probabilities, no records) or the exact rules used.
        stats: Counts and timings of the run: records, clusters, pairs compared and linked, review pairs,
            conflicts, values excluded (invalid CPFs, CNPJs, placeholders) and the method used.
    """

    records: pd.DataFrame
    review: pd.DataFrame
    conflicts: pd.DataFrame
    model: dict[str, Any]
    stats: dict[str, Any]


def resolve_customers(
    people: pd.DataFrame, settings: IdentitySettings | None = None, decisions: pd.DataFrame | None = None
) -> Resolution:
    """Link customer records into persons.

    Args:
        people: One row per customer record with customer_id and the raw strings name, email, phone, document
            (CPF with or without punctuation, CNPJ, anything) and birth_date ('YYYY-MM-DD' or 'dd/mm/yyyy');
            missing columns count as empty. Rows without a customer_id, and repeats of one, are excluded and
            counted.
        settings: Thresholds and training options; the defaults when None.
        decisions: Earlier analyst reviews: customer_id_l, customer_id_r, decision ('accept' or 'reject').
            An accepted pair is linked whatever its score; a rejected pair is never linked directly (a person
            that still holds both is reported in `conflicts`); a decided pair never returns to the review list.

    Returns:
        The persons, the review list, the conflicts, the model and the run's statistics.

    Raises:
        ValueError: If `people` has no customer_id column or `decisions` holds another decision.
    """
    settings = settings or IdentitySettings()
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {settings.threads:d}; SET enable_progress_bar = false")
        stats = _normalise(con, _input_frame(people), settings)
        stats |= _decisions(con, decisions)
        with _quiet_splink():
            model, scoring = _score(con, settings)
            stats |= scoring
            stats |= _cluster(con, settings)
        records, review, conflicts = _results(con)
    finally:
        con.close()
    stats |= {"records": len(records), "review_pairs": len(review), "conflicts": len(conflicts),
              "seconds": round(time.perf_counter() - started, 3)}
    return Resolution(records=records, review=review, conflicts=conflicts, model=model, stats=stats)


def assign_person_ids(records: pd.DataFrame, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Stable person ids: each cluster keeps the person id most of its records had in the previous run.

    Clusters and previous persons are matched greedily by shared records (most first): on a merge the
    majority's id survives; on a split the larger part keeps it and the other parts get new ids. A new id is
    'P' + the first 10 hex digits of the SHA-1 of the cluster_key, so a fresh run on the same records gives
    the same ids; an id already used is never given to another cluster.

    Args:
        records: customer_id and cluster_key (as in `Resolution.records`).
        previous: customer_id and person_id of the previous run, or None for a first run.

    Returns:
        customer_id and person_id, in the order of `records`.
    """
    con = duckdb.connect()
    try:
        con.register("clusters_in", records[["customer_id", "cluster_key"]].assign(position=range(len(records))))
        before = previous[["customer_id", "person_id"]] if previous is not None else pd.DataFrame(
            {"customer_id": pd.Series(dtype=object), "person_id": pd.Series(dtype=object)})
        con.register("previous_in", before)
        con.execute(_OVERLAP_SQL)
        while con.execute(_MATCH_ROUND_SQL).fetchall()[0][0]:  # one round per layer of contested ids
            pass
        out = con.execute(_PERSON_IDS_SQL).df()
    finally:
        con.close()
    return out


# --- input ---------------------------------------------------------------------------------------------------


def _input_frame(people: pd.DataFrame) -> pd.DataFrame:
    """The six input columns as strings (a missing column is all empty), whatever types the caller had."""
    if "customer_id" not in people.columns:
        raise ValueError(f"people has no customer_id column; columns are: {', '.join(map(str, people.columns))}")
    empty = pd.Series(pd.NA, index=people.index, dtype="string")
    return pd.DataFrame({c: people[c].astype("string") if c in people.columns else empty for c in PEOPLE_COLUMNS})


def _normalise(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, settings: IdentitySettings) -> dict[str, Any]:
    """`people_norm` (one row per record) and `profiles` (one per distinct record) from the input strings."""
    con.register("raw_customers", frame)
    con.execute(_INPUT_SQL)
    con.unregister("raw_customers")
    stats = dict(zip(("records_in", "excluded_missing_id", "excluded_repeated_id"), con.execute(
        "SELECT count(*), count(*) - count(customer_id), count(customer_id) - count(DISTINCT customer_id) "
        "FROM input_rows").fetchall()[0], strict=True))
    con.execute(_NORMALISE_SQL.format(
        email=normalised_sql("email", "email"), phone=normalised_sql("phone", "phone"),
        document=normalised_sql("document", "document"), name=normalised_sql("name", "name_given"),
        ddd=settings.default_area_code))
    placeholders = 0
    for column in _IDENTIFIERS:  # shared by many different records: a placeholder, not an identifier
        con.execute(f"""CREATE OR REPLACE TEMP TABLE placeholders AS SELECT {column} AS value FROM people_norm
            WHERE {column} IS NOT NULL GROUP BY ALL
            HAVING count(DISTINCT hash(cpf, email, phone, name_sorted, dob)) >= {settings.placeholder_min_records:d}""")
        con.execute(f"UPDATE people_norm SET {column} = NULL WHERE {column} IN (SELECT value FROM placeholders)")
        placeholders += con.execute("SELECT count(*) FROM placeholders").fetchall()[0][0]
    con.execute(_PROFILES_SQL.format(cap=settings.max_block_size))
    counts = con.execute(_NORMALISE_STATS_SQL).df().iloc[0].astype(int).to_dict()
    return stats | counts | {"placeholder_values_ignored": placeholders}


def _decisions(con: duckdb.DuckDBPyConnection, decisions: pd.DataFrame | None) -> dict[str, int]:
    """`decided` (customer_id_l < customer_id_r, accept flag, profile pair) from the analyst's decisions."""
    frame = pd.DataFrame({"customer_id_l": pd.Series(dtype="string"), "customer_id_r": pd.Series(dtype="string"),
                          "decision": pd.Series(dtype="string")})
    if decisions is not None and len(decisions):
        frame = decisions[["customer_id_l", "customer_id_r", "decision"]].astype("string")
        unknown = set(frame["decision"].str.lower().dropna()) - {"accept", "reject"}
        if unknown or frame["decision"].isna().any():
            raise ValueError(f"decisions must be 'accept' or 'reject'; got {sorted(unknown) or ['<missing>']}")
    con.register("decisions_in", frame.reset_index(drop=True))
    con.execute(_DECIDED_SQL)
    accepted, rejected, unknown_ids = con.execute(
        "SELECT count(*) FILTER (accept), count(*) FILTER (NOT accept), "
        "(SELECT count(*) FROM decisions_in) - count(*) FROM decided").fetchall()[0]
    return {"decisions_accepted": accepted, "decisions_rejected": rejected, "decisions_unknown_ids": unknown_ids}


# --- scoring -------------------------------------------------------------------------------------------------


def _score(con: duckdb.DuckDBPyConnection, settings: IdentitySettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """`scored` (profile pairs at or above the review threshold) by Splink, or by the exact rules."""
    from splink.internals.exceptions import SplinkException

    clock = time.perf_counter()
    plan, reason = _training_plan(con, settings)
    model: dict[str, Any] = {"exact_rules": list(EXACT_RULES)}
    if reason is None:
        try:
            model = _trained_model(con, settings, plan)
        except (SplinkException, ValueError) as error:  # EM on degenerate data, e.g. an m underflowing to 0
            reason = f"the model could not be trained: {str(error).splitlines()[0][:200]}"
    trained = time.perf_counter()
    stats: dict[str, Any] = {"method": "exact rules" if reason else "splink", "fallback_reason": reason,
                             "em_blocks": [" & ".join(b) for b in plan] if reason is None else []}
    if reason is None:
        stats["pairs_compared"] = _predict(con, settings, model)
    else:
        con.execute(_EXACT_PAIRS_SQL)
    stats["pairs_scored"] = con.execute("SELECT count(*) FROM scored").fetchall()[0][0]
    stats.setdefault("pairs_compared", stats["pairs_scored"])
    return model, stats | {"seconds_training": round(trained - clock, 3),
                           "seconds_scoring": round(time.perf_counter() - trained, 3)}


def _training_plan(con: duckdb.DuckDBPyConnection,
                   settings: IdentitySettings) -> tuple[list[tuple[str, ...]], str | None]:
    """EM blocks that together train every comparison with data, or why the model cannot be trained."""
    profiles, *filled = con.execute(
        "SELECT count(*), " + ", ".join(f"count({c}) >= 2" for c in _COMPARISON_OF) + " FROM profiles").fetchall()[0]
    if profiles < settings.min_training_records:
        return [], f"{profiles} distinct records, fewer than min_training_records={settings.min_training_records}"
    needed = {_COMPARISON_OF[c] for c, has in zip(_COMPARISON_OF, filled, strict=True) if has}
    plan: list[tuple[str, ...]] = []
    for block in _EM_BLOCKS:  # a session trains every comparison but those on its own columns (pitfall 7)
        trains = needed - {_COMPARISON_OF[c] for c in block}
        if trains and _pairs(con, block) >= _MIN_EM_PAIRS:
            plan.append(block)
            needed -= trains
    if needed:
        return [], f"too few candidate pairs to train {', '.join(sorted(needed))}"
    if not any(_pairs(con, (c,)) for c in _IDENTIFIERS):
        return [], "no two records share a CPF, e-mail or phone"
    return plan, None


def _pairs(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...]) -> int:
    """Profile pairs sharing all of `columns`."""
    key = ", ".join(columns)
    where = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    return int(con.execute(f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM profiles "
                           f"WHERE {where} GROUP BY {key})").fetchall()[0][0])


def _trained_model(con: duckdb.DuckDBPyConnection, settings: IdentitySettings,
                   plan: list[tuple[str, ...]]) -> dict[str, Any]:
    """m/u trained as the study recommends (§5): prior from exact keys, u by sampling, EM on dense blocks."""
    from splink import DuckDBAPI, Linker, block_on

    linker = Linker(DuckDBAPI(connection=con).register("profiles"), _splink_settings(con, settings), log_level=None)
    prior = [block_on(c) for c in ("cpf", "phone") if _pairs(con, (c,))] or [block_on("email")]
    linker.training.estimate_probability_two_random_records_match(prior, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs, seed=settings.seed,
                                                     num_chunks=1)  # early stopping never fires: CPF u ~ 0
    for block in plan:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block))
    return _floored(linker.misc.save_model_to_json(), settings)


def _predict(con: duckdb.DuckDBPyConnection, settings: IdentitySettings, model: dict[str, Any]) -> int:
    """Score every blocked pair into `scored` (those at or above the review threshold); the pairs compared."""
    from splink import DuckDBAPI, Linker

    pred = Linker(DuckDBAPI(connection=con).register("profiles"), model, log_level=None).inference.predict()
    con.execute(_SCORED_SQL.format(pred=pred.physical_name, threshold=settings.review_threshold))
    compared = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    pred.drop_table_from_database_and_remove_from_cache()
    return compared


def _splink_settings(con: duckdb.DuckDBPyConnection, settings: IdentitySettings) -> Any:
    """Variant G of the study: exact CPF and phone, e-mail with username levels, names in two orders, dob."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    email = cl.CustomComparison(output_column_name="email", comparison_levels=[
        cll.NullLevel("email"), cll.ExactMatchLevel("email"),  # no term frequencies: they keep raw e-mails
        cll.ExactMatchLevel("email_user").configure(label_for_charts="Exact match on username"),
        cll.JaroWinklerLevel("email", 0.88), cll.JaroWinklerLevel("email_user", 0.88), cll.ElseLevel()])
    name = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("name_sorted"), cll.ExactMatchLevel("name_sorted"),  # order, accents, case, 'Last, First'
        cll.JaroWinklerLevel("name_clean", 0.92),  # typos, in the given order
        cll.Or(cll.JaroWinklerLevel("name_clean", 0.85), cll.JaroWinklerLevel("name_sorted", 0.92))
        .configure(label_for_charts="JW given >= 0.85 or sorted >= 0.92"),
        cll.JaroWinklerLevel("name_clean", 0.70), cll.ElseLevel()])
    n_profiles = con.execute("SELECT count(*) FROM profiles").fetchall()[0][0]
    dob_rule = block_on("block_dob", "first_name") if n_profiles >= settings.dob_first_name_from \
        else block_on("block_dob")
    return SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="customer_id",
        comparisons=[cl.ExactMatch("cpf"), email, cl.ExactMatch("phone"), name,
                     cl.DateOfBirthComparison("dob", input_is_string=False)],
        blocking_rules_to_generate_predictions=[block_on("cpf"), block_on("email"), block_on("phone"),
                                                block_on("block_name"), dob_rule],
        retain_matching_columns=False, retain_intermediate_calculation_columns=False)


def _floored(model: dict[str, Any], settings: IdentitySettings) -> dict[str, Any]:
    """Floor m (pitfall 8: a veto from one differing field) and give unseen levels a small u (pitfall 9)."""
    for comparison in model["comparisons"]:
        floor = settings.cpf_m_floor if comparison["output_column_name"] == "cpf" else settings.m_floor
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        ms = [max(lv.get("m_probability") or 0.0, floor) for lv in levels]
        for level, m in zip(levels, ms, strict=True):
            level["m_probability"] = m / sum(ms)
            if level.get("u_probability") is None:
                level["u_probability"] = settings.unseen_u
    return model


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink logs expected warnings ('level not observed'); keep them out of the user's console."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- clustering and results ----------------------------------------------------------------------------------


def _cluster(con: duckdb.DuckDBPyConnection, settings: IdentitySettings) -> dict[str, Any]:
    """`clusters` (customer_id, cluster_key) by connected components over `edges`."""
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    con.execute(_EDGES_SQL.format(link=settings.link_threshold))
    con.execute("CREATE TEMP TABLE nodes AS SELECT customer_id FROM people_norm")
    if con.execute("SELECT count(*) FROM nodes").fetchall()[0][0]:
        components = cluster_pairwise_predictions_at_threshold(
            "nodes", "edges", DuckDBAPI(connection=con), "customer_id")
        con.execute(f"CREATE TEMP TABLE clusters AS SELECT customer_id, min(customer_id) OVER "
                    f"(PARTITION BY cluster_id) AS cluster_key FROM {components.physical_name}")
    else:
        con.execute("CREATE TEMP TABLE clusters (customer_id VARCHAR, cluster_key VARCHAR)")
    return con.execute(_CLUSTER_STATS_SQL).df().iloc[0].astype(int).to_dict()


def _results(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Ids, probabilities and agreement flags out of the private connection; nothing else."""
    records = con.execute(_RECORDS_SQL).df()
    review = con.execute(_REVIEW_SQL).df()
    for column in [c for c in review.columns if c.endswith("_agrees")]:
        review[column] = review[column].astype("boolean")
    conflicts = con.execute(_CONFLICTS_SQL).df()
    return records, review, conflicts


# --- SQL -----------------------------------------------------------------------------------------------------

_STOP_WORDS = "('', 'da', 'de', 'do', 'das', 'dos', 'e')"


def _check_digit_sql(n: int) -> str:
    """SQL true when digit n + 1 of `c11` is the mod-11 check digit of its first n digits (Receita Federal).

    Unrolled: a `list_transform` lambda made the normalisation five times slower.
    """
    weighted = " + ".join(f"(ascii(substr(c11, {i}, 1)) - 48) * {n + 2 - i}" for i in range(1, n + 1))
    return f"({weighted}) * 10 % 11 % 10 = ascii(substr(c11, {n + 1}, 1)) - 48"


# raw_customers (the caller's frame, as text) -> input_rows: '' and blanks are missing values.
_INPUT_SQL = """
CREATE TEMP TABLE input_rows AS SELECT row_number() OVER () AS position,
  """ + ", ".join(f"nullif(trim({c}), '') AS {c}" for c in PEOPLE_COLUMNS) + """ FROM raw_customers
"""

# input_rows -> people_norm. Starts from privacy.pseudonyms.normalised_sql (the forms pseudonyms are keyed on;
# never change it here) and adds what only identity needs: CPF check digits, comma and token order of names,
# area codes and the ninth mobile digit, dd/mm/yyyy dates, placeholder phones (study §2).

_NORMALISE_SQL = r"""
CREATE TEMP TABLE people_norm AS
WITH kept AS (  -- one row per customer_id: the first
  SELECT * FROM input_rows WHERE customer_id IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY position) = 1
), base AS (
  SELECT customer_id, birth_date,
    CASE WHEN name LIKE '%,%' THEN trim(split_part(name, ',', 2)) || ' ' || trim(split_part(name, ',', 1))
         ELSE name END AS name_given,
    document IS NOT NULL AS has_document, email IS NOT NULL AS has_email, phone IS NOT NULL AS has_phone,
    {email} AS email_n, {phone} AS phone_n, {document} AS document_n,
    coalesce(try_strptime(birth_date, '%d/%m/%Y'), try_strptime(birth_date, '%Y-%m-%d'),
             TRY_CAST(birth_date AS TIMESTAMP))::DATE AS dob_n
  FROM kept
), digits AS (
  SELECT *, CASE WHEN regexp_full_match(document_n, '[0-9]{{11}}') AND length(ltrim(document_n, '0')) >= 8
                 THEN document_n END AS c11,  -- shaped like a CPF
         CASE length(phone_n) WHEN 13 THEN right(phone_n, 11) WHEN 12 THEN right(phone_n, 10)  -- carrier prefix
              ELSE phone_n END AS p1,
         trim(regexp_replace(coalesce({name}, ''), '[^a-z]+', ' ', 'g')) AS name_clean
  FROM base
), checked AS (
  SELECT *,
    CASE WHEN c11 = repeat(substr(c11, 1, 1), 11) THEN NULL  -- 111.111.111-11 passes the check digits
         WHEN """ + _check_digit_sql(9) + " AND " + _check_digit_sql(10) + r""" THEN c11 END AS cpf,
    CASE WHEN length(p1) = 11 AND substr(p1, 3, 1) = '9' THEN p1                    -- DDD + mobile
         WHEN length(p1) = 10 AND substr(p1, 3, 1) IN ('6', '7', '8', '9')          -- mobile before the 9th digit
           THEN substr(p1, 1, 2) || '9' || substr(p1, 3)
         WHEN length(p1) = 10 THEN p1                                               -- DDD + landline
         WHEN length(p1) = 9 AND p1 LIKE '9%' THEN '{ddd}' || p1
         WHEN length(p1) = 8 AND substr(p1, 1, 1) IN ('6', '7', '8', '9') THEN '{ddd}9' || p1
         WHEN length(p1) = 8 THEN '{ddd}' || p1 END AS p2,
    list_filter(string_split(name_clean, ' '), lambda t: t NOT IN """ + _STOP_WORDS + r""") AS tokens
  FROM digits
)
SELECT customer_id, cpf,
  CASE WHEN regexp_full_match(email_n, '[^@\s]+@[^@\s]+\.[^@\s]+') THEN email_n END AS email,
  CASE WHEN substr(p2, 3) <> repeat(substr(p2, 3, 1), length(p2) - 2) THEN p2 END AS phone,  -- 99999-9999
  nullif(name_clean, '') AS name_clean, nullif(array_to_string(list_sort(tokens), ' '), '') AS name_sorted,
  tokens[1] AS first_name,
  CASE WHEN dob_n > DATE '1900-01-01' AND dob_n <= current_date THEN dob_n END AS dob,
  has_document AND cpf IS NULL AND c11 IS NOT NULL AS invalid_cpf,
  has_document AND c11 IS NULL AS not_cpf,
  has_email AND NOT coalesce(regexp_full_match(email_n, '[^@\s]+@[^@\s]+\.[^@\s]+'), FALSE) AS bad_email,
  has_phone AND p2 IS NULL AS bad_phone, birth_date IS NOT NULL AND dob_n IS NULL AS bad_birth_date
FROM checked
"""

# Records equal on all five normal forms, with at least two of them and one identifier, are one profile:
# Splink scores profiles (all-identical inputs become one), and the copies link to it with probability 1.
_PROFILES_SQL = """
CREATE TEMP MACRO num_nonnulls(a, b, c, d, e) AS
  (a IS NOT NULL)::INT + (b IS NOT NULL)::INT + (c IS NOT NULL)::INT + (d IS NOT NULL)::INT + (e IS NOT NULL)::INT;
CREATE OR REPLACE TEMP TABLE people_norm AS
SELECT *, CASE WHEN num_nonnulls(cpf, email, phone, name_sorted, dob) >= 2 AND coalesce(cpf, email, phone) IS NOT NULL
  THEN min(customer_id) OVER (PARTITION BY cpf, email, phone, name_sorted, dob) ELSE customer_id END AS profile_id
FROM people_norm;
CREATE TEMP TABLE profiles AS
SELECT customer_id, cpf, email, regexp_extract(email, '^[^@]+') AS email_user, phone, name_clean, name_sorted,
  first_name, dob,
  CASE WHEN count(*) OVER (PARTITION BY name_sorted) <= {cap} THEN name_sorted END AS block_name,
  CASE WHEN count(*) OVER (PARTITION BY dob) <= {cap} THEN dob END AS block_dob
FROM people_norm WHERE customer_id = profile_id;
"""

_NORMALISE_STATS_SQL = """
SELECT count(*) FILTER (invalid_cpf) AS invalid_cpfs_ignored, count(*) FILTER (not_cpf) AS documents_not_cpf,
  count(*) FILTER (bad_email) AS emails_unusable, count(*) FILTER (bad_phone) AS phones_unusable,
  count(*) FILTER (bad_birth_date) AS birth_dates_unusable,
  count(*) FILTER (num_nonnulls(cpf, email, phone, name_sorted, dob) = 0) AS records_without_fields,
  count(*) FILTER (customer_id <> profile_id) AS exact_copies,
  (SELECT count(*) FROM profiles) AS distinct_records
FROM people_norm
"""

_DECIDED_SQL = """
CREATE TEMP TABLE decided AS
WITH d AS (
  SELECT least(customer_id_l, customer_id_r) AS l, greatest(customer_id_l, customer_id_r) AS r,
         lower(decision) = 'accept' AS accept, row_number() OVER () AS position
  FROM decisions_in WHERE customer_id_l <> customer_id_r
)
SELECT d.l AS customer_id_l, d.r AS customer_id_r, d.accept,
       least(a.profile_id, b.profile_id) AS profile_l, greatest(a.profile_id, b.profile_id) AS profile_r
FROM d JOIN people_norm a ON a.customer_id = d.l JOIN people_norm b ON b.customer_id = d.r
QUALIFY row_number() OVER (PARTITION BY d.l, d.r ORDER BY d.position DESC) = 1  -- the latest decision holds
"""

_SCORED_SQL = """
CREATE TEMP TABLE scored AS
SELECT p.customer_id_l, p.customer_id_r, p.match_probability, coalesce(a.cpf <> b.cpf, FALSE) AS cpf_conflict
FROM {pred} p JOIN profiles a ON a.customer_id = p.customer_id_l JOIN profiles b ON b.customer_id = p.customer_id_r
WHERE p.match_probability >= {threshold}
"""

# Deterministic fallback: each record links to the smallest id sharing its key (a star, so all-identical
# inputs give n - 1 pairs, not n²/2), except across two different valid CPFs.
_EXACT_PAIRS_SQL = """
CREATE TEMP TABLE scored AS
WITH keys AS (
  SELECT customer_id, cpf, 'c' || cpf AS k FROM profiles WHERE cpf IS NOT NULL
  UNION ALL SELECT customer_id, cpf, 'e' || email FROM profiles WHERE email IS NOT NULL
  UNION ALL SELECT customer_id, cpf, 'p' || phone || ' ' || name_sorted FROM profiles
    WHERE phone IS NOT NULL AND name_sorted IS NOT NULL
), star AS (
  SELECT customer_id, cpf, min(customer_id) OVER (PARTITION BY k) AS anchor,
         first_value(cpf) OVER (PARTITION BY k ORDER BY customer_id) AS anchor_cpf FROM keys
)
SELECT DISTINCT anchor AS customer_id_l, customer_id AS customer_id_r, 1.0::DOUBLE AS match_probability,
       coalesce(cpf <> anchor_cpf, FALSE) AS cpf_conflict
FROM star WHERE customer_id <> anchor
"""

_EDGES_SQL = """
CREATE TEMP TABLE edges AS
SELECT customer_id_l, customer_id_r, max(match_probability) AS match_probability FROM (
  SELECT s.customer_id_l, s.customer_id_r, s.match_probability FROM scored s
  WHERE s.match_probability >= {link} AND NOT s.cpf_conflict AND NOT EXISTS (
    SELECT 1 FROM decided d WHERE NOT d.accept AND d.profile_l = s.customer_id_l AND d.profile_r = s.customer_id_r)
  UNION ALL SELECT profile_id, customer_id, 1.0 FROM people_norm p WHERE customer_id <> profile_id AND NOT EXISTS (
    SELECT 1 FROM decided d WHERE NOT d.accept AND d.customer_id_l = p.profile_id AND d.customer_id_r = p.customer_id)
  UNION ALL SELECT customer_id_l, customer_id_r, 1.0 FROM decided WHERE accept
) GROUP BY ALL
"""

_CLUSTER_STATS_SQL = """
WITH sizes AS (
  SELECT c.cluster_key, count(*) AS n, count(DISTINCT p.cpf) AS cpfs
  FROM clusters c JOIN people_norm p USING (customer_id) GROUP BY ALL
)
SELECT count(*) AS clusters, count(*) FILTER (n > 1) AS clusters_with_several_records,
  coalesce(max(n), 0) AS largest_cluster, count(*) FILTER (n > 3) AS clusters_over_3_records,
  count(*) FILTER (cpfs > 1) AS clusters_with_several_cpfs, (SELECT count(*) FROM edges) AS pairs_linked,
  (SELECT count(*) FROM scored WHERE cpf_conflict) AS pairs_with_two_cpfs
FROM sizes
"""

_RECORDS_SQL = """
WITH ends AS (
  SELECT customer_id_l AS customer_id, match_probability FROM edges
  UNION ALL SELECT customer_id_r, match_probability FROM edges
)
SELECT c.customer_id, c.cluster_key, max(e.match_probability) AS match_probability
FROM clusters c LEFT JOIN ends e USING (customer_id) GROUP BY ALL ORDER BY c.customer_id
"""

_REVIEW_SQL = """
SELECT s.customer_id_l, s.customer_id_r, s.match_probability,
  a.cpf = b.cpf AS cpf_agrees, a.email = b.email AS email_agrees, a.phone = b.phone AS phone_agrees,
  a.name_sorted = b.name_sorted AS name_agrees, a.dob = b.dob AS birth_date_agrees,
  round(jaro_winkler_similarity(a.name_clean, b.name_clean), 3) AS name_similarity
FROM scored s JOIN profiles a ON a.customer_id = s.customer_id_l JOIN profiles b ON b.customer_id = s.customer_id_r
  JOIN clusters ca ON ca.customer_id = s.customer_id_l JOIN clusters cb ON cb.customer_id = s.customer_id_r
WHERE ca.cluster_key <> cb.cluster_key
  AND NOT EXISTS (SELECT 1 FROM decided d WHERE d.profile_l = s.customer_id_l AND d.profile_r = s.customer_id_r)
ORDER BY s.match_probability DESC, s.customer_id_l, s.customer_id_r
"""

_CONFLICTS_SQL = """
SELECT d.customer_id_l, d.customer_id_r, ca.cluster_key
FROM decided d JOIN clusters ca ON ca.customer_id = d.customer_id_l JOIN clusters cb ON cb.customer_id = d.customer_id_r
WHERE NOT d.accept AND ca.cluster_key = cb.cluster_key ORDER BY ALL
"""

# assign_person_ids: clusters_in (customer_id, cluster_key), previous_in (customer_id, person_id).
_OVERLAP_SQL = """
CREATE TEMP TABLE overlap AS
SELECT c.cluster_key, p.person_id, count(*) AS shared
FROM clusters_in c JOIN previous_in p ON p.customer_id = c.customer_id WHERE p.person_id IS NOT NULL GROUP BY ALL;
CREATE TEMP TABLE kept (cluster_key VARCHAR, person_id VARCHAR);
"""

# A (cluster, person) pair is kept when it is the best free pair of both: greedy matching, most shared first.
_MATCH_ROUND_SQL = """
INSERT INTO kept
WITH free AS (
  SELECT * FROM overlap WHERE cluster_key NOT IN (SELECT cluster_key FROM kept)
    AND person_id NOT IN (SELECT person_id FROM kept)
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY cluster_key ORDER BY shared DESC, person_id) AS by_cluster,
            row_number() OVER (PARTITION BY person_id ORDER BY shared DESC, cluster_key) AS by_person
  FROM free
)
SELECT cluster_key, person_id FROM ranked WHERE by_cluster = 1 AND by_person = 1
"""

_PERSON_IDS_SQL = """
WITH used AS (SELECT person_id FROM previous_in UNION SELECT person_id FROM kept),
fresh AS (
  SELECT DISTINCT cluster_key FROM clusters_in WHERE cluster_key NOT IN (SELECT cluster_key FROM kept)
), candidates AS (  -- salt 0 is the plain hash; the next salts only when that id is taken
  SELECT cluster_key, salt, 'P' || left(sha1(cluster_key || CASE WHEN salt = 0 THEN '' ELSE '#' || salt END), 10)
    AS person_id FROM fresh CROSS JOIN range(0, 8) t(salt)
), named AS (
  SELECT cluster_key, arg_min(person_id, salt) AS person_id FROM candidates
  WHERE person_id NOT IN (SELECT person_id FROM used WHERE person_id IS NOT NULL) GROUP BY ALL
)
SELECT c.customer_id, coalesce(k.person_id, n.person_id) AS person_id
FROM clusters_in c LEFT JOIN kept k USING (cluster_key) LEFT JOIN named n USING (cluster_key)
ORDER BY c.position
"""
