"""The customer steps' "bad input" clause, through real CSV files, ingestion and the CLI.

Customers without receipts, receipts without customers, a single customer, all customers identical, missing and
invalid CPFs: each gives a sensible result or a clear, counted exclusion, never a traceback.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.ingest import LoadResult, ingest_files
from shelfwise.pipelines.customers import run_identity, run_offer, run_segment, run_value
from shelfwise.workspace import Workspace, init_workspace

START = datetime(2026, 1, 5, 10)
VALID_CPFS = ["52998224725", "11144477735", "39053344705", "86288366757", "71428793860"]


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, sep=";", index=False, encoding="cp1252")
    return path


def _load(ws: Workspace, files: dict[str, pd.DataFrame]) -> None:
    for table, frame in files.items():
        (result,) = ingest_files(ws, [_write(ws.root / f"{table}.csv", frame)], table=table)
        assert isinstance(result, LoadResult), result


def _customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    ids = [f"C{i:03d}" for i in range(n)]
    documents = [VALID_CPFS[i] if i < len(VALID_CPFS) else None for i in range(n)]
    if n > 1:
        documents[1] = "123.456.789-00"  # fails the check digits
    return pd.DataFrame({
        "customer_id": ids, "name": [f"Pessoa {chr(65 + i % 26)}{chr(65 + i // 26)} Souza" for i in range(n)],
        "email": [f"pessoa{i}@exemplo.com.br" for i in range(n)],
        "phone": [f"(11) 9{8000_0000 + i:08d}" for i in range(n)], "document": documents,
        "birth_date": [f"{1 + i % 28:02d}/0{1 + i % 9}/19{60 + i % 40}" for i in range(n)],
        "consent_marketing": rng.choice(["S", "N"], n), "created_at": "01/01/2025",
    })


def _receipts(customer_ids: list[str | None], rng: np.random.Generator, per_person: int = 12) -> pd.DataFrame:
    rows = []
    for person, customer in enumerate(customer_ids):
        for k in range(per_person):
            when = START + timedelta(days=int(rng.integers(0, 300)), hours=int(rng.integers(0, 10)))
            rows.append({"transaction_id": f"T{person:03d}{k:03d}", "timestamp": when.strftime("%d/%m/%Y %H:%M:%S"),
                         "amount": f"{rng.gamma(2.0, 40.0):.2f}".replace(".", ","),
                         "customer_id": customer if rng.random() < 0.6 else None, "card_token": f"tok{person:03d}",
                         "store_id": f"L{rng.integers(1, 4)}"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Workspace:
    """60 customers: a duplicate record, missing and invalid CPFs, one without receipts; card-only shoppers."""
    rng = np.random.default_rng(3)
    ws = init_workspace(tmp_path_factory.mktemp("messy") / "ws")
    customers = _customers(60, rng)
    duplicate = customers.iloc[[0]].assign(customer_id="C900", name="SOUZA, Pessoa AA", email="PESSOA0@EXEMPLO.COM.BR")
    customers = pd.concat([customers, duplicate], ignore_index=True)
    buyers = [*customers["customer_id"].iloc[:59], None, None]  # C059 buys nothing; two shoppers never show a card
    subscriptions = pd.DataFrame({"customer_id": ["C002", "C010"], "package": "Stream",
                                  "start_date": ["10/08/2026", "10/09/2026"]})
    _load(ws, {"customers": customers, "transactions": _receipts(buyers, rng), "subscriptions": subscriptions})
    return ws


def test_a_messy_mall_resolves_segments_values_and_explains_its_offer(messy):
    identity = run_identity(messy)
    persons = identity.identity.set_index("customer_id")["person_id"]
    assert persons["C900"] == persons["C000"], "the duplicate record is the same person"
    assert identity.stats["invalid_cpfs_ignored"] >= 1
    assert identity.stats["card_own"] == 2, "two card-only shoppers"
    segments = run_segment(messy)
    segmented = set(segments.segmentation.assignments["person_id"])
    assert persons["C059"] not in segmented, "no receipts, nothing to segment"
    assert len(segmented) == len(segments.features) == 59 + 2
    value = run_value(messy)
    assert np.isfinite(value.values[["expected_purchases_12m", "probability_alive", "value_12m"]]).all().all()
    offer = run_offer(messy, package="Stream")
    assert offer.result.auc is None and "too few take-ups" in offer.result.auc_reason
    assert not offer.targets.query("has_package")["eligible"].any()


def test_an_unknown_package_is_a_clear_error_naming_the_ones_there_are(messy):
    run_identity(messy)
    outcome = CliRunner().invoke(app, ["offer", "-w", str(messy.root), "--package", "Inexistente"])
    assert outcome.exit_code == 1 and "Stream" in outcome.output and "Traceback" not in outcome.output


def test_a_single_customer_gets_a_person_a_segment_and_a_clear_word_on_value(tmp_path):
    rng = np.random.default_rng(5)
    ws = init_workspace(tmp_path / "ws")
    _load(ws, {"customers": _customers(1, rng), "transactions": _receipts(["C000"], rng)})
    assert run_identity(ws).identity["person_id"].nunique() == 1
    assert len(run_segment(ws).segmentation.assignments) == 1
    outcome = CliRunner().invoke(app, ["value", "-w", str(ws.root)])
    assert outcome.exit_code == 1 and "at least 2 customers" in outcome.output
    assert "Traceback" not in outcome.output


def test_identical_customers_are_one_person(tmp_path):
    rng = np.random.default_rng(6)
    ws = init_workspace(tmp_path / "ws")
    customers = pd.concat([_customers(1, rng)] * 30, ignore_index=True)
    customers["customer_id"] = [f"C{i:03d}" for i in range(30)]
    _load(ws, {"customers": customers, "transactions": _receipts(list(customers["customer_id"]), rng, 2)})
    assert run_identity(ws).identity["person_id"].nunique() == 1


def test_customers_without_any_receipt_are_resolved_and_segmenting_says_why_it_cannot(tmp_path):
    rng = np.random.default_rng(7)
    ws = init_workspace(tmp_path / "ws")
    customers = _customers(20, rng)
    customers["document"] = None  # nobody gave a CPF
    _load(ws, {"customers": customers})
    outcome = CliRunner().invoke(app, ["identity", "-w", str(ws.root)])
    assert outcome.exit_code == 0, outcome.output
    outcome = CliRunner().invoke(app, ["segment", "-w", str(ws.root)])
    assert outcome.exit_code == 1 and "transactions" in outcome.output and "Traceback" not in outcome.output


def test_customer_steps_before_identity_say_to_run_it(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    for command in ("segment", "value", "offer"):
        outcome = CliRunner().invoke(app, [command, "-w", str(ws.root)])
        assert outcome.exit_code == 1 and "shelfwise identity" in outcome.output, (command, outcome.output)


def test_an_analysts_decision_through_the_cli_holds_on_the_next_run(messy):
    runner = CliRunner()
    outcome = runner.invoke(app, ["identity", "decide", "C000", "C900", "reject", "-w", str(messy.root)])
    assert outcome.exit_code == 0, outcome.output
    assert runner.invoke(app, ["identity", "-w", str(messy.root)]).exit_code == 0
    persons = run_identity(messy).identity.set_index("customer_id")["person_id"]
    assert persons["C000"] != persons["C900"]
    runner.invoke(app, ["identity", "decide", "C900", "C000", "accept", "-w", str(messy.root)])
    persons = run_identity(messy).identity.set_index("customer_id")["person_id"]
    assert persons["C000"] == persons["C900"], "the latest decision wins"
    outcome = runner.invoke(app, ["identity", "decide", "C000", "NOPE", "accept", "-w", str(messy.root)])
    assert outcome.exit_code == 1 and "unknown customer id" in outcome.output
