"""LGPD on the demo mall: nothing personal in clear outside the vault, and erasure that leaves no byte behind.

One demo workspace per module; the tests run in file order because the last ones erase a person from it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.ingest import FailedLoad, ingest_files
from shelfwise.pipelines.customers import run_identity, run_segment, run_value
from shelfwise.pipelines.demo import run_demo
from shelfwise.privacy.consent import export_contacts, set_consent
from shelfwise.privacy.pseudonyms import Pseudonymiser
from shelfwise.privacy.requests import access, erase
from shelfwise.privacy.vault import Vault

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    report = run_demo(root / "ws", forecast=False)
    originals = root / "originals"  # the exports as the retailer has them, outside the workspace
    shutil.copytree(report.workspace.landing, originals)
    return report, originals


@pytest.fixture(scope="module")
def customers_file(demo) -> pd.DataFrame:
    _, originals = demo
    return pd.read_csv(originals / "clientes_fidelidade.csv", sep=";", dtype=str, encoding="cp1252",
                       keep_default_na=False)


def _variants(value: str) -> list[bytes]:
    """The byte spellings a search must not find: as written (UTF-8 and cp1252), and digits only for numbers."""
    found = {value.encode("utf-8"), value.encode("cp1252", errors="ignore")}
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 8 and "@" not in value:
        found.add(digits.encode())
    return [v for v in found if v]


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _hits(root: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value) for every workspace file holding one of the values, compressed files opened."""
    import gzip

    hits = []
    for path in _files(root):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data += gzip.decompress(data)
        lowered = data.lower()
        for value in values:
            if any(v.lower() in lowered for v in _variants(value)):
                hits.append((str(path.relative_to(root)), value))
    return hits


def _person(customers_file: pd.DataFrame, demo) -> pd.DataFrame:
    """The records of one person who has a CPF, a unique name, receipts and a subscription (a rich subject)."""
    report, _ = demo
    truth = pd.read_parquet(report.truth_dir / "customer_persons.parquet")
    subs = pd.read_parquet(report.truth_dir / "subscriptions_truth.parquet")
    receipts = pd.read_parquet(report.truth_dir / "transaction_persons.parquet")
    records = customers_file.merge(truth[["customer_id", "person_id"]], left_on="ID Fidelidade",
                                   right_on="customer_id")
    names = customers_file["Nome Completo"].str.lower()
    for person_id, group in records.groupby("person_id"):
        cpfs = group["CPF"].replace("", pd.NA).dropna().unique()
        if len(group) < 2 or len(cpfs) != 1 or person_id not in set(subs["person_id"]):
            continue
        if person_id not in set(receipts.dropna(subset=["customer_id"])["person_id"]):
            continue
        own = group["Nome Completo"].str.lower()
        clash = names[~customers_file["ID Fidelidade"].isin(group["ID Fidelidade"])]
        if any(clash.str.contains(n, regex=False).any() or any(c in n for c in clash) for n in own.unique()):
            continue
        return group
    raise AssertionError("the demo has no person with a CPF, duplicates, receipts and a subscription")


def test_the_warehouse_holds_no_personal_data_in_clear(demo, customers_file):
    report, _ = demo
    sample = customers_file.sample(40, random_state=3)
    values = [v for c in ("Nome Completo", "E-mail", "CPF", "Celular") for v in sample[c] if v]
    warehouse = report.workspace.warehouse.path
    data = warehouse.read_bytes().lower()
    assert not [v for v in values if any(x.lower() in data for x in _variants(v))]
    with report.workspace.warehouse.connect() as con:
        masked = con.execute("SELECT text FROM feedback").fetchall()
        kinds = con.execute("SELECT age_band, count(*) FROM customers GROUP BY 1").fetchall()
    assert not [t for (t,) in masked if re.search(r"\d{3}\.\d{3}\.\d{3}-\d{2}|@\w+\.|\(\d{2}\) 9?\d{4}-\d{4}", t)]
    assert {band for band, _ in kinds} >= {"25-34", "35-44"}


def test_the_vault_holds_the_records_sealed(demo, customers_file):
    report, _ = demo
    vault = Vault(report.workspace)
    people = vault.read_people(None, purpose="test")
    accepted = customers_file[customers_file["ID Fidelidade"].isin(people["customer_id"])]
    assert len(people) >= len(customers_file) - 5
    merged = accepted.merge(people, left_on="ID Fidelidade", right_on="customer_id")
    assert (merged["Nome Completo"] == merged["name"]).all()
    assert (merged["E-mail"].replace("", None).dropna() == merged.loc[merged["E-mail"] != "", "email"]).all()
    sample = [v for v in customers_file["E-mail"].head(30) if v]
    assert not [v for v in sample if v.encode() in report.workspace.vault_path.read_bytes()]


def test_a_contact_export_holds_only_people_with_consent_and_a_revocation_counts_at_once(demo, customers_file,
                                                                                         tmp_path):
    report, originals = demo
    ws = report.workspace
    consenting = set(customers_file.loc[customers_file["Aceita Marketing"] == "S", "ID Fidelidade"])
    out = tmp_path / "contatos.csv"
    rows = export_contacts(ws, "marketing_contact", out)
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert rows == len(exported) > 100
    assert set(exported["customer_id"]) <= consenting
    assert len(consenting - set(exported["customer_id"])) <= 5  # the quarantined and superseded records
    target = exported.iloc[0]
    assert set_consent(ws, "email", target["email"].upper(), "marketing_contact", granted=False) >= 1
    export_contacts(ws, "marketing_contact", out)
    after = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert target["customer_id"] not in set(after["customer_id"])
    ingest_files(ws, [originals / "clientes_fidelidade.csv"], force=True)  # an old file cannot re-grant it
    export_contacts(ws, "marketing_contact", out)
    assert target["customer_id"] not in set(pd.read_csv(out, dtype=str)["customer_id"])


def test_an_access_request_lists_every_table_that_holds_the_person(demo, customers_file):
    report, _ = demo
    ws = report.workspace
    person = _person(customers_file, demo)
    cpf = person["CPF"].replace("", pd.NA).dropna().iloc[0]
    answer = access(ws, "document", cpf)
    ids = sorted(set(person["ID Fidelidade"]))
    with ws.warehouse.connect() as con:
        expected = {t for t in ("customers", "transactions", "subscriptions")
                    if con.execute(f"SELECT count(*) FROM {t} WHERE customer_id IN (SELECT unnest(?))",
                                   [ids]).fetchone()[0]}
    assert expected == {"customers", "transactions", "subscriptions"}
    app_visits = pd.read_json(demo[1] / "visitas_wifi_app.jsonl", lines=True, dtype=str)
    if app_visits["id_dispositivo"].isin(ids).any():  # app check-ins carry the loyalty id
        expected.add("visits")
    assert expected <= set(answer.summary["tables_held"])
    document = json.loads(Path(answer.files[0]).read_text(encoding="utf-8"))
    assert {r["customer_id"] for r in document["records_in_vault"]} >= set(ids)
    assert {r["name"] for r in document["records_in_vault"]} == set(person["Nome Completo"])
    assert document["sources"] and all(s["file"] for s in document["sources"])
    assert "<table>" in Path(answer.files[1]).read_text(encoding="utf-8")


def test_erasure_leaves_no_byte_of_the_person_and_reingesting_does_not_bring_them_back(demo, customers_file):
    report, originals = demo
    ws = report.workspace
    person = _person(customers_file, demo)
    values = sorted({v for c in ("Nome Completo", "E-mail", "CPF", "Celular") for v in person[c] if v})
    assert _hits(ws.root, values)  # before: in the landing copies, the access answer, the truth files
    cpf = person["CPF"].replace("", pd.NA).dropna().iloc[0]
    run_identity(ws)
    run_segment(ws)
    run_value(ws)
    with ws.warehouse.connect() as con:
        (person_id,), = con.execute("SELECT DISTINCT person_id FROM customer_identity WHERE customer_id IN "
                                    "(SELECT unnest(?))", [sorted(set(person["ID Fidelidade"]))]).fetchall()
    answer = erase(ws, "document", cpf)
    assert answer.status == "erased" and answer.summary["records_in_vault"] >= len(person)
    assert _hits(ws.root, values) == []
    outcomes = ingest_files(ws, sorted(originals.iterdir()), force=True)
    assert not [o for o in outcomes if isinstance(o, FailedLoad)]
    assert sum(o.erased_rows for o in outcomes) >= len(person)
    assert _hits(ws.root, values) == []
    ids = sorted(set(person["ID Fidelidade"]))
    with ws.warehouse.connect() as con:
        for table in ("customers", "subscriptions", "transactions"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE customer_id IN (SELECT unnest(?))",
                               [ids]).fetchone()[0] == 0, table
        devices = Pseudonymiser(Vault(ws).keys)("token", ids)
        assert con.execute("SELECT count(*) FROM visits WHERE visitor_id IN (SELECT unnest(?))",
                           [devices]).fetchone()[0] == 0
        for table in ("customer_identity", "person_keys", "person_features", "customer_segments", "customer_rfm",
                      "customer_value"):  # what identity resolution and the models derived about them
            assert con.execute(f"SELECT count(*) FROM {table} WHERE person_id = ?", [person_id]).fetchone()[0] == 0
        assert con.execute("SELECT status FROM privacy_requests WHERE request_id = ?",
                           [answer.request_id]).fetchone()[0] == "erased"
    assert Vault(ws).read_people(ids, purpose="test").empty
    receipt = json.loads(Path(answer.files[0]).read_text(encoding="utf-8"))
    assert receipt["within_deadline"] and receipt["subject_pseudonym"] == answer.subject


def test_the_audit_chain_holds_and_detects_an_edited_line(demo):
    report, _ = demo
    ws = report.workspace
    result = runner.invoke(app, ["audit", "verify", "-w", str(ws.root)])
    assert result.exit_code == 0, result.output
    actions = [json.loads(line)["action"] for line in ws.audit_path.read_text().splitlines()]
    assert {"vault.read", "privacy.access", "privacy.erase", "privacy.consent", "privacy.contacts"} <= set(actions)
    lines = ws.audit_path.read_text().splitlines(keepends=True)
    edited = lines[2].replace('"action":"', '"action":"x', 1)
    assert edited != lines[2]
    ws.audit_path.write_text("".join([*lines[:2], edited, *lines[3:]]))
    result = runner.invoke(app, ["audit", "verify", "-w", str(ws.root)])
    assert result.exit_code == 1
    assert "line 3" in result.output
