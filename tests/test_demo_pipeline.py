"""The demo end to end: generated Brazilian files, loaded through the normal path, checked against the truth."""

import json
from pathlib import Path

import pandas as pd
import pytest

from shelfwise.ingest import FailedLoad, ingest_files
from shelfwise.schema import TABLES


@pytest.fixture(scope="module")
def demo(forecast_demo):
    return forecast_demo


@pytest.fixture(scope="module")
def counts(demo):
    return json.loads((demo.truth_dir / "counts.json").read_text())["files"]


def query(demo, sql):
    with demo.workspace.warehouse.connect() as con:
        return con.execute(sql).fetchall()


def test_every_file_loads_with_the_exact_counts_of_the_truth(demo, counts):
    assert not [o for o in demo.loads if isinstance(o, FailedLoad)]
    by_file = {Path(o.file).name: o for o in demo.loads}
    assert set(by_file) == set(counts)
    for name, expected in counts.items():
        load = by_file[name]
        assert load.table == expected["table"], name
        assert (load.rows_read, load.rows_accepted, load.rows_quarantined) == (
            expected["rows"], expected["accepted"], expected["quarantined"]), name


def test_all_eleven_tables_hold_data(demo):
    for table in TABLES:
        assert query(demo, f"SELECT count(*) FROM {table}")[0][0] > 0, table


def test_quarantine_holds_exactly_the_planted_bad_rows_at_their_lines(demo):
    planted = pd.read_parquet(demo.truth_dir / "bad_rows.parquet")
    found = query(demo, "SELECT file, line FROM quarantine")
    assert sorted((Path(f).name, line) for f, line in found) == sorted(zip(planted.file, planted.line, strict=True))


def test_returns_and_unknown_ids_are_kept(demo, counts):
    returns = sum(c["returns"] for c in counts.values())
    assert query(demo, "SELECT count(*) FROM sales WHERE units < 0")[0][0] == returns
    planted = pd.read_parquet(demo.truth_dir / "unknown_ids.parquet")
    placeholders = {r[0] for r in query(demo, "SELECT product_id FROM products WHERE _placeholder")}
    assert placeholders == set(planted.loc[planted.references == "products", "id"])
    kept = query(demo, "SELECT count(*) FROM sales s JOIN products p USING (product_id) WHERE p._placeholder")
    assert kept[0][0] == len(planted[planted.table == "sales"])


def test_quality_findings_were_recorded_for_the_run(demo):
    assert len(demo.findings) > 0
    assert query(demo, "SELECT count(*) FROM quality_issues")[0][0] == len(demo.findings)


def test_loading_the_landing_folder_again_changes_nothing(demo):
    tables = list(TABLES)
    checksum = " UNION ALL ".join(
        f"SELECT '{t}', count(*), sum(hash(t)) FROM (SELECT * EXCLUDE (_load_id) FROM {t}) t" for t in tables)
    before = query(demo, checksum)
    files = sorted(demo.workspace.landing.iterdir())
    outcomes = ingest_files(demo.workspace, files)
    assert {o.status for o in outcomes} == {"unchanged"}
    assert query(demo, checksum) == before
