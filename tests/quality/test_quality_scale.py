"""Every check over two million sales rows (run with `pytest -m slow`)."""

from __future__ import annotations

import pytest

from .warehouses import of, quality

STORES, PRODUCTS, DAYS = 100, 100, 200  # 2,000,000 sales rows


@pytest.mark.slow
def test_all_checks_run_over_two_million_sales_rows(workspace):
    with workspace.warehouse.connect(write=True) as con:
        con.execute(f"""
            INSERT INTO sales (date, product_id, units, store_id, revenue, price, on_promo, _load_id)
            SELECT DATE '2024-01-01' + CAST(d AS INTEGER), 'P' || p, u, 'S' || s, u * 4.5, 4.5, d % 7 = 0, 'L'
            FROM (SELECT s, p, d,
                         CASE WHEN (s * 7919 + p * 104729 + d) % 997 = 0 THEN 400      -- rare spikes
                              WHEN (s + p + d) % 211 = 0 THEN -1                          -- returns
                              ELSE 5 + (s * 31 + p * 17 + d * 13) % 9 END AS u
                  FROM range({STORES}) a(s), range({PRODUCTS}) b(p), range({DAYS}) c(d)
                  WHERE (s * 13 + p * 7 + d * 3) % 53 <> 0)                               -- days not exported
        """)
        con.execute(f"""
            INSERT INTO stock (date, product_id, on_hand, store_id, on_order, _load_id)
            SELECT DATE '2024-01-01' + CAST(d * 7 AS INTEGER), 'P' || p, 50, 'S' || s, 0, 'L'
            FROM range({STORES}) a(s), range({PRODUCTS}) b(p), range({DAYS // 7}) c(d)
        """)
        rows = con.execute("SELECT count(*) FROM sales").fetchall()[0][0]
    assert rows > 1_900_000
    found = quality(workspace)
    assert of(found, "outliers") and of(found, "returns") and of(found, "series_gaps")
    assert len(found) < 1000  # per-series findings are capped; the rest is summed
