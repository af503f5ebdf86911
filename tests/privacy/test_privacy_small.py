"""The privacy rules on small hand-written files: keys, pseudonyms, what ingestion keeps, retention, the commands."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.ingest import ingest_files
from shelfwise.privacy.keys import KEY_ENV, Keys, PrivacyKeyError, load_keys, new_secret
from shelfwise.privacy.pseudonyms import Pseudonymiser
from shelfwise.privacy.retention import purge_expired
from shelfwise.privacy.vault import Vault
from shelfwise.workspace import Workspace, init_workspace

runner = CliRunner()
KEYS = Keys.from_secret(bytes(range(32)), "test")
TODAY = date.today()

CUSTOMERS = """ID Cliente;Nome;E-mail;Celular;CPF;Nascimento;Cidade;UF;Aceita Marketing;Cadastro
C1;Joana D'Arc Figueiredo;Joana.Fig@Exemplo.com.br;(21) 98765-4321;529.982.247-25;05/03/1985;Niterói;RJ;S;\
10/01/2024 10:00
C2;Otávio Brandão Queiroz;otavio.q@exemplo.com;11 3456-7890;;31/02/1990;São Paulo;SP;N;11/01/2024 11:00
C3;Lúcia Menezes Prado;lucia@exemplo.com;+55 11 99876-5432;111.444.777-35;12/12/1999;Santos;SP;S;12/01/2024 12:00
"""
RECEIPTS = """cupom;data_hora;valor;cliente;cartao;loja
T1;{d1} 10:00;50,00;C1;tok_aaa;L1
T2;{d1} 11:00;20,00;C3;tok_bbb;L1
T3;{d2} 12:00;35,00;;tok_aaa;L1
"""
FEEDBACK = """data_hora;texto;origem
{d1} 09:00;Atendimento ótimo! Meu CPF é 529.982.247-25, me liguem no (21) 98765-4321.;review
{d2} 09:30;A Joana D'Arc Figueiredo me atendeu muito bem;survey
{d1} 10:30;Ótimo atendimento (Joana D'Arc Figueiredo)!;survey
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ws")
    files = tmp_path / "in"
    files.mkdir()
    recent, old = TODAY - timedelta(days=3), TODAY - timedelta(days=400)
    (files / "clientes.csv").write_text(CUSTOMERS, encoding="utf-8")
    (files / "cupons.csv").write_text(RECEIPTS.format(d1=f"{recent:%d/%m/%Y}", d2=f"{old:%d/%m/%Y}"), encoding="utf-8")
    (files / "feedback.csv").write_text(FEEDBACK.format(d1=f"{recent:%d/%m/%Y}", d2=f"{old:%d/%m/%Y}"),
                                        encoding="utf-8")
    ingest_files(ws, sorted(files.iterdir()))
    return ws


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_the_sql_hmac_is_rfc_2104(message):
    con = duckdb.connect()
    KEYS.install(con)
    expected = hmac.new(KEYS.pseudonym, message.encode(), hashlib.sha256).hexdigest()[:32]
    assert con.execute("SELECT sw_hmac(?)", [message]).fetchone()[0] == expected


def test_spellings_of_one_identifier_share_a_pseudonym_and_kinds_do_not():
    pseudonymise = Pseudonymiser(KEYS)
    assert len(set(pseudonymise("document", ["529.982.247-25", "52998224725", " 529 982 247 25 "]))) == 1
    assert len(set(pseudonymise("phone", ["+55 (21) 98765-4321", "21987654321", "0 21 98765 4321"]))) == 1
    assert len(set(pseudonymise("email", ["Joana.Fig@Exemplo.com.br ", "joana.fig@exemplo.com.br"]))) == 1
    assert len(set(pseudonymise("name", ["JOANA  d'arc figueiredo", "Joana D'Arc Figueiredo"]))) == 1
    assert pseudonymise.one("token", "21987654321") != pseudonymise.one("phone", "21987654321")
    assert pseudonymise("document", [None, "", "abc"]) == [None, None, None]
    # a CPF read from a float column, and two alphanumeric CNPJs of 2026 that share their digits
    assert len(set(pseudonymise("document", ["7186419005.0", "071.864.190-05", "07186419005"]))) == 1
    assert len(set(pseudonymise("document", ["12.ABC.345/01DE-35", "12.XYZ.345/01QQ-35"]))) == 2


def test_a_sealed_record_opens_only_with_its_key_and_context(tmp_path, monkeypatch):
    sealed = KEYS.seal(b"Joana", "C1")
    assert KEYS.open(sealed, "C1") == b"Joana"
    with pytest.raises(PrivacyKeyError):
        KEYS.open(sealed, "C2")
    with pytest.raises(PrivacyKeyError):
        Keys.from_secret(bytes(32), "other").open(sealed, "C1")
    monkeypatch.delenv(KEY_ENV, raising=False)
    created = load_keys(tmp_path / "k" / "privacy.key")
    assert stat.S_IMODE(os.stat(tmp_path / "k" / "privacy.key").st_mode) == 0o600
    assert load_keys(tmp_path / "k" / "privacy.key") == created
    monkeypatch.setenv(KEY_ENV, new_secret())
    assert load_keys(tmp_path / "k" / "privacy.key").sealing != created.sealing


def test_ingestion_keeps_no_personal_value_in_the_warehouse(workspace):
    data = workspace.warehouse.path.read_bytes()
    # (a name written inside a comment is free text the masking does not recognise; erasure redacts it)
    for value in ("Otávio", "Brandão", "Lúcia", "Exemplo.com", "98765-4321", "529.982.247-25", "52998224725",
                  "tok_aaa", "31/02/1990", "99876-5432"):
        assert value.encode() not in data, value
    with workspace.warehouse.connect() as con:
        texts = [r[0] for r in con.execute("SELECT text FROM feedback ORDER BY timestamp DESC").fetchall()]
        quarantine = con.execute("SELECT raw, reason FROM quarantine WHERE table_name = 'customers'").fetchall()
        cards = con.execute("SELECT count(DISTINCT card_token) FROM transactions").fetchone()[0]
    assert "Atendimento ótimo! Meu CPF é [CPF], me liguem no [telefone]." in texts
    assert cards == 2  # pseudonyms keep the card's receipts together
    (raw, reason), = quarantine
    assert json.loads(raw)["Nome"] == "[vault]" and "31/02" not in reason
    sealed = Vault(workspace).read_quarantined(purpose="test")
    assert sealed["content"][0]["raw"]["Nome"] == "Otávio Brandão Queiroz"


def test_retention_purges_expired_rows_and_a_dry_run_only_tells(workspace):
    toml = workspace.root / "shelfwise.toml"
    toml.write_text(toml.read_text().replace("transactions = 1825", "transactions = 30")
                    .replace("feedback = 730", "feedback = 30"), encoding="utf-8")
    from shelfwise.workspace import open_workspace

    ws = open_workspace(workspace.root)
    dry = purge_expired(ws, dry_run=True)
    assert dry.rows_by_table == {"transactions": 1, "feedback": 1}
    with ws.warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM transactions").fetchone()[0] == 3
    done = purge_expired(ws)
    assert done.rows_by_table == dry.rows_by_table
    with ws.warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM feedback").fetchone()[0] == 2
    later = purge_expired(ws, today=TODAY + timedelta(days=4000))  # every customer now inactive for years
    assert later.rows_by_table["customers"] == 2 and later.vault_records == 2
    assert Vault(ws).read_people(None, purpose="test").empty


def test_the_commands_answer_requests_and_refuse_an_ambiguous_person(workspace, tmp_path):
    w = ["-w", str(workspace.root)]
    assert runner.invoke(app, ["privacy", "export", *w]).exit_code == 2
    assert runner.invoke(app, ["privacy", "export", "--email", "a@b.c", "--document", "1", *w]).exit_code == 2
    result = runner.invoke(app, ["privacy", "export", "--phone", "21987654321", *w])
    assert result.exit_code == 0, result.output
    assert "customers" in result.output and "transactions" in result.output
    out = tmp_path / "contatos.xlsx"
    contacts = ["privacy", "contacts", "--purpose", "marketing_contact", "-o"]
    assert runner.invoke(app, [*contacts, str(out), *w]).exit_code == 0
    assert sorted(pd.read_excel(out, dtype=str, engine="calamine")["customer_id"]) == ["C1", "C3"]
    assert runner.invoke(app, ["privacy", "consent", "--purpose", "marketing_contact", "--revoke",
                               "--customer-id", "C3", *w]).exit_code == 0
    assert runner.invoke(app, [*contacts, str(out), *w]).exit_code == 0
    assert list(pd.read_excel(out, dtype=str, engine="calamine")["customer_id"]) == ["C1"]
    export = workspace.artifacts / "clientes.xlsx"
    assert runner.invoke(app, ["privacy", "contacts", "--purpose", "marketing_contact", "-o", str(export),
                               *w]).exit_code == 0
    result = runner.invoke(app, ["privacy", "erase", "--document", "52998224725", "--yes", *w])
    assert result.exit_code == 0, result.output
    # the contact list kept in the workspace lost the person
    assert pd.read_excel(export, dtype=str, engine="calamine").empty
    assert not list((workspace.artifacts / "privacy" / "access").rglob("*.json"))  # the earlier answer went
    with workspace.warehouse.connect() as con:
        texts = [r[0] for r in con.execute("SELECT text FROM feedback").fetchall()]
    assert "A [removido] me atendeu muito bem" in texts and "Ótimo atendimento ([removido])!" in texts
    assert runner.invoke(app, ["privacy", "erase", "--document", "52998224725", "--yes", *w]).exit_code == 1
    requests = runner.invoke(app, ["privacy", "requests", "-f", "csv", *w])
    assert requests.output.count("erase-") == 2 and "access-" in requests.output
    for fmt in ("md", "html", "json"):
        assert runner.invoke(app, ["privacy", "ropa", "-f", fmt, *w]).exit_code == 0
    assert runner.invoke(app, ["privacy", "retention", "--dry-run", *w]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify", *w]).exit_code == 0


def test_nothing_personal_gets_past_the_workspace_outbound_guard(workspace):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from shelfwise.privacy.outbound import workspace_guard

    received: list[bytes] = []

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        guard = workspace_guard(workspace)
        message = {"alert": "Cliente LUCIA PRADO (lucia@exemplo.com, 111.444.777-35, +55 11 99876-5432) "
                            "reclamou; falar com Joana D'Arc Figueiredo", "store": "Loja Santos"}
        status = guard.send_json(f"http://127.0.0.1:{server.server_port}/hook", message, channel="webhook")
    finally:
        server.shutdown()
    assert status == 204
    body = received[0].decode().lower()
    for value in ("lucia", "prado", "joana", "figueiredo", "exemplo.com", "111.444.777-35", "11144477735",
                  "99876-5432"):
        assert value not in body, value
    assert "loja santos" in body and "reclamou" in body
    entry = json.loads(workspace.audit_path.read_text().splitlines()[-1])
    assert entry["action"] == "outbound.send" and entry["details"]["masked"]["name"] == 2


def test_identifiers_where_the_contract_does_not_expect_them_stay_out_of_the_warehouse(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    files = tmp_path / "in"
    files.mkdir()
    (files / "clientes.csv").write_text(
        "ID Cliente;Nome;E-mail;CPF;Nascimento;RG\n"
        "K1;Heitor Salgado Pimenta;heitor@exemplo.com;390.533.447-05;31/02/1990;98.765.432-1\n", encoding="utf-8")
    (files / "cupons.csv").write_text(  # receipts keyed by the customer's CPF, as many POS exports are
        "cupom;data_hora;valor;cliente\nT1;01/02/2025 10:00;10,00;390.533.447-05\nT2;01/02/2025 11:00;5,00;X9\n",
        encoding="utf-8")
    (files / "clientes_sem_cabecalho.csv").write_text(
        "H1;Fernanda Quintela Dias;fernanda@exemplo.com;418.205.937-60\n", encoding="utf-8")
    ingest_files(ws, sorted(files.iterdir()), table=None)
    ingest_files(ws, [files / "clientes_sem_cabecalho.csv"], table="customers")
    data = ws.warehouse.path.read_bytes()
    for value in ("98.765.432-1", "390.533.447-05", "39053344705", "Fernanda", "Quintela", "418.205.937-60"):
        assert value.encode() not in data, value
    result = runner.invoke(app, ["privacy", "erase", "--document", "39053344705", "--yes", "-w", str(ws.root)])
    assert result.exit_code == 0, result.output
    with ws.warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM transactions WHERE customer_id IS NOT NULL").fetchone()[0] == 1


def test_erasing_a_short_numeric_id_touches_nothing_else(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    (ws.landing / "clientes.csv").write_text(
        "ID Cliente;Nome;E-mail\n7;Sônia Rios Lacerda;sonia@exemplo.com\n8;Tiago Moura Leal;tiago@exemplo.com\n",
        encoding="utf-8")
    sales = "data;loja;produto;qtd;valor\n07/03/2025;7;P7;7;7,00\n08/03/2025;8;P8;8;8,00\n"
    (ws.landing / "vendas.csv").write_text(sales, encoding="utf-8")
    ingest_files(ws, sorted(ws.landing.iterdir()))
    result = runner.invoke(app, ["privacy", "erase", "--customer-id", "7", "--yes", "-w", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert (ws.root / "shelfwise.toml").exists()
    assert (ws.landing / "vendas.csv").read_text(encoding="utf-8") == sales
    assert "Tiago" in (ws.landing / "clientes.csv").read_text(encoding="utf-8")
    assert "Sônia" not in (ws.landing / "clientes.csv").read_text(encoding="utf-8")


def test_a_revocation_follows_the_person_into_a_new_record_and_a_change_of_legal_basis(workspace, tmp_path):
    set_consent = __import__("shelfwise.privacy.consent", fromlist=["set_consent"]).set_consent
    export_contacts = __import__("shelfwise.privacy.consent", fromlist=["export_contacts"]).export_contacts
    set_consent(workspace, "customer_id", "C1", "marketing_contact", granted=False)
    later = tmp_path / "clientes_novos.csv"
    later.write_text("ID Cliente;Nome;E-mail;CPF;Aceita Marketing\n"
                     "C9;Joana Figueiredo;JOANA.FIG@exemplo.com.br;;S\n", encoding="utf-8")
    ingest_files(workspace, [later])
    out = tmp_path / "lista.csv"
    export_contacts(workspace, "marketing_contact", out)
    assert sorted(pd.read_csv(out, dtype=str)["customer_id"]) == ["C3"]
    toml = workspace.root / "shelfwise.toml"
    toml.write_text(toml.read_text().replace('marketing_contact = "consent"',
                                             'marketing_contact = "legitimate_interest"'), encoding="utf-8")
    from shelfwise.workspace import open_workspace

    export_contacts(open_workspace(workspace.root), "marketing_contact", out)
    assert "C1" not in set(pd.read_csv(out, dtype=str)["customer_id"])


def test_vault_records_of_a_load_that_never_committed_are_dropped(workspace):
    from shelfwise.privacy.vault import SealedPerson

    vault = Vault(workspace)
    before = vault.read_people(None, purpose="test")
    vault.store_people([SealedPerson("C1", {}, {"name": "Outro Nome"})], load_id="never", file="x.csv")
    vault.store_people([SealedPerson("Z1", {}, {"name": "Zeca Novo"})], load_id="kept", file="y.csv")
    vault.settle({"kept"})
    after = vault.read_people(None, purpose="test")
    assert set(after["customer_id"]) == set(before["customer_id"]) | {"Z1"}
    assert after.set_index("customer_id").loc["C1", "name"] == "Joana D'Arc Figueiredo"
