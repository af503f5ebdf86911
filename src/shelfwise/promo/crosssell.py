"""Cross-sell: which items are bought together, and "people who buy X also buy Y", overall and per segment.

A basket is what one shopper took home at once. A supermarket's receipt lists products, so its basket is the
receipt and its items are products. A mall's receipt only says which shop sold something, so its basket is one
shopper's day and its items are the shops visited that day. Returns (quantity <= 0, or a negative amount with no
quantity) are not purchases and are left out.

Rules are mined with FP-growth and scored with mlxtend (support, confidence, lift, leverage, conviction). Two things
keep the result honest rather than merely sorted by lift:

* a rule must rest on at least `MIN_PAIR_BASKETS` baskets holding both sides (the default minimum support is that
  count over the number of baskets, so it scales with the data): a pair seen 20 times has a count whose own Poisson
  error is about 1/sqrt(20) = 22%, and below that lift is mostly noise;
* recommendations are ranked by a lower bound on lift, not by lift: a one-sided Wilson bound on the rule's confidence,
  at level 1 - alpha/m, divided by the consequent's support. m counts every ordered pair of the scope's frequent
  items (Bonferroni), not only the rules that cleared the support floor: those were selected for having co-occurred
  often, and with thousands of items some pairs do by chance (on 300,000 random receipts of 3,000 items, counting
  only the surviving rules let three chance pairs through; counting the pairs lets none). A pair is recommended only
  when even that bound beats independence, so chance co-occurrences in a small segment, and items that are merely
  popular, do not top the list. The consequent's support is taken as known: it rests on at least as many baskets.
"""

from __future__ import annotations

import math
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import ndtri

from shelfwise.warehouse.core import has_table

ItemKind = Literal["auto", "product", "store"]
StoreBasket = Literal["day", "shopper"]

MIN_PAIR_BASKETS = 20
"""Baskets that must hold both sides of a rule: the default minimum support is this count over the baskets mined."""

MIN_BASKETS = 50
"""Fewer baskets than this and no rule is mined: the empty result says why."""

RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "leverage", "conviction",
                "baskets_with_antecedent", "baskets_with_consequent", "baskets_with_both"]

RECOMMENDATION_COLUMNS = ["scope", "segment", "item_kind", "item_id", "item_name", "recommended_id",
                          "recommended_name", "support", "confidence", "lift", "lift_lower", "baskets", "rank"]

RECOMMENDATIONS_DDL = """
CREATE TABLE IF NOT EXISTS recommendations (
    run_id VARCHAR, scope VARCHAR, segment VARCHAR, item_kind VARCHAR, item_id VARCHAR, item_name VARCHAR,
    recommended_id VARCHAR, recommended_name VARCHAR, support DOUBLE, confidence DOUBLE, lift DOUBLE,
    lift_lower DOUBLE, baskets BIGINT, rank BIGINT
);
"""
"""`baskets` counts the baskets of the scope holding both items; `lift_lower` is the bound the rank follows."""

_MLXTEND_METRICS = ["antecedent support", "consequent support", "support", "confidence", "lift", "leverage",
                    "conviction"]


def basket_items(
    con: duckdb.DuckDBPyConnection, *, item: ItemKind = "auto", min_item_baskets: int = 1,
    store_basket: StoreBasket = "day",
) -> pd.DataFrame:
    """Distinct (basket_id, item, person_id, segment) rows of the warehouse's purchases, ready for rule mining.

    A receipt's person is its loyalty id's person, else its card's (as `person_lines_sql` ties them), when
    `person_keys` exists; its segment is the person's persona in the latest `customer_segments` run (unclassified
    persons, segment_id < 0, have none). A store-level basket is keyed by the person, else the card, else the
    customer id; lines with none of them cannot be put in a day's basket and are left out.

    Items in fewer than `min_item_baskets` baskets cannot be in any rule that needs more, so they are dropped to keep
    the one-hot small; a basket left with no item keeps one row with a null item, so that it still counts in every
    support's denominator.

    Args:
        con: Connection to a warehouse holding `transactions` (and optionally `person_keys`, `customer_segments`).
        item: `product` (basket = receipt, items = product_id), `store` (basket = a shopper's day, items =
            store_id), or `auto`: product when at least half of the lines name a product.
        min_item_baskets: Baskets an item must appear in to be kept.
        store_basket: For store items, `day` (a shopper's day) or `shopper` (everything a shopper ever bought:
            "people who shop at X also shop at Y", the useful reading in a mall, where most visits see one shop).

    Returns:
        The rows, ordered by basket and item, with `attrs` saying how they were built: item_kind, lines,
        return_lines, lines_without_item, lines_without_buyer, baskets, items, rare_items, and a `reason` when
        there are none.

    Raises:
        ValueError: No `transactions` table, an unknown `item`, or `item="product"` on receipts naming no product.
    """
    if not has_table(con, "transactions"):
        raise ValueError("no `transactions` table in the warehouse: load receipts first "
                         "(shelfwise load transactions.csv)")
    kind = _item_kind(con, item)
    keys = has_table(con, "person_keys")
    if store_basket not in ("day", "shopper"):
        raise ValueError(f"store_basket must be 'day' or 'shopper'; got '{store_basket}'")
    by_day = store_basket == "day"
    frame = con.execute(_basket_sql(kind, keys, _segments_sql(con), by_day), [min_item_baskets]).df()
    stats = con.execute(_line_stats_sql(kind, keys, by_day)).df().iloc[0].to_dict()
    frame.attrs.update({"item_kind": kind, **{k: int(v or 0) for k, v in stats.items()},
                        "baskets": int(frame["basket_id"].nunique()), "items": int(frame["item"].nunique())})
    frame.attrs["rare_items"] = frame.attrs.pop("all_items") - frame.attrs["items"]
    if frame.empty:
        frame.attrs["reason"] = (f"no {kind} baskets: {frame.attrs['lines']} receipt lines, "
                                 f"{frame.attrs['return_lines']} of them returns, "
                                 f"{frame.attrs['lines_without_item']} without a {kind}_id")
    return frame


def _item_kind(con: duckdb.DuckDBPyConnection, item: str) -> Literal["product", "store"]:
    """The kind asked for, or the one the lines support; product needs at least one line naming a product."""
    if item not in ("auto", "product", "store"):
        raise ValueError(f"item must be 'auto', 'product' or 'store'; got '{item}'")
    if item == "store":
        return "store"
    named, lines = (con.execute("SELECT count(product_id), count(*) FROM transactions").fetchall()[0]
                    if has_table(con, "transactions", "product_id") else (0, None))
    if item == "product" and (lines is None or (lines and not named)):
        raise ValueError(f"no line of `transactions` names a product (product_id is empty in all {lines or 0} "
                         "lines): use item='store' for receipts that only say which shop sold, or item='auto'")
    return "product" if item == "product" or (lines and 2 * named >= lines) else "store"


def _segments_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """Person -> persona of the latest segmentation run (run ids sort by time); None before any segmentation."""
    if not has_table(con, "customer_segments", "segment_name"):
        return None
    classified = " AND segment_id >= 0" if has_table(con, "customer_segments", "segment_id") else ""
    return (f"SELECT person_id, any_value(segment_name) AS segment FROM customer_segments "
            f"WHERE run_id = (SELECT max(run_id) FROM customer_segments){classified} GROUP BY person_id")


def _line_sql(kind: str, keys: bool, by_day: bool = True) -> tuple[str, str]:
    """FROM clause with each line's person, and the SELECT list naming its basket, item, person, sale flag."""
    joins = ("LEFT JOIN person_keys kc ON kc.kind = 'customer' AND kc.key = t.customer_id "
             "LEFT JOIN person_keys kk ON kk.kind = 'card' AND kk.key = t.card_token") if keys else ""
    person = "coalesce(kc.person_id, kk.person_id)" if keys else "CAST(NULL AS VARCHAR)"
    sale = "coalesce(t.quantity, CASE WHEN t.amount < 0 THEN -1 END, 1) > 0"
    if kind == "product":
        basket, item = "t.transaction_id", "nullif(t.product_id, '')"
    else:
        buyer = f"coalesce('person:' || {person}, 'card:' || t.card_token, 'customer:' || t.customer_id)"
        day = " || '@' || strftime(t.timestamp, '%Y-%m-%d')" if by_day else ""
        basket, item = f"{buyer}{day}", "nullif(t.store_id, '')"
    columns = f"{basket} AS basket_id, {item} AS item, {person} AS person_id, {sale} AS sale"
    return f"FROM transactions t {joins}", columns


def _basket_sql(kind: str, keys: bool, segments: str | None, by_day: bool) -> str:
    """Deduplicated basket items, rare items (fewer baskets than `?`) blanked; segment joined per basket."""
    source, columns = _line_sql(kind, keys, by_day)
    segment_join = f"LEFT JOIN ({segments}) s ON s.person_id = b.person_id" if segments else ""
    segment = "s.segment" if segments else "CAST(NULL AS VARCHAR)"
    return f"""
WITH line AS (SELECT {columns} {source}),
sold AS (SELECT basket_id, item, person_id FROM line WHERE sale AND item IS NOT NULL AND basket_id IS NOT NULL),
basket AS (SELECT basket_id, max(person_id) AS person_id FROM sold GROUP BY basket_id),
pair AS (SELECT DISTINCT basket_id, item FROM sold),
kept AS (SELECT basket_id, CASE WHEN count(*) OVER (PARTITION BY item) >= ? THEN item END AS item FROM pair),
slim AS (SELECT basket_id, item FROM kept WHERE item IS NOT NULL
         UNION ALL
         SELECT basket_id, NULL FROM kept GROUP BY basket_id HAVING count(item) = 0)
SELECT m.basket_id, m.item, b.person_id, {segment} AS segment
FROM slim m JOIN basket b USING (basket_id) {segment_join}
ORDER BY m.basket_id, m.item"""


def _line_stats_sql(kind: str, keys: bool, by_day: bool) -> str:
    """How many lines there were and why some could not be used (counted, never silently dropped)."""
    source, columns = _line_sql(kind, keys, by_day)
    return f"""
SELECT count(*) AS lines, count(*) FILTER (WHERE NOT sale) AS return_lines,
       count(*) FILTER (WHERE sale AND item IS NULL) AS lines_without_item,
       count(*) FILTER (WHERE sale AND item IS NOT NULL AND basket_id IS NULL) AS lines_without_buyer,
       count(DISTINCT item) FILTER (WHERE sale AND basket_id IS NOT NULL) AS all_items
FROM (SELECT {columns} {source})"""


def association_rules(
    baskets: pd.DataFrame, *, min_support: float | None = None, min_confidence: float = 0.1,
    min_lift: float = 1.0, max_len: int = 2, min_pair_baskets: int = MIN_PAIR_BASKETS,
    min_baskets: int = MIN_BASKETS,
) -> pd.DataFrame:
    """Association rules between items bought together, mined with FP-growth (mlxtend) on a sparse one-hot.

    The minimum support is `min_pair_baskets` baskets over the baskets mined, or `min_support` if that is higher.
    Only baskets holding two or more frequent items can hold a frequent itemset, so FP-growth sees those alone
    (mlxtend densifies its input to count items: this keeps that array at multi-item baskets x frequent items);
    supports are then put back over every basket, single-item and item-less baskets included.

    Args:
        baskets: One row per (basket_id, item), as `basket_items` returns; a null item marks an item-less basket.
        min_support: Share of baskets a rule's items must appear in together (default: see above).
        min_confidence: Smallest P(consequent | antecedent) kept.
        min_lift: Smallest lift kept (1.0: only items bought together more often than by chance).
        max_len: Items in a rule, both sides together: 2 gives X -> Y, 3 adds {X, Y} -> Z and X -> {Y, Z}.
        min_pair_baskets: Baskets that must hold all of a rule's items.
        min_baskets: Fewer baskets than this and nothing is mined.

    Returns:
        `RULE_COLUMNS`, by lift then evidence; a side of several items is its sorted ids joined by ';'. An empty
        frame carries `attrs["reason"]`; `attrs` also says how many baskets were mined at which minimum support
        and how many items were frequent enough to be in a rule (`frequent_items`).
    """
    if max_len < 2:
        raise ValueError(f"max_len must be 2 or more (a rule has two sides); got {max_len}")
    if min_support is not None and not 0 < min_support <= 1:
        raise ValueError(f"min_support is a share of baskets, in (0, 1]; got {min_support}")
    missing = {"basket_id", "item"} - set(baskets.columns)
    if missing:
        raise ValueError(f"baskets lack column(s) {', '.join(sorted(missing))}: pass the frame basket_items returns")
    n_baskets = int(baskets["basket_id"].nunique())
    min_count = max(math.ceil(min_support * n_baskets - 1e-9) if min_support else 0, min_pair_baskets, 1)
    attrs = {"baskets": n_baskets, "min_pair_baskets": min_count,
             "min_support": min_count / n_baskets if n_baskets else float("nan")}
    if n_baskets < min_baskets:
        return _no_rules(f"{n_baskets} basket(s): rules need at least {min_baskets}", attrs)
    pairs = baskets.loc[baskets["item"].notna(), ["basket_id", "item"]].astype(str).drop_duplicates()
    item_baskets = pairs.groupby("item").size()
    attrs["frequent_items"] = int(item_baskets.ge(min_count).sum())
    pairs = pairs[pairs["item"].map(item_baskets).ge(min_count)]
    pairs = pairs[pairs.groupby("basket_id")["item"].transform("size").ge(2)]
    if pairs["basket_id"].nunique() < min_count:
        return _no_rules(f"no two items are bought together in {min_count} of the {n_baskets} baskets", attrs)
    itemsets = _frequent_itemsets(pairs, item_baskets, n_baskets, min_count, max_len)
    if not itemsets["itemsets"].map(len).gt(1).any():
        return _no_rules(f"no two items are bought together in {min_count} of the {n_baskets} baskets", attrs)
    from mlxtend.frequent_patterns import association_rules as mine_rules

    rules = mine_rules(itemsets, num_itemsets=n_baskets, metric="confidence", min_threshold=min_confidence,
                       return_metrics=_MLXTEND_METRICS)
    rules = rules[rules["lift"] >= min_lift]
    if rules.empty:
        return _no_rules(f"no rule reaches confidence {min_confidence} and lift {min_lift}", attrs)
    return _with_attrs(_rule_frame(rules, n_baskets), attrs)


def _frequent_itemsets(pairs: pd.DataFrame, item_baskets: pd.Series, n_baskets: int, min_count: int,
                       max_len: int) -> pd.DataFrame:
    """FP-growth on the multi-item baskets, supports re-expressed over all `n_baskets` baskets."""
    from mlxtend.frequent_patterns import fpgrowth

    onehot = _one_hot(pairs)
    mined = len(onehot)
    # ceil(support * mined) must give min_count back: half a basket below it absorbs float rounding
    itemsets = fpgrowth(onehot, min_support=(min_count - 0.5) / mined, use_colnames=True, max_len=max_len)
    counts = (itemsets["support"] * mined).round()
    single = itemsets["itemsets"].map(len) == 1
    # a lone item's count among multi-item baskets misses the baskets where it was alone: take its true count
    counts[single] = itemsets.loc[single, "itemsets"].map(lambda s: item_baskets[next(iter(s))])
    return itemsets.assign(support=counts / n_baskets)


def _one_hot(pairs: pd.DataFrame) -> pd.DataFrame:
    """Baskets x items as a sparse boolean frame (what mlxtend reads), built from codes, never densified here."""
    rows, _ = pd.factorize(pairs["basket_id"])
    cols, items = pd.factorize(pairs["item"], sort=True)
    matrix = sparse.csr_matrix((np.ones(len(pairs), dtype=np.uint8), (rows, cols)),
                               shape=(rows.max() + 1, len(items)))
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(i) for i in items])
    return frame.astype(pd.SparseDtype(bool, False))


def _rule_frame(rules: pd.DataFrame, n_baskets: int) -> pd.DataFrame:
    """The rules mlxtend mined, in our vocabulary: joined item ids and basket counts beside the shares."""
    frame = pd.DataFrame({
        "antecedent": rules["antecedents"].map(lambda s: ";".join(sorted(s))),
        "consequent": rules["consequents"].map(lambda s: ";".join(sorted(s))),
        "support": rules["support"], "confidence": rules["confidence"], "lift": rules["lift"],
        "leverage": rules["leverage"], "conviction": rules["conviction"],
        "baskets_with_antecedent": (rules["antecedent support"] * n_baskets).round().astype("int64"),
        "baskets_with_consequent": (rules["consequent support"] * n_baskets).round().astype("int64"),
        "baskets_with_both": (rules["support"] * n_baskets).round().astype("int64"),
    })
    return frame.sort_values(["lift", "baskets_with_both", "antecedent", "consequent"],
                             ascending=[False, False, True, True], ignore_index=True)


def _no_rules(reason: str, attrs: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object" if c in ("antecedent", "consequent") else
                                       "int64" if c.startswith("baskets") else "float64") for c in RULE_COLUMNS})
    return _with_attrs(frame, {**attrs, "reason": reason})


def _with_attrs(frame: pd.DataFrame, attrs: dict[str, object]) -> pd.DataFrame:
    """The frame with exactly these attrs (pandas carries attrs through concat and assign: none may leak in)."""
    frame.attrs = dict(attrs)
    return frame


def recommendations(
    con: duckdb.DuckDBPyConnection, *, top_n: int = 5, by_segment: bool = True, item: ItemKind = "auto",
    store_basket: StoreBasket = "day",
    min_pair_baskets: int = MIN_PAIR_BASKETS, min_confidence: float = 0.05, alpha: float = 0.05,
    min_lift_lower: float = 1.0, min_baskets: int = MIN_BASKETS,
) -> pd.DataFrame:
    """People who buy X also buy Y: for each item, its top-N companions, over all baskets and per segment.

    Rules are mined per scope: all baskets, then each segment's (a basket without a person or a segment counts in
    the overall rules only). Every scope needs `min_pair_baskets` baskets holding both items, so a small segment
    gets fewer, better-founded rules rather than noisy ones. Companions rank by `lift_lower` (see the module) and
    must have it above `min_lift_lower`.

    Args:
        con: Warehouse connection (read-only is enough).
        top_n: Companions kept per item and scope.
        by_segment: Also mine each segment of the latest `customer_segments` run.
        item: What an item is: see `basket_items`.
        store_basket: What a basket is for store items: see `basket_items`.
        min_pair_baskets: Baskets of the scope that must hold both items.
        min_confidence: Smallest P(Y | X) worth recommending.
        alpha: Family-wise error of the lift bounds within a scope (Bonferroni over its candidate pairs).
        min_lift_lower: The lift bound a companion must beat (1.0: evidence of more than chance).
        min_baskets: Scopes with fewer baskets are skipped (their reason lands in `attrs["notes"]`).

    Returns:
        `RECOMMENDATION_COLUMNS`, the rows of the `recommendations` table (see `RECOMMENDATIONS_DDL`) but for the
        run id. `attrs` holds item_kind, baskets, notes per skipped scope, and a `reason` when the frame is empty.
    """
    baskets = basket_items(con, item=item, min_item_baskets=min_pair_baskets, store_basket=store_basket)
    kind = baskets.attrs["item_kind"]
    notes: list[str] = []
    attrs = {"item_kind": kind, "baskets": baskets.attrs["baskets"], "notes": notes}
    if baskets.empty:
        return _no_recommendations(baskets.attrs["reason"], attrs)
    scopes: list[tuple[str, str | None, pd.DataFrame]] = [("all", None, baskets)]
    if by_segment and baskets["segment"].notna().any():
        scopes += [("segment", str(name), group) for name, group in baskets.groupby("segment")]
    elif by_segment:
        notes.append("no segmented person among the buyers: overall rules only")
    found = []
    for scope, segment, frame in scopes:  # one mining per scope: a handful of segments, never per row
        rules = association_rules(frame, min_confidence=min_confidence, max_len=2, min_pair_baskets=min_pair_baskets,
                                  min_baskets=min_baskets)
        if rules.empty:
            notes.append(f"{'all baskets' if segment is None else f'segment {segment!r}'}: {rules.attrs['reason']}")
        else:
            items = int(rules.attrs["frequent_items"])
            tests = max(items * (items - 1), len(rules))
            found.append(rules.assign(scope=scope, segment=segment, lift_lower=_lift_lower(rules, alpha, tests)))
    if not found:
        return _no_recommendations("; ".join(notes), attrs)
    ranked = _rank(pd.concat(found, ignore_index=True), top_n, min_lift_lower)
    if ranked.empty:
        return _no_recommendations(f"no pair's lift bound exceeds {min_lift_lower} (alpha {alpha})", attrs)
    return _with_attrs(_named(con, ranked.assign(item_kind=kind), kind)[RECOMMENDATION_COLUMNS], attrs)


def _lift_lower(rules: pd.DataFrame, alpha: float, tests: int) -> np.ndarray:
    """One-sided Wilson lower bound on confidence at level 1 - alpha/tests, over the consequent's support."""
    n = rules["baskets_with_antecedent"].to_numpy(dtype=float)
    p = rules["confidence"].to_numpy(dtype=float)
    z = float(ndtri(1.0 - alpha / tests))
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lower = (centre - spread) / (1 + z * z / n)
    return lower * rules["lift"].to_numpy(dtype=float) / p


def _rank(rules: pd.DataFrame, top_n: int, min_lift_lower: float) -> pd.DataFrame:
    """Single-item rules above the bound, ranked per (scope, segment, item), the best `top_n` kept."""
    kept = rules[rules["lift_lower"] > min_lift_lower].rename(
        columns={"antecedent": "item_id", "consequent": "recommended_id", "baskets_with_both": "baskets"})
    kept = kept.sort_values(["lift_lower", "lift", "recommended_id"], ascending=[False, False, True])
    kept["rank"] = kept.groupby(["scope", "segment", "item_id"], dropna=False).cumcount() + 1
    kept = kept[kept["rank"] <= top_n]
    return kept.sort_values(["scope", "segment", "item_id", "rank"], na_position="first", ignore_index=True)


def _named(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Item names from products or stores when the warehouse has them; ids stand alone otherwise."""
    table = "products" if kind == "product" else "stores"
    if not has_table(con, table, "name"):
        return frame.assign(item_name=None, recommended_name=None)
    names = con.execute(f"SELECT {kind}_id AS id, any_value(name) AS name FROM {table} GROUP BY 1").df()
    lookup = names.set_index("id")["name"]
    return frame.assign(item_name=frame["item_id"].map(lookup), recommended_name=frame["recommended_id"].map(lookup))


def _no_recommendations(reason: str, attrs: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64" if c in ("support", "confidence", "lift", "lift_lower") else
                                       "int64" if c in ("baskets", "rank") else "object")
                          for c in RECOMMENDATION_COLUMNS})
    return _with_attrs(frame, {**attrs, "reason": reason})
