"""Hand-made warehouses: a clean one (two stores, two products, 30 days) and one with every problem planted.

Each planted block says what it plants and the counts the checks must find.
"""

from __future__ import annotations

from datetime import date, datetime

from shelfwise.quality import run_quality
from shelfwise.workspace import Workspace

TODAY = date(2025, 1, 31)
DAYS = 30  # sales and stock from 2025-01-01 to 2025-01-30


def insert(con, table: str, rows: list[dict]) -> None:
    """INSERT the given rows (dicts of column -> value) into a warehouse table."""
    columns = list(rows[0])
    con.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row.get(c) for c in columns] for row in rows],
    )


def build_clean(con) -> None:
    """Complete master data and daily sales and stock without a single problem."""
    insert(con, "stores", [
        {"store_id": s, "name": n, "city": "São Paulo", "state": "SP", "region": "Sudeste", "format": "super",
         "_load_id": "L0", "_placeholder": False}
        for s, n in (("S1", "Loja Paulista"), ("S2", "Loja Moema"))
    ])
    insert(con, "suppliers", [
        {"supplier_id": "F1", "name": "Distribuidora Sul", "email": "vendas@sul.example", "lead_time_days": 5,
         "_load_id": "L0", "_placeholder": False},
    ])
    insert(con, "products", [
        {"product_id": p, "name": n, "category": "Mercearia", "subcategory": "Grãos", "brand": b,
         "supplier_id": "F1", "unit_cost": 3.0, "unit_price": 5.0, "lead_time_days": 5, "case_pack": 12,
         "shelf_life_days": 365, "_load_id": "L0", "_placeholder": False}
        for p, n, b in (("P1", "Arroz Tipo 1 5kg", "Camil"), ("P2", "Feijão Carioca 1kg", "Kicaldo"))
    ])
    insert(con, "customers", [
        {"customer_id": c, "name": n, "email": e, "phone": "11999990000", "document": d,
         "birth_date": date(1990, 5, 1), "gender": "F", "city": "São Paulo", "state": "SP",
         "consent_marketing": True, "created_at": "2024-06-01 10:00:00", "_load_id": "L0", "_placeholder": False}
        for c, n, e, d in (("C1", "Ana Souza", "ana@example.com", "111.222.333-44"),
                           ("C2", "Bruno Lima", "bruno@example.com", "555.666.777-88"))
    ])
    con.execute(f"""
        INSERT INTO sales (date, product_id, units, store_id, revenue, price, on_promo, _load_id)
        SELECT DATE '2025-01-01' + CAST(d AS INTEGER), p, 10 + d % 3, s, (10 + d % 3) * 5.0, 5.0, false, 'L0'
        FROM range({DAYS}) r(d), (VALUES ('S1'), ('S2')) s(s), (VALUES ('P1'), ('P2')) p(p)
    """)
    con.execute(f"""
        INSERT INTO stock (date, product_id, on_hand, store_id, on_order, _load_id)
        SELECT DATE '2025-01-01' + CAST(d AS INTEGER), p, 100, s, 0, 'L0'
        FROM range({DAYS}) r(d), (VALUES ('S1'), ('S2')) s(s), (VALUES ('P1'), ('P2')) p(p)
    """)


def quality(ws: Workspace, *, language: str = "en", run_id: str = "r1", **options):
    """Run every check on the workspace warehouse and return the findings."""
    with ws.warehouse.connect(write=True) as con:
        return run_quality(con, run_id=run_id, today=TODAY, language=language, **options)


def of(findings, check: str):
    """The findings of one check, as a list of dicts."""
    return findings[findings["check_name"] == check].to_dict("records")

def _loads(con) -> None:
    rows = [
        ("L1", "sales", "vendas.csv", "loaded", 2, "2025-01-31 08:00:00"),
        ("Lold1", "sales", "old.csv", "loaded", 5, "2025-01-31 07:00:00"),   # replaced by Lold2
        ("Lold2", "sales", "old.csv", "loaded", 0, "2025-01-31 09:00:00"),
        ("L3", "stock", "estoque.csv", "loaded", 0, "2025-01-31 08:00:00"),
        ("L4", "stock", "estoque2.csv", "loaded", 0, "2025-01-31 08:00:00"),
        ("L5", "sales", "vendas_fut.csv", "loaded", 0, "2025-01-31 08:00:00"),
        ("L7", "products", "produtos.csv", "failed", None, "2025-01-31 07:00:00"),  # fixed by L8
        ("L8", "products", "produtos.csv", "loaded", 0, "2025-01-31 08:00:00"),
    ]
    insert(con, "loads", [
        {"load_id": i, "table_name": t, "file": f, "status": s, "duplicate_rows": d, "started_at": at,
         "finished_at": at, "message": "products.csv: bad header" if s == "failed" else ""}
        for i, t, f, s, d, at in rows
    ])
    insert(con, "loads", [{"load_id": "L6", "table_name": None, "file": "clientes.xlsx", "status": "failed",
                           "message": "clientes.xlsx: required column customer_id not found",
                           "started_at": "2025-01-31 10:00:00", "finished_at": "2025-01-31 10:00:00"}])


def _quarantine(con) -> None:
    dup = 'duplicate key {"date":"2025-01-04","store_id":"S1","product_id":"P1"}; line 9 of the file is kept'
    rows = [
        ("L1", "sales", "vendas.csv", 3, "date,store_id,product_id", dup),
        ("L1", "sales", "vendas.csv", 5, "date,store_id,product_id", dup),
        ("Lold1", "sales", "old.csv", 4, "date,store_id,product_id", dup),
        ("L3", "stock", "estoque.csv", 4, "on_hand", "on_hand: -5 is below the minimum 0"),
        ("L3", "stock", "estoque.csv", 7, "on_hand", "on_hand: -1 is below the minimum 0"),
        ("L3", "stock", "estoque.csv", 9, "on_hand", "on_hand: -2 is below the minimum 0"),
        ("L3", "stock", "estoque.csv", 2, "date", "date: 'x' is not a valid date (dd/mm/yyyy)"),
        ("L4", "stock", "estoque2.csv", 2, "estoque (on_hand)", "estoque (on_hand): -1 está abaixo do mínimo 0"),
        ("L5", "sales", "vendas_fut.csv", 2, "date", "date: 2025-03-01 is in the future"),
        ("L5", "sales", "vendas_fut.csv", 3, "date", "date: 2025-03-02 is in the future"),
        # personal data: the reason quotes a birth date, which must not reach the report
        ("L9", "customers", "clientes.csv", 8, "birth_date", "birth_date: '31/02/1990' is not a valid date"),
    ]
    insert(con, "quarantine", [
        {"load_id": i, "table_name": t, "file": f, "line": n, "column_name": c, "reason": r, "raw": "{}",
         "quarantined_at": datetime(2025, 1, 31, 8)}
        for i, t, f, n, c, r in rows
    ])


def _master_data(con) -> None:
    # exact duplicate: P2 copied once -> products: 1 extra row, 1 group
    con.execute("INSERT INTO products SELECT * FROM products WHERE product_id = 'P2'")
    # near duplicates: P3 and P4 (same name, category and brand once folded); P5 has another brand
    insert(con, "products", [
        {"product_id": p, "name": n, "category": c, "brand": b, "supplier_id": "F1", "unit_cost": 3.0,
         "unit_price": 5.0, "lead_time_days": 5, "case_pack": 12, "_load_id": "L8", "_placeholder": False}
        for p, n, c, b in (("P3", "Café  Pilão 500g", "Mercearia", "Pilão"),
                           ("P4", " cafe pilao 500G", "mercearia", "PILAO"),
                           ("P5", "Cafe Pilao 500g", "Mercearia", "Melitta"))
    ])
    # missing values in products (6 real rows): subcategory 3/6 = 50% -> info; shelf_life_days 4/6 -> warning
    con.execute("UPDATE products SET shelf_life_days = NULL WHERE product_id = 'P1'")
    # unknown ids: P9 (3 sales + 1 stock row reference it), S9 (nothing references it)
    insert(con, "products", [{"product_id": "P9", "_load_id": "L1", "_placeholder": True}])
    insert(con, "stores", [{"store_id": "S9", "_load_id": "L1", "_placeholder": True}])
    # near-duplicate stores S3/S4 (no sales; city, state, region, format missing in 2 of 4 -> info)
    insert(con, "stores", [{"store_id": s, "name": n, "_load_id": "L0", "_placeholder": False}
                           for s, n in (("S3", "Loja Centro"), ("S4", "LOJA   centro"))])
    # near-duplicate customers: C3/C4 same e-mail, C5/C6 same CPF (the warehouse holds pseudonyms of the
    # normalised values, so different spellings arrive equal)
    insert(con, "customers", [
        {"customer_id": c, "name": "Cliente", "email": e, "document": d, "_load_id": "L0", "_placeholder": False}
        for c, e, d in (("C3", "ps-email-maria", None), ("C4", "ps-email-maria", None),
                        ("C5", None, "ps-cpf-12345678900"), ("C6", None, "ps-cpf-12345678900"))
    ])
    # a customer created after today (within tolerance): customers.created_at 1 row in the future
    con.execute("UPDATE customers SET created_at = '2025-02-01 10:00:00' WHERE customer_id = 'C2'")


def _sales(con) -> None:
    def set_units(store, product, day, units):
        con.execute("UPDATE sales SET units = ?, revenue = ? * 5.0 WHERE store_id = ? AND product_id = ? "
                    "AND date = ?", [units, units, store, product, day])

    # outliers: S1/P1 on 15/01 (100) and 20/01 (60); S2/P2 on 05/01 (20) is within the range
    set_units("S1", "P1", date(2025, 1, 15), 100)
    set_units("S1", "P1", date(2025, 1, 20), 60)
    set_units("S2", "P2", date(2025, 1, 5), 20)
    # returns: S1 1 row (-3 units, -15 revenue); S2 2 rows (-4 and -2 units, -30 revenue)
    set_units("S1", "P2", date(2025, 1, 25), -3)
    set_units("S2", "P2", date(2025, 1, 26), -4)
    set_units("S2", "P1", date(2025, 1, 27), -2)
    # series gaps: S2/P1 loses 10..17/01 (8 days, a warning); S1/P2 loses 05 and 06/01 (short)
    con.execute("DELETE FROM sales WHERE store_id = 'S2' AND product_id = 'P1' "
                "AND date BETWEEN '2025-01-10' AND '2025-01-17'")
    con.execute("DELETE FROM sales WHERE store_id = 'S1' AND product_id = 'P2' "
                "AND date IN ('2025-01-05', '2025-01-06')")
    # store S2 sells nothing on 22/01; nobody sells on 28/01
    con.execute("DELETE FROM sales WHERE (store_id = 'S2' AND date = '2025-01-22') OR date = '2025-01-28'")
    # revenue inconsistent on S1/P2 08/01; S2/P2 09/01 is off by rounding only; S2/P2 11/01 has no price
    con.execute("UPDATE sales SET revenue = 999 WHERE store_id = 'S1' AND product_id = 'P2' AND date = '2025-01-08'")
    con.execute("UPDATE sales SET revenue = revenue + 0.04 WHERE store_id = 'S2' AND product_id = 'P2' "
                "AND date = '2025-01-09'")
    con.execute("UPDATE sales SET price = NULL WHERE store_id = 'S2' AND product_id = 'P2' AND date = '2025-01-11'")
    # sales of the unknown product P9 (3 days: too short to judge outliers)
    insert(con, "sales", [{"date": date(2025, 1, d), "product_id": "P9", "units": 1, "store_id": "S1",
                           "revenue": 5.0, "price": 5.0, "on_promo": False, "_load_id": "L1"} for d in (1, 2, 3)])


def _stock(con) -> None:
    # exact duplicates: the S1/P1 03/01 snapshot twice more -> stock: 2 extra rows, 1 group
    con.execute("INSERT INTO stock SELECT * FROM stock WHERE store_id = 'S1' AND product_id = 'P1' "
                "AND date = '2025-01-03'")
    con.execute("INSERT INTO stock SELECT * FROM stock WHERE store_id = 'S1' AND product_id = 'P1' "
                "AND date = '2025-01-03' LIMIT 1")
    # snapshots: S2 has none on 12/01; S1/P2 lacks 20/01
    con.execute("DELETE FROM stock WHERE (store_id = 'S2' AND date = '2025-01-12') "
                "OR (store_id = 'S1' AND product_id = 'P2' AND date = '2025-01-20')")
    # negative stock that reached the warehouse: S1/P1 02/01 at -2
    con.execute("UPDATE stock SET on_hand = -2 WHERE store_id = 'S1' AND product_id = 'P1' AND date = '2025-01-02'")
    # a snapshot dated tomorrow (within tolerance) and one of the unknown product P9
    insert(con, "stock", [
        {"date": day, "product_id": product, "on_hand": on_hand, "store_id": "S1", "on_order": 0, "_load_id": "L3"}
        for day, product, on_hand in ((date(2025, 2, 1), "P1", 90), (date(2025, 1, 1), "P9", 5))
    ])


def build_planted(con) -> None:
    """The clean warehouse plus one or more planted cases of every check."""
    build_clean(con)
    _loads(con)
    _quarantine(con)
    _master_data(con)
    _sales(con)
    _stock(con)
