"""A folder of real-shaped Brazilian exports loads with no mapping file, exactly, and loading it again is a no-op."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.ingest import LoadResult, ingest_files
from shelfwise.privacy.vault import Vault
from shelfwise.schema import TABLES
from shelfwise.workspace import init_workspace

from .samples import BRAZILIAN_FILES, TODAY

# file -> (table, rows read, accepted, quarantined, stored)
EXPECTED_LOADS = {
    "campanhas.csv": ("campaigns", 3, 1, 2, 1),
    "clientes.csv": ("customers", 5, 2, 3, 2),
    "estoque.csv": ("stock", 5, 4, 1, 4),
    "lojas.csv": ("stores", 4, 3, 1, 3),
    "produtos.csv": ("products", 6, 4, 2, 4),
    "vendas_2025.csv": ("sales", 8, 6, 2, 5),  # two rows of one (date, store, product) summed
}
EXPECTED_ROWS = {
    "campaigns": 1, "customers": 2, "stock": 4, "stores": 3, "products": 6, "sales": 5,
    "suppliers": 0, "transactions": 0, "visits": 0, "subscriptions": 0, "feedback": 0,
    "quarantine": 11, "loads": 6,
}
EXPECTED_QUARANTINE = [
    ("campanhas.csv", 3, "end_date", "end_date é anterior a start_date"),
    ("campanhas.csv", 4, "Desconto % (discount_pct)", "Desconto % (discount_pct): 150.0 está acima do máximo 100; "
                                                     "Investimento (cost): -500.0 está abaixo do mínimo 0"),
    ("clientes.csv", 3, "Data Nascimento (birth_date)",
     "Data Nascimento (birth_date): '[vault]' não é uma data válida (dd/mm/yyyy)"),
    ("clientes.csv", 4, "Aceita Marketing (consent_marketing)",
     "Aceita Marketing (consent_marketing): 'talvez' não é sim/não"),
    ("clientes.csv", 5, "Data Nascimento (birth_date)", "Data Nascimento (birth_date): [vault] é anterior a 1900"),
    ("estoque.csv", 4, "Saldo (on_hand)", "Saldo (on_hand): -5.0 está abaixo do mínimo 0"),
    ("lojas.csv", 5, "Código Loja (store_id)", "Código Loja (store_id): valor obrigatório ausente"),
    ("produtos.csv", 3, "product_id",
     'duplicate key {"product_id":"07891000100202"}; line 7 of the file, with the same key, is kept'),
    ("produtos.csv", 6, "Preço Custo (unit_cost)", "Preço Custo (unit_cost): 'abc' não é um número"),
    ("vendas_2025.csv", 6, "Quantidade (units)", "Quantidade (units): 'abc' não é um número"),
    ("vendas_2025.csv", 7, "Data (date)", "Data (date): '31/02/2025' não é uma data válida (dd/mm/yyyy)"),
]


def fingerprint(sql) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of the full content of every table."""
    return {
        name: sql(
            f"SELECT count(*), md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR)), '')) "
            f"FROM {name} t"
        )[0]
        for name in EXPECTED_ROWS
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The folder loaded once into a workspace that the read-only tests below share."""
    root = tmp_path_factory.mktemp("brazil")
    folder = root / "exports"
    folder.mkdir()
    for name, text in BRAZILIAN_FILES.items():
        (folder / name).write_bytes(text.encode("cp1252"))
    workspace = init_workspace(root / "ws")
    results = ingest_files(workspace, sorted(folder.iterdir()), today=TODAY)

    def sql(statement: str) -> list[tuple]:
        with workspace.warehouse.connect() as con:
            return con.execute(statement).fetchall()

    return results, sql, workspace


def test_brazilian_exports_load_with_no_mapping(loaded):
    results, sql, _ = loaded
    assert all(isinstance(r, LoadResult) for r in results), results
    assert {r.file.name: (r.table, r.rows_read, r.rows_accepted, r.rows_quarantined, r.rows_loaded)
            for r in results} == EXPECTED_LOADS
    assert {name: count for name, (count, _) in fingerprint(sql).items()} == EXPECTED_ROWS
    assert [(f.rsplit("/", 1)[1], *rest) for f, *rest in sql(
        "SELECT file, line, column_name, reason FROM quarantine ORDER BY file, line"
    )] == EXPECTED_QUARANTINE
    by_name = {r.file.name: r for r in results}
    assert by_name["produtos.csv"].details["encoding"] == "cp1252"  # the en dash is cp1252-only
    assert by_name["vendas_2025.csv"].unknown_ids == {"products": 1}


def test_brazilian_values_survive_exactly(loaded):
    _, sql, workspace = loaded
    assert sql("SELECT product_id, name, brand, unit_cost, unit_price, shelf_life_days, _placeholder "
               "FROM products ORDER BY product_id") == [
        ("07891000100103", "Café Torrado 500g – Tradicional", "Pilão", 12.3, 18.9, 180, False),
        ("07891000100202", "Açúcar Refinado 1kg (nova embalagem)", "União", 3.2, 5.19, 365, False),
        ("07891000100301", "Pão de Forma", "Pullman", 5.0, 8.49, 7, False),
        ("07891000100400", "Feijão Carioca 1kg", "Camil", 6.1, 1234.56, 365, False),
        ("07891000100777", None, None, None, None, None, True),  # from sales
        ("07891000100998", None, None, None, None, None, True),  # from stock
    ]
    assert sql("SELECT store_id, name, city, state, region, _placeholder FROM stores ORDER BY 1") == [
        ("001", "Loja Paulista", "São Paulo", "SP", "Sudeste", False),
        ("002", "Loja Moema", "São Paulo", "SP", "Sudeste", False),
        ("003", "Loja Niterói", "Niterói", "RJ", "Sudeste", False),
    ]
    assert sql("SELECT date, store_id, product_id, units, round(revenue, 2), price, on_promo FROM sales "
               "ORDER BY date, store_id, product_id") == [
        (date(2025, 1, 2), "001", "07891000100103", 3.0, 56.7, 18.9, False),
        (date(2025, 1, 3), "001", "07891000100202", 10.0, 1234.56, 4.99, True),
        (date(2025, 1, 3), "002", "07891000100301", -1.0, -8.49, 8.49, False),
        (date(2025, 1, 5), "003", "07891000100202", -2.0, -9.98, 4.99, False),
        (date(2025, 1, 5), "003", "07891000100777", 3.0, 30.0, 10.0, True),
    ]
    assert sql("SELECT store_id, product_id, on_hand, on_order FROM stock ORDER BY 1, 2") == [
        ("001", "07891000100103", 120.0, 24.0), ("001", "07891000100202", 1050.0, 0.0),
        ("002", "07891000100301", 8.5, None), ("002", "07891000100998", 10.0, 0.0),
    ]
    customers = sql("SELECT customer_id, name, birth_date, age_band, consent_marketing, created_at FROM customers "
                    "ORDER BY 1")
    assert [(c[0], c[3], c[4], c[5]) for c in customers] == [
        ("000123", _band(date(1980, 3, 5)), True, datetime(2024, 1, 10, 14, 30)),
        ("000127", _band(date(1995, 7, 15)), False, datetime(2024, 1, 14, 18, 45)),
    ]
    assert all(re.fullmatch("[0-9a-f]{32}", c[1]) and re.fullmatch("[0-9a-f]{32}", c[2]) for c in customers)
    people = Vault(workspace).read_people(None, purpose="test")
    assert people[["customer_id", "name", "birth_date"]].values.tolist() == [
        ["000123", "José da Silva", "1980-03-05"], ["000127", "Beatriz Lima", "1995-07-15"]]
    assert sql("SELECT campaign_id, start_date, end_date, discount_pct, cost, product_ids, store_ids "
               "FROM campaigns") == [
        ("CP01", date(2026, 2, 1), date(2026, 2, 7), 15.0, 12500.0, ["07891000100103", "07891000100202"],
         ["001", "002"]),
    ]


def _band(born: date) -> str:
    today = date.today()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next((label for upper, label in ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"),
                                            (55, "45-54"), (65, "55-64")) if age < upper), "65+")


def test_loading_the_folder_again_changes_nothing(brazilian_folder, workspace, load, sql):
    paths = sorted(brazilian_folder.iterdir())
    load(*paths, many=True)
    before = fingerprint(sql)
    result = CliRunner().invoke(app, ["ingest", "-w", str(workspace.root), *map(str, paths)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    for path in paths:
        assert f"{path.name}: sem mudança (same content already loaded as" in output
    assert "6 arquivo(s): 0 carregado(s), 6 sem mudança, 0 com erro" in output
    assert fingerprint(sql) == before


def test_every_contract_table_is_fingerprinted():
    assert set(TABLES) <= set(EXPECTED_ROWS)
