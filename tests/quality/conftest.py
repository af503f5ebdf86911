"""Fixtures: an empty workspace, and the same workspace holding the clean warehouse."""

from __future__ import annotations

import pytest

from shelfwise.workspace import Workspace, init_workspace

from .warehouses import build_clean


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def clean(workspace) -> Workspace:
    with workspace.warehouse.connect(write=True) as con:
        build_clean(con)
    return workspace
