"""How a file combines with what is loaded: upsert by key, replace-period, and ids registered as placeholders."""

from __future__ import annotations

import pytest

from shelfwise.ingest import IngestError, ingest_files
from shelfwise.workspace import open_workspace

from .samples import TODAY

FIRST = (
    "data;loja;produto;quantidade\n"
    "01/01/2026;L1;P1;1\n"
    "02/01/2026;L1;P2;2\n"
    "03/01/2026;L1;P1;3\n"
    "04/01/2026;L1;P1;4\n"  # outside the corrected period
    "02/01/2026;L2;P1;5\n"  # another store
)
CORRECTED = (  # L1 from 01/01 to 03/01: P1 corrected, P2 of 02/01 no longer there
    "data;loja;produto;quantidade\n"
    "01/01/2026;L1;P1;10\n"
    "03/01/2026;L1;P1;30\n"
)


def sales(sql) -> list[tuple]:
    return sql("SELECT day(date), store_id, product_id, units FROM sales ORDER BY 1, 2, 3")


def test_upsert_replaces_rows_with_the_same_key_and_keeps_the_others(files, load, sql):
    (files / "vendas_1.csv").write_text(FIRST)
    (files / "vendas_2.csv").write_text(CORRECTED)
    load(files / "vendas_1.csv")
    result = load(files / "vendas_2.csv")
    assert (result.rows_loaded, sql("SELECT mode FROM loads WHERE load_id = ?", [result.load_id])) == (
        2, [("upsert",)])
    assert sales(sql) == [
        (1, "L1", "P1", 10.0), (2, "L1", "P2", 2.0), (2, "L2", "P1", 5.0), (3, "L1", "P1", 30.0),
        (4, "L1", "P1", 4.0),
    ]


def test_replace_period_removes_what_the_corrected_file_no_longer_has(files, load, sql):
    (files / "vendas_1.csv").write_text(FIRST)
    (files / "vendas_2.csv").write_text(CORRECTED)
    load(files / "vendas_1.csv")
    result = load(files / "vendas_2.csv", mode="replace-period")
    assert sql("SELECT mode FROM loads WHERE load_id = ?", [result.load_id]) == [("replace-period",)]
    assert sales(sql) == [
        (1, "L1", "P1", 10.0),  # replaced
        (2, "L2", "P1", 5.0),   # another store, same day: kept
        (3, "L1", "P1", 30.0),  # replaced
        (4, "L1", "P1", 4.0),   # same store, after the file's last day: kept
    ]  # (2, L1, P2) is gone: inside L1's corrected period and absent from the file


def test_replace_period_is_the_per_table_default_when_configured(files, workspace, load, sql):
    config = workspace.root / "shelfwise.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('sales = "upsert"', 'sales = "replace-period"'),
                      encoding="utf-8")
    (files / "vendas_1.csv").write_text(FIRST)
    (files / "vendas_2.csv").write_text(CORRECTED)
    reopened = open_workspace(workspace.root)
    results = ingest_files(reopened, [files / "vendas_1.csv", files / "vendas_2.csv"], today=TODAY)
    assert [r.rows_loaded for r in results] == [5, 2]
    assert sql("SELECT mode FROM loads ORDER BY started_at") == [("replace-period",), ("replace-period",)]
    assert [row[:3] for row in sales(sql)] == [(1, "L1", "P1"), (2, "L2", "P1"), (3, "L1", "P1"), (4, "L1", "P1")]


def test_an_unknown_mode_is_refused(files, load):
    (files / "vendas.csv").write_text(CORRECTED)
    with pytest.raises(IngestError, match="unknown load mode 'append' — expected one of: upsert, replace-period"):
        load(files / "vendas.csv", mode="append")


def test_a_reloaded_dimension_file_upserts_by_key(files, load, sql):
    (files / "lojas_1.csv").write_text("loja;nome;uf\n001;Paulista;SP\n002;Moema;SP\n")
    (files / "lojas_2.csv").write_text("loja;nome;uf\n002;Moema Shopping;SP\n003;Niterói;RJ\n")
    load(files / "lojas_1.csv")
    load(files / "lojas_2.csv")
    assert sql("SELECT store_id, name FROM stores ORDER BY 1") == [
        ("001", "Paulista"), ("002", "Moema Shopping"), ("003", "Niterói"),
    ]


def test_unknown_product_is_kept_as_a_placeholder_then_replaced_by_the_catalogue(files, load, sql):
    (files / "vendas.csv").write_text("data;loja;produto;quantidade\n05/01/2026;L1;0789;2\n05/01/2026;L1;0790;1\n")
    (files / "produtos.csv").write_text("sku;descricao;categoria\n0789;Café 500g;Mercearia\n")
    sales_result = load(files / "vendas.csv")
    assert sales_result.unknown_ids == {"products": 2, "stores": 1}
    assert sql("SELECT product_id, units FROM sales ORDER BY 1") == [("0789", 2.0), ("0790", 1.0)]
    assert sql("SELECT product_id, name, _placeholder, _load_id FROM products ORDER BY 1") == [
        ("0789", None, True, sales_result.load_id), ("0790", None, True, sales_result.load_id),
    ]
    catalogue = load(files / "produtos.csv")
    assert sql("SELECT product_id, name, category, _placeholder, _load_id FROM products ORDER BY 1") == [
        ("0789", "Café 500g", "Mercearia", False, catalogue.load_id),
        ("0790", None, None, True, sales_result.load_id),
    ]
    # a later sales file naming a known product registers nothing
    (files / "vendas_2.csv").write_text("data;loja;produto;quantidade\n06/01/2026;L1;0789;4\n")
    assert load(files / "vendas_2.csv").unknown_ids == {}
    assert sql("SELECT count(*) FROM products") == [(2,)]


def test_sales_without_a_store_column_go_to_the_default_store(files, load, sql):
    (files / "vendas.csv").write_text("data;produto;quantidade\n05/01/2026;P1;2\n05/01/2026;P1;3\n")
    result = load(files / "vendas.csv")
    assert result.unknown_ids == {"products": 1, "stores": 1}
    assert sql("SELECT store_id, units FROM sales") == [("main", 5.0)]
    assert sql("SELECT store_id, _placeholder FROM stores") == [("main", True)]
