"""Each check finds exactly what was planted in the warehouse (see warehouses.py), and nothing on clean data."""

from __future__ import annotations

import pytest

from shelfwise.workspace import init_workspace

from .warehouses import build_planted, of, quality


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    ws = init_workspace(tmp_path_factory.mktemp("planted") / "ws")
    with ws.warehouse.connect(write=True) as con:
        build_planted(con)
    return quality(ws)


def brief(rows, *keys):
    """The given fields of each finding, sorted (None first)."""
    return sorted((tuple(r[k] for k in keys) for r in rows), key=lambda t: [(v is not None, v) for v in t])


def test_clean_data_has_no_findings_at_all(clean):
    assert quality(clean).empty


def test_exact_duplicates(found):
    rows = of(found, "exact_duplicates")
    assert brief(rows, "table_name", "affected_rows", "severity") == [("products", 1, "error"), ("stock", 2, "error")]
    stock = next(r for r in rows if r["table_name"] == "stock")
    assert stock["example"] == "date=2025-01-03, store_id=S1, product_id=P1 (3 copies)"


def test_file_duplicate_keys_count_current_loads_only(found):
    (row,) = of(found, "file_duplicate_keys")  # old.csv was replaced by a later load and is not reported
    assert (row["table_name"], row["affected_rows"], row["severity"]) == ("sales", 2, "warning")
    assert "vendas.csv" in row["detail"] and row["example"] == "line 3; line 5"


def test_near_duplicates_by_name_email_and_document(found):
    rows = of(found, "near_duplicates")
    assert brief(rows, "table_name", "column_name", "affected_rows", "severity") == [
        ("customers", "document", 2, "info"), ("customers", "email", 2, "info"),
        ("products", "name", 2, "warning"), ("stores", "name", 2, "warning"),
    ]
    examples = {(r["table_name"], r["column_name"]): r["example"] for r in rows}
    assert examples[("products", "name")] == "P3 = P4 (cafe pilao 500g)"  # P5 has another brand
    assert examples[("customers", "email")] == "C3 = C4"
    assert examples[("customers", "document")] == "C5 = C6"
    personal = " ".join(str(r["detail"]) + str(r["example"]) for r in rows if r["table_name"] == "customers")
    assert "maria" not in personal.lower() and "123" not in personal


def test_missing_values_share_and_severity(found):
    products = {r["column_name"]: r for r in of(found, "missing_values") if r["table_name"] == "products"}
    assert set(products) == {"subcategory", "shelf_life_days"}  # the placeholder P9 is not counted
    assert (products["subcategory"]["affected_rows"], products["subcategory"]["severity"]) == (3, "info")
    assert (products["shelf_life_days"]["affected_rows"], products["shelf_life_days"]["severity"]) == (4, "warning")
    assert products["shelf_life_days"]["detail"] == "66.7% of the rows of products have no shelf_life_days (4 of 6)"
    sales = [r for r in of(found, "missing_values") if r["table_name"] == "sales"]
    assert brief(sales, "column_name", "affected_rows", "severity") == [("price", 1, "info")]


def test_outliers_per_series(found):
    (row,) = of(found, "outliers")  # S2/P2's 20 units is within range; P9 has too few days to judge
    assert (row["series"], row["affected_rows"], row["severity"]) == ("store_id=S1, product_id=P1", 2, "warning")
    assert row["example"] == "2025-01-15: 100; 2025-01-20: 60"
    assert "median 11 units/day; worst: 100 units on 2025-01-15" in row["detail"]


def test_series_gaps_long_runs_warn_short_ones_inform(found):
    rows = of(found, "series_gaps")
    warning = [r for r in rows if r["severity"] == "warning"]
    info = [r for r in rows if r["severity"] == "info"]
    assert brief(warning, "series", "affected_rows") == [("store_id=S2, product_id=P1", 10)]
    assert "longest gap is 8 consecutive days from 2025-01-10" in warning[0]["detail"]
    # S1/P1 misses 28/01, S1/P2 05, 06 and 28/01, S2/P2 22 and 28/01
    assert brief(info, "series", "affected_rows") == [(None, 6)]
    assert info[0]["detail"].startswith("3 series have only short gaps")


def test_store_days_without_sales(found):
    rows = of(found, "store_days_without_sales")
    assert brief(rows, "series", "affected_rows", "severity", "example") == [
        (None, 1, "info", "2025-01-28"),  # nobody sold: reported once, not per store
        ("store_id=S2", 1, "warning", "2025-01-22"),
    ]


def test_stock_snapshot_gaps(found):
    rows = of(found, "stock_snapshot_gaps")
    assert brief(rows, "series", "affected_rows", "severity", "example") == [
        (None, 1, "info", None),  # S1/P2 on 20/01; S2's missing 12/01 is not counted again per series
        ("store_id=S2", 1, "warning", "2025-01-12"),
    ]


def test_negative_stock_quarantined_per_file_and_in_warehouse(found):
    rows = of(found, "negative_stock")
    assert brief(rows, "table_name", "column_name", "affected_rows", "severity") == [
        ("stock", None, 1, "warning"), ("stock", None, 3, "warning"), ("stock", "on_hand", 1, "error"),
    ]
    by_file = {r["affected_rows"]: r["detail"] for r in rows if r["column_name"] is None}
    assert "estoque.csv" in by_file[3] and "estoque2.csv" in by_file[1]  # the Portuguese reason counts too


def test_returns_per_store(found):
    rows = of(found, "returns")
    assert brief(rows, "series", "affected_rows", "severity") == [
        ("store_id=S1", 1, "info"), ("store_id=S2", 2, "info"),
    ]
    s2 = next(r for r in rows if r["series"] == "store_id=S2")
    assert s2["detail"] == ("2 sales row(s) are returns (negative units) in store S2, totalling -6 units "
                            "and -30 of revenue")


def test_unknown_ids_with_referencing_rows(found):
    rows = of(found, "unknown_ids")
    assert brief(rows, "table_name", "series", "affected_rows", "severity") == [
        ("products", "product_id=P9", 4, "warning"), ("stores", "store_id=S9", 0, "warning"),
    ]
    assert "(sales 3, stock 1)" in next(r["detail"] for r in rows if r["table_name"] == "products")


def test_future_dates_in_warehouse_and_quarantine(found):
    rows = of(found, "future_dates")
    assert brief(rows, "table_name", "column_name", "affected_rows") == [
        ("customers", "created_at", 1), ("sales", None, 2), ("stock", "date", 1),
    ]
    assert "vendas_fut.csv" in next(r["detail"] for r in rows if r["table_name"] == "sales")


def test_revenue_mismatch_ignores_rounding_and_missing_price(found):
    (row,) = of(found, "revenue_mismatch")
    assert (row["affected_rows"], row["severity"]) == (1, "warning")
    assert row["example"] == "2025-01-08 store S1 product P2: revenue 999, 11 × 5 = 55"


def test_quarantine_summary_per_current_file(found):
    rows = of(found, "quarantine_summary")
    assert brief(rows, "table_name", "affected_rows") == [
        ("customers", 1), ("sales", 2), ("sales", 2), ("stock", 1), ("stock", 4),
    ]
    estoque = next(r for r in rows if "estoque.csv" in r["detail"])
    assert estoque["detail"].endswith("main columns with problems: on_hand (3), date (1)")
    assert estoque["example"] == "line 2: date: 'x' is not a valid date (dd/mm/yyyy)"
    assert not any("old.csv" in r["detail"] for r in rows)
    clientes = next(r for r in rows if r["table_name"] == "customers")
    assert clientes["example"] == "line 8"  # customers hold personal data: the reason (a birth date) is left out


def test_failed_loads_only_when_the_latest_load_failed(found):
    (row,) = of(found, "failed_loads")
    assert row["severity"] == "error" and row["example"] == "clientes.xlsx"
    assert "customer_id not found" in row["detail"]


def test_a_clean_table_next_to_problems_has_no_findings(found):
    assert "suppliers" not in set(found["table_name"])


def test_every_check_found_something_in_the_planted_warehouse(found):
    from shelfwise.quality import CHECKS

    assert {c.name for c in CHECKS} == set(found["check_name"])
