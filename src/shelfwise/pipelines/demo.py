"""`shelfwise demo`: a workspace with the seeded demo data, loaded through the normal ingestion path.

The demo is the product's first impression and every later issue's test bed, so it uses no shortcut: the
generated files are Brazilian-format exports in `landing/`, loaded exactly as a user's files would be, with
the planted truth beside them in `truth/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from shelfwise.demo import generate_demo
from shelfwise.ingest import FailedLoad, LoadResult, ingest_files
from shelfwise.quality import run_quality
from shelfwise.runs import recorded_run
from shelfwise.workspace import Workspace, init_workspace


@dataclass(frozen=True)
class DemoReport:
    """What the demo built."""

    workspace: Workspace
    truth_dir: Path
    loads: list[LoadResult | FailedLoad]
    findings: pd.DataFrame


def run_demo(
    directory: Path | str | None, *, seed: int = 7, today: date | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoReport:
    """Create (or refresh) a demo workspace: generate the files, ingest them, check their quality."""
    workspace = init_workspace(directory)
    step = on_step or (lambda _: None)
    step("generate")
    files = generate_demo(workspace.root, seed=seed)
    step("ingest")
    by_table: dict[str, list[Path]] = {}
    for path, table in files.files:
        by_table.setdefault(table, []).append(path)
    loads: list[LoadResult | FailedLoad] = []
    for table, paths in by_table.items():
        loads.extend(ingest_files(workspace, paths, table=table, today=today))
    step("quality")
    with workspace.warehouse.connect(write=True, purpose="demo") as con, \
            recorded_run(con, "quality", {"source": "demo"}) as run_id:
        findings = run_quality(con, run_id=run_id, today=today or date.today(),
                               language=workspace.settings.workspace.language)
    return DemoReport(workspace=workspace, truth_dir=files.truth_dir, loads=loads, findings=findings)
