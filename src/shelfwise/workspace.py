"""A workspace is one folder: settings, warehouse, encrypted vault, audit log, `landing/` and `artifacts/`.

It is found from an explicit path, else `SHELFWISE_WORKSPACE`, else the current folder; a folder without
`shelfwise.toml` is not a workspace, and the error says how to make one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from shelfwise.config import CONFIG_FILE, Settings, load_settings, render_default_toml
from shelfwise.warehouse import Warehouse

WORKSPACE_ENV = "SHELFWISE_WORKSPACE"


class NotAWorkspaceError(RuntimeError):
    """The folder has no shelfwise.toml."""


@dataclass(frozen=True)
class Workspace:
    """An opened workspace folder and its settings."""

    root: Path
    settings: Settings

    @property
    def landing(self) -> Path:
        """Folder for incoming files."""
        return self.root / self.settings.workspace.landing

    @property
    def artifacts(self) -> Path:
        """Folder for reports, exports and models."""
        return self.root / self.settings.workspace.artifacts

    @property
    def vault_path(self) -> Path:
        """The encrypted vault of raw personal data (see `shelfwise.privacy.vault`)."""
        return self.root / self.settings.privacy.vault

    @property
    def audit_path(self) -> Path:
        """The hash-chained audit log (see `shelfwise.privacy.audit`)."""
        return self.root / self.settings.privacy.audit_log

    @property
    def key_path(self) -> Path:
        """The privacy key file, used when SHELFWISE_PRIVACY_KEY is not set (may lie outside the workspace)."""
        return (self.root / self.settings.privacy.key_file).expanduser()

    @property
    def warehouse(self) -> Warehouse:
        """The workspace's DuckDB warehouse."""
        return Warehouse(
            path=self.root / self.settings.workspace.warehouse,
            settings=self.settings.warehouse,
            timezone=self.settings.workspace.timezone,
        )


def resolve_root(path: Path | str | None) -> Path:
    """The workspace folder: the given path, else $SHELFWISE_WORKSPACE, else the current folder."""
    chosen = path or os.environ.get(WORKSPACE_ENV) or os.getcwd()
    return Path(chosen).expanduser().resolve()


def init_workspace(path: Path | str | None = None) -> Workspace:
    """Create (or complete) a workspace folder; existing settings and data are kept."""
    root = resolve_root(path)
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_FILE
    if not config.exists():
        config.write_text(render_default_toml(), encoding="utf-8")
    workspace = open_workspace(root)
    workspace.landing.mkdir(parents=True, exist_ok=True)
    workspace.artifacts.mkdir(parents=True, exist_ok=True)
    workspace.warehouse.initialise()
    return workspace


def open_workspace(path: Path | str | None = None) -> Workspace:
    """Open an existing workspace, or fail saying how to create one."""
    root = resolve_root(path)
    config = root / CONFIG_FILE
    if not config.exists():
        raise NotAWorkspaceError(
            f"{root} is not a Shelfwise workspace (no {CONFIG_FILE}). "
            f"Create one with 'shelfwise init {root}', or point to one with -w DIR or ${WORKSPACE_ENV}."
        )
    return Workspace(root=root, settings=load_settings(config))
