"""`shelfwise ingest` and `shelfwise tables` as a user runs them: exit codes, messages, no tracebacks, the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shelfwise.cli import app

GOOD = "data;loja;produto;quantidade\n05/01/2026;L1;P1;2\n05/01/2026;L1;P2;3\n"
ONE_BAD = "data;loja;produto;quantidade\n05/01/2026;L1;P1;2\n05/01/2026;L1;P2;três\n"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    return result


def flat(text: str) -> str:
    """The console wraps long lines at 80 columns; compare with single spaces."""
    return " ".join(text.split())


def squashed(text: str) -> str:
    """Without any whitespace: a path longer than the console is cut mid-word, not at a space."""
    return "".join(text.split())


def test_clean_load_exits_0_and_reports_the_counts(workspace, files):
    (files / "vendas.csv").write_text(GOOD)
    result = run("ingest", "-w", str(workspace.root), str(files / "vendas.csv"))
    assert result.exit_code == 0, result.output
    assert flat(result.stdout).startswith(
        "vendas.csv → sales: 2 linhas lidas, 2 aceitas, 0 em quarentena, 2 gravadas "
        "ids desconhecidos registrados: {'products': 2, 'stores': 1} "
        "1 arquivo(s): 1 carregado(s), 0 sem mudança, 0 com erro"
    )
    assert result.stderr.strip() == ""


def test_quarantined_rows_exit_3_and_say_where_to_look(workspace, files):
    (files / "vendas.csv").write_text(ONE_BAD)
    result = run("ingest", "-w", str(workspace.root), str(files / "vendas.csv"))
    assert result.exit_code == 3, result.output
    out = flat(result.stdout)
    assert "vendas.csv → sales: 2 linhas lidas, 1 aceitas, 1 em quarentena, 1 gravadas" in out
    assert "Veja as linhas rejeitadas: shelfwise sql \"SELECT line, reason FROM quarantine WHERE load_id = '" in out
    sql = run("sql", "-w", str(workspace.root), "--format", "csv", "SELECT line, column_name, reason FROM quarantine")
    assert sql.stdout.splitlines() == [
        "line,column_name,reason", "3,quantidade (units),quantidade (units): 'três' não é um número",
    ]


def test_allow_quarantine_exits_0(workspace, files):
    (files / "vendas.csv").write_text(ONE_BAD)
    result = run("ingest", "-w", str(workspace.root), "--allow-quarantine", str(files / "vendas.csv"))
    assert result.exit_code == 0, result.output


def test_a_failed_file_exits_1_names_file_and_column_and_the_others_still_load(workspace, files):
    (files / "vendas_a.csv").write_text("Data;Produto;Qtd;Quantidade\n05/01/2026;P1;1;1\n")
    (files / "vendas_b.csv").write_text(GOOD)
    result = run("ingest", "-w", str(workspace.root), str(files / "vendas_a.csv"), str(files / "vendas_b.csv"))
    assert result.exit_code == 1, result.output
    assert flat(result.stderr) == (
        "ERRO vendas_a.csv, column 'Quantidade': headers 'Qtd' and 'Quantidade' both match the column 'units' "
        "— keep one, or pass --mapping with columns: {units: <header>}"
    )
    assert "vendas_b.csv → sales: 2 linhas lidas" in flat(result.stdout)
    assert "2 arquivo(s): 1 carregado(s), 0 sem mudança, 1 com erro" in flat(result.stdout)


def test_a_failure_with_a_line_names_the_line(workspace, files):
    (files / "vendas.csv").write_bytes("data;loja;produto;quantidade\n05/01/2026;L1;P1;1\n"
                                       "05/01/2026;São Paulo;P1;1\n".encode("cp1252"))
    (files / "map.yaml").write_text("encoding: utf-8\n")
    result = run("ingest", "-w", str(workspace.root), "-m", str(files / "map.yaml"), str(files / "vendas.csv"))
    assert result.exit_code == 1
    assert flat(result.stderr).startswith("ERRO vendas.csv, line 3: bytes that are not valid utf-8")


def test_too_little_memory_is_a_clear_error_naming_the_setting(workspace, files, monkeypatch):
    (files / "vendas.csv").write_text(GOOD)
    monkeypatch.setenv("SHELFWISE_INGEST__MEMORY_LIMIT", "1MB")
    result = run("ingest", "-w", str(workspace.root), str(files / "vendas.csv"))
    assert result.exit_code == 1
    assert flat(result.stderr).startswith(
        "ERRO vendas.csv: loading it needs more memory than loads may use (1MB) — raise [ingest] memory_limit"
    )
    monkeypatch.delenv("SHELFWISE_INGEST__MEMORY_LIMIT")
    assert run("ingest", "-w", str(workspace.root), str(files / "vendas.csv")).exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--table", "vendinhas"], "ERRO vendas.csv: unknown table 'vendinhas' — expected one of: products, stores"),
    (["--mode", "append"], "ERRO vendas.csv: unknown load mode 'append' — expected one of: upsert, replace-period"),
], ids=["unknown-table", "unknown-mode"])
def test_bad_options_exit_1_with_the_valid_choices(workspace, files, args, message):
    (files / "vendas.csv").write_text(GOOD)
    result = run("ingest", "-w", str(workspace.root), *args, str(files / "vendas.csv"))
    assert result.exit_code == 1
    assert flat(result.stderr).startswith(message)


def test_not_a_workspace_exits_5(tmp_path, files):
    (files / "vendas.csv").write_text(GOOD)
    result = run("ingest", "-w", str(tmp_path / "nowhere"), str(files / "vendas.csv"))
    assert result.exit_code == 5
    assert squashed(f"{tmp_path / 'nowhere'} is not a Shelfwise workspace") in squashed(result.stderr)
    assert "shelfwise init" in flat(result.stderr)


def test_messages_in_english_when_the_workspace_says_so(workspace, files, monkeypatch):
    monkeypatch.setenv("SHELFWISE_WORKSPACE__LANGUAGE", "en")
    (files / "vendas.csv").write_text(ONE_BAD)
    result = run("ingest", "-w", str(workspace.root), str(files / "vendas.csv"))
    assert result.exit_code == 3
    assert "vendas.csv → sales: 2 rows read, 1 accepted, 1 quarantined, 1 stored" in flat(result.stdout)


def test_workspace_option_before_the_command(workspace, files):
    (files / "vendas.csv").write_text(GOOD)
    result = run("-w", str(workspace.root), "ingest", str(files / "vendas.csv"))
    assert result.exit_code == 0, result.output


def shelfwise_script() -> str:
    script = Path(sys.executable).with_name("shelfwise")
    return str(script) if script.exists() else "shelfwise"


def test_the_installed_console_script(workspace, files):
    (files / "vendas_2025.csv").write_text(ONE_BAD)
    (files / "produtos.csv").write_text("descricao;preco\nCafé;10,00\n")
    environment = {**os.environ, "COLUMNS": "200"}
    completed = subprocess.run(
        [shelfwise_script(), "ingest", "-w", str(workspace.root), str(files / "vendas_2025.csv"),
         str(files / "produtos.csv")],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )
    assert completed.returncode == 1, completed
    assert "Traceback" not in completed.stderr
    assert "ERRO produtos.csv: required column(s) ['product_id'] not found for table 'products'" in completed.stderr
    assert "vendas_2025.csv → sales: 2 linhas lidas, 1 aceitas, 1 em quarentena, 1 gravadas" in completed.stdout


HOLDER = textwrap.dedent("""
    import sys, time
    from shelfwise.workspace import open_workspace

    with open_workspace(sys.argv[1]).warehouse.connect(write=True, purpose="test"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


@pytest.fixture
def hold(tmp_path, workspace):
    """Start a process that holds the warehouse for some seconds; returns it once it holds the lock."""
    script = tmp_path / "hold_warehouse.py"
    script.write_text(HOLDER)
    started: list[subprocess.Popen] = []

    def start(seconds: float) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, str(script), str(workspace.root), str(seconds)],
                                   stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout.readline().strip() == "held"
        return process

    yield start
    for process in started:
        process.wait(timeout=30)


def test_tables_waits_for_a_command_holding_the_warehouse(workspace, hold):
    holder = hold(2)
    began = time.monotonic()
    result = run("tables", "-w", str(workspace.root))
    waited = time.monotonic() - began
    assert result.exit_code == 0, result.output
    assert "quarantine" in result.stdout
    assert waited > 1.0
    assert squashed(result.stderr).startswith(squashed(
        f"Aguardando o warehouse, em uso por 'hold_warehouse.py {workspace.root} 2' (pid {holder.pid}, since "
    ))


def test_tables_gives_up_with_exit_4_naming_the_holder(workspace, hold, monkeypatch):
    monkeypatch.setenv("SHELFWISE_WAREHOUSE__LOCK_TIMEOUT_SECONDS", "0.5")
    holder = hold(3)
    result = run("tables", "-w", str(workspace.root))
    assert result.exit_code == 4, result.output
    assert holder.poll() is None  # still holding: tables did not wait it out
    assert squashed(f"is busy: 'hold_warehouse.py {workspace.root} 3' (pid {holder.pid}, since ") in squashed(
        result.stderr)


def test_export_of_a_run_table_takes_the_latest_run_or_the_one_asked(tmp_path):
    from shelfwise.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    with ws.warehouse.connect(write=True) as con:
        con.execute("CREATE TABLE results (run_id VARCHAR, x INTEGER)")
        con.execute("INSERT INTO results VALUES ('20260101T000000-a', 1), ('20260102T000000-b', 2), "
                    "('20260102T000000-b', 3)")
    out = tmp_path / "r.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["export", "results", "-o", str(out), "-w", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[1:] == ["20260102T000000-b,2", "20260102T000000-b,3"]
    assert runner.invoke(app, ["export", "results", "-o", str(out), "--run", "20260101T000000-a",
                               "-w", str(ws.root)]).exit_code == 0
    assert out.read_text().splitlines()[1:] == ["20260101T000000-a,1"]
    missing = runner.invoke(app, ["export", "results", "-o", str(out), "--run", "nope", "-w", str(ws.root)])
    assert missing.exit_code == 1 and "20260102T000000-b" in missing.output


def test_runs_lists_the_recorded_runs_newest_first(tmp_path):
    from shelfwise.runs import recorded_run
    from shelfwise.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    with ws.warehouse.connect(write=True) as con:
        with recorded_run(con, "quality", {"a": 1}):
            pass
        with recorded_run(con, "forecast", {"horizon": 28}):
            pass
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "-f", "csv", "-w", str(ws.root)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 3 and ",forecast,succeeded," in lines[1] and ",quality,succeeded," in lines[2]
    only = runner.invoke(app, ["runs", "-c", "quality", "-f", "csv", "-w", str(ws.root)])
    assert len(only.output.splitlines()) == 2 and "statsforecast" in only.output
