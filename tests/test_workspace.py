import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.schema import TABLES
from shelfwise.workspace import NotAWorkspaceError, init_workspace, open_workspace

runner = CliRunner()


def test_init_creates_the_parts_and_every_contract_table(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    assert (ws.root / "shelfwise.toml").is_file()
    assert ws.landing.is_dir() and ws.artifacts.is_dir()
    with ws.warehouse.connect() as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert set(TABLES) | {"loads", "quarantine", "quality_issues", "runs"} <= names


def test_init_keeps_existing_settings(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    (ws.root / "shelfwise.toml").write_text('[workspace]\nlanguage = "en"\n')
    assert init_workspace(tmp_path / "ws").settings.workspace.language == "en"


def test_outside_a_workspace_the_error_says_how_to_make_one(tmp_path):
    with pytest.raises(NotAWorkspaceError, match="shelfwise init"):
        open_workspace(tmp_path)
    result = runner.invoke(app, ["tables", "-w", str(tmp_path)])
    assert result.exit_code == 5
    assert "shelfwise init" in result.output


def test_workspace_from_environment_variable(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws")
    monkeypatch.setenv("SHELFWISE_WORKSPACE", str(tmp_path / "ws"))
    result = runner.invoke(app, ["tables"])
    assert result.exit_code == 0, result.output
    assert "quarantine" in result.output


def test_every_command_has_help():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert command.callback.__doc__, name
        sub = runner.invoke(app, [name, "--help"])
        assert sub.exit_code == 0, name
        assert "--workspace" in sub.output or name in ("init", "demo", "abtest-size"), name  # no workspace needed


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and "shelfwise" in result.output
