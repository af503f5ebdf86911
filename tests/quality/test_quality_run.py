"""The public API around the checks: storing a run, languages, selection, caps, the summary, the catalogue."""

from __future__ import annotations

from datetime import date

import pytest

from shelfwise.quality import CHECKS, Thresholds, run_quality, summarize, texts
from shelfwise.quality.run import COLUMNS

from .warehouses import TODAY, build_planted, insert, of, quality


@pytest.fixture
def planted(workspace):
    with workspace.warehouse.connect(write=True) as con:
        build_planted(con)
    return workspace


def stored(ws, run_id):
    with ws.warehouse.connect() as con:
        return con.execute("SELECT * FROM quality_issues WHERE run_id = ? ORDER BY ALL", [run_id]).df()


def test_findings_are_stored_and_a_rerun_replaces_its_own_rows_only(planted):
    first = quality(planted, run_id="a")
    quality(planted, run_id="b")
    again = quality(planted, run_id="a")
    assert list(first.columns) == list(COLUMNS)
    assert len(stored(planted, "a")) == len(again) == len(first) > 0
    assert len(stored(planted, "b")) == len(first)
    row = stored(planted, "a").query("check_name == 'returns' and series == 'store_id=S1'").iloc[0]
    assert row["affected_rows"] == 1 and row["severity"] == "info" and row["run_id"] == "a"


def test_details_in_portuguese_with_brazilian_numbers(planted):
    found = quality(planted, language="pt")
    s2 = next(r for r in of(found, "returns") if r["series"] == "store_id=S2")
    assert s2["detail"] == ("2 linha(s) de vendas com devolução (unidades negativas) na loja S2, somando -6 "
                            "unidades e -30 de receita")
    shelf = next(r for r in of(found, "missing_values") if r["column_name"] == "shelf_life_days")
    assert shelf["detail"] == "66,7% das linhas de produtos estão sem shelf_life_days (4 de 6)"
    (outlier,) = of(found, "outliers")
    assert outlier["example"] == "15/01/2025: 100; 20/01/2025: 60"


def test_unknown_language_falls_back_to_english(planted):
    found = quality(planted, language="fr")
    assert of(found, "failed_loads")[0]["detail"].startswith("loading clientes.xlsx failed")


def test_an_empty_warehouse_has_no_findings(workspace):
    found = quality(workspace)
    assert found.empty and list(found.columns) == list(COLUMNS)
    assert summarize(found, "en").splitlines() == [
        "0 quality findings (0 errors, 0 warnings, 0 info)", "No quality issues found.",
    ]


def test_only_the_named_checks_run(planted):
    found = quality(planted, checks=["returns", "outliers"])
    assert set(found["check_name"]) == {"returns", "outliers"}
    with pytest.raises(ValueError, match=r"unknown quality check.*nope.*expected some of"):
        quality(planted, checks=["nope"])


def test_per_series_findings_are_capped_and_the_rest_summed(clean):
    with clean.warehouse.connect(write=True) as con:
        con.execute("UPDATE sales SET units = 500, revenue = 2500 WHERE date = '2025-01-15'")  # 4 series
        con.execute("UPDATE sales SET units = -1, revenue = -5 WHERE date = '2025-01-20' AND product_id = 'P1'")
    found = quality(clean, thresholds=Thresholds(max_series_findings=1))
    outliers = of(found, "outliers")
    assert [r["series"] is None for r in outliers] == [False, True]
    assert outliers[1]["affected_rows"] == 3 and outliers[1]["detail"].startswith("3 more series")
    returns = of(found, "returns")
    assert [r["affected_rows"] for r in returns] == [1, 1]
    assert returns[1]["detail"] == "1 more store(s) with returns: 1 row(s), totalling -1 units"


def test_thresholds_change_what_counts(planted):
    loose = quality(planted, thresholds=Thresholds(gap_warning_days=20, revenue_abs_tolerance=1000))
    assert all(r["severity"] == "info" for r in of(loose, "series_gaps"))
    assert of(loose, "revenue_mismatch") == []


def test_summary_counts_and_lists_the_worst_first(planted):
    found = quality(planted, language="pt", run_id="run-7")
    text = summarize(found, "pt", top=3)
    lines = text.splitlines()
    counts = found["severity"].value_counts()
    assert lines[0] == (f"{len(found)} achados de qualidade ({counts['error']} erros, {counts['warning']} avisos, "
                        f"{counts['info']} informativos)")
    assert lines[1] == "Principais achados:"
    assert all(line.startswith("  ERRO") for line in lines[2:5])
    assert lines[5] == f"  … e mais {len(found) - 3} achado(s)."
    assert "run_id = 'run-7'" in lines[6]
    assert "[" not in text  # plain text: nothing a rich console would read as markup


def test_the_catalogue_declares_each_check_in_both_languages():
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names))
    for check in CHECKS:
        assert check.severity in ("error", "warning", "info")
        assert set(check.description) == {"pt", "en"} and check.description["pt"] != check.description["en"]
        assert check.describe("pt-BR") == check.description["pt"]


def test_every_sentence_exists_in_portuguese_and_english():
    for catalogue in (texts.TEXTS, texts.TABLE_LABELS, texts.SEVERITY_LABELS):
        for key, sentences in catalogue.items():
            assert set(sentences) == {"pt", "en"}, key


@pytest.mark.parametrize(("value", "pt", "en"), [
    (1234.5, "1.234,5", "1,234.5"), (-37, "-37", "-37"), (0.004, "0", "0"), (2_000_000, "2.000.000", "2,000,000"),
])
def test_numbers_read_the_local_way(value, pt, en):
    assert texts.number(value, "pt") == pt and texts.number(value, "en") == en


def test_shares_and_days_read_the_local_way():
    assert texts.share(0.4532, "pt") == "45,3%" and texts.share(0.0001, "en") == "< 0.1%"
    assert texts.day(date(2025, 1, 31), "pt") == "31/01/2025" and texts.day(date(2025, 1, 31), "en") == "2025-01-31"


def test_run_quality_works_on_a_bare_connection_with_few_tables(tmp_path):
    import duckdb

    from shelfwise.warehouse.core import METADATA_DDL, contract_table_ddl

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(METADATA_DDL)
    con.execute(contract_table_ddl("sales"))
    insert(con, "sales", [{"date": date(2025, 1, 1), "product_id": "P1", "units": -2, "store_id": "S1"}])
    found = run_quality(con, run_id="x", today=TODAY, language="en")
    assert set(found["check_name"]) == {"returns", "missing_values"}  # the other tables do not exist
    assert con.execute("SELECT count(*) FROM quality_issues").fetchall() == [(len(found),)]
