"""`shelfwise demo`: the seeded demo data loaded through the normal ingestion path, and every capability run on it.

The demo is the product's first impression and every later issue's test bed, so it uses no shortcut: the
generated files are Brazilian-format exports in `landing/`, loaded exactly as a user's files would be, with
the planted truth beside them in `truth/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from shelfwise.demo import generate_demo
from shelfwise.ingest import FailedLoad, LoadResult, ingest_files
from shelfwise.pipelines.customers import (
    IdentityRun,
    OfferRun,
    SegmentRun,
    ValueRun,
    run_identity,
    run_offer,
    run_segment,
    run_value,
)
from shelfwise.pipelines.forecasting import ForecastRun, ReplenishRun, run_forecast, run_replenish
from shelfwise.pipelines.promo import CrossSellRun, PromoRun, run_crosssell, run_promo
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
    forecast: ForecastRun | None = None
    replenishment: ReplenishRun | None = None
    identity: IdentityRun | None = None
    segments: SegmentRun | None = None
    value: ValueRun | None = None
    offer: OfferRun | None = None
    promo: PromoRun | None = None
    crosssell: CrossSellRun | None = None


def run_demo(
    directory: Path | str | None, *, seed: int = 7, today: date | None = None,
    on_step: Callable[[str], None] | None = None, forecast: bool = True,
) -> DemoReport:
    """Create (or refresh) a demo workspace: generate, ingest, check, forecast, order, and know the shoppers.

    After the orders, the chain's campaigns are measured against their counterfactual baselines; the mall's
    shoppers are resolved into persons, segmented, valued and scored for the streaming offer, and which shops
    they shop together is mined per segment.

    `forecast=False` stops after the quality checks (for callers that only need the loaded data).
    """
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
    report = DemoReport(workspace=workspace, truth_dir=files.truth_dir, loads=loads, findings=findings)
    if not forecast:
        return report
    step("forecast")
    forecast_run = run_forecast(workspace, today=today, progress=lambda name: step(f"forecast: {name}"))
    step("replenish")
    orders = run_replenish(workspace, forecast_run=forecast_run.run_id, today=today)
    step("promo")
    promo = run_promo(workspace)
    step("identity")
    identity = run_identity(workspace)
    step("segment")
    segments = run_segment(workspace)
    step("value")
    value = run_value(workspace)
    step("offer")
    offer = run_offer(workspace, package=None)
    step("crosssell")
    crosssell = run_crosssell(workspace)
    return replace(report, forecast=forecast_run, replenishment=orders, identity=identity, segments=segments,
                   value=value, offer=offer, promo=promo,
                   crosssell=crosssell)
