"""Seeded synthetic demo data: Brazilian-format source files plus the truth planted in them.

The files are what a São Paulo supermarket chain and a shopping mall would really export; the truth is
what every Shelfwise capability should find in them (expected demand, promotion lift, anomalies,
low-cover items, identities, segments, offer propensity, sentiment, bad rows). Nothing is ingested here:
loading goes through the normal ingestion path, so the demo tests it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from shelfwise.demo import chain_truth, formats
from shelfwise.demo.chain import simulate_chain
from shelfwise.demo.chain_files import chain_sources
from shelfwise.demo.feedback import feedback
from shelfwise.demo.formats import SourceFile
from shelfwise.demo.mall import simulate_mall
from shelfwise.demo.mall_files import mall_sources, mall_truth
from shelfwise.demo.readme import truth_readme
from shelfwise.demo.seasons import holiday_calendar


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo landed: source files (with their canonical table) and the planted truth."""

    landing_dir: Path
    truth_dir: Path
    files: tuple[tuple[Path, str], ...]


def generate_demo(out_dir: Path, *, seed: int = 7, end_date: date = date(2026, 10, 31)) -> DemoFiles:
    """Write the demo's source files to `out_dir/landing` and its truth to `out_dir/truth`.

    The same seed and end date give byte-identical files, so tests and documentation can quote figures.
    """
    out_dir = Path(out_dir)
    landing, truth_dir = out_dir / "landing", out_dir / "truth"
    landing.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    chain_rng, mall_rng, text_rng, file_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    chain = simulate_chain(chain_rng, end_date)
    mall = simulate_mall(mall_rng, end_date)
    texts, burst = feedback(text_rng, chain.stores, chain.products, chain.suppliers, mall.tenants, mall.people,
                            pd.Timestamp(mall.start), pd.Timestamp(end_date))
    sources = chain_sources(file_rng, chain) + mall_sources(file_rng, mall, texts)
    lines = {s.name: formats.write_source(s, landing) for s in sources}
    by_name = {s.name: s for s in sources}
    marks = _marks(sources, lines)
    tables = {
        "sales_expected": chain_truth.sales_expected(chain, next(s for s in sources if s.table == "sales")),
        "future_expected": chain_truth.future_expected(chain),
        "calendar": holiday_calendar(chain.days),
    }
    tables["promo_cells"] = chain_truth.promo_cells(chain)
    tables["promo_campaigns"] = chain_truth.promo_campaigns(chain, tables["promo_cells"])
    tables["anomalies"] = _anomalies(chain.anomalies, burst, marks)
    tables["low_cover_items"] = chain.low_cover
    tables |= mall_truth(mall, by_name["clientes_fidelidade.csv"], texts, by_name["avaliacoes_clientes.csv"],
                         lines["avaliacoes_clientes.csv"])
    tables["bad_rows"] = marks.loc[marks["kind"] == "bad", ["file", "table", "line", "column", "header", "problem",
                                                            "value"]].reset_index(drop=True)
    tables["returns"] = _returns(marks)
    tables["unknown_ids"] = _unknown_ids(marks)
    for name, frame in tables.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)
    counts = _counts(sources, marks)
    (truth_dir / "counts.json").write_text(json.dumps(counts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (truth_dir / "README.md").write_text(truth_readme(seed, end_date, counts, tables), encoding="utf-8")
    files = tuple((landing / s.name, s.table) for s in sources)
    return DemoFiles(landing_dir=landing, truth_dir=truth_dir, files=files)


def _marks(sources: list[SourceFile], lines: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every specially marked row of every file, with its physical line and original header."""
    parts = []
    for s in sources:
        f = s.frame
        marked = f.index[f["_kind"] != ""]
        if len(marked) == 0:
            continue
        header = {v: k for k, v in s.columns.items()}
        part = pd.DataFrame({
            "file": s.name, "table": s.table, "line": lines[s.name][marked], "kind": f.loc[marked, "_kind"].to_numpy(),
            "column": f.loc[marked, "_column"].to_numpy(), "problem": f.loc[marked, "_problem"].to_numpy(),
            "value": f.loc[marked, "_value"].to_numpy(),
        })
        part["header"] = part["column"].map(header)
        for meta in ("_date", "_store", "_product", "_units"):
            part[meta[1:]] = f.loc[marked, meta].to_numpy() if meta in f else None
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _anomalies(chain_anomalies: pd.DataFrame, burst: dict, marks: pd.DataFrame) -> pd.DataFrame:
    frame = pd.concat([chain_anomalies, pd.DataFrame([burst])], ignore_index=True)
    spikes = marks[marks["kind"] == "spike"][["file", "line", "date", "store", "product"]]
    spikes = spikes.rename(columns={"date": "start_date", "store": "store_id", "product": "product_id"})
    spikes["kind"] = "spike"
    for f in (frame, spikes):
        f["start_date"] = pd.to_datetime(f["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    frame = frame.merge(spikes, on=["kind", "start_date", "store_id", "product_id"], how="left")
    frame["line"] = frame["line"].astype("Int64")
    return frame


def _returns(marks: pd.DataFrame) -> pd.DataFrame:
    rows = marks[marks["kind"] == "return"]
    return pd.DataFrame({"file": rows["file"], "line": rows["line"], "date": pd.to_datetime(rows["date"]),
                         "store_id": rows["store"], "product_id": rows["product"],
                         "units": rows["units"].astype(int)}).reset_index(drop=True)


def _unknown_ids(marks: pd.DataFrame) -> pd.DataFrame:
    rows = marks[marks["kind"] == "unknown_id"]
    return pd.DataFrame({"file": rows["file"], "table": rows["table"], "line": rows["line"],
                         "column": rows["column"], "id": rows["product"], "references": "products",
                         "date": pd.to_datetime(rows["date"]), "store_id": rows["store"],
                         "units": rows["units"].astype(int)}).reset_index(drop=True)


def _counts(sources: list[SourceFile], marks: pd.DataFrame) -> dict:
    """Exact data rows per file and what a correct loader accepts and quarantines."""
    bad = marks[marks["kind"] == "bad"].groupby("file").size()
    files = {}
    for s in sources:
        rows = len(s.frame)
        quarantined = int(bad.get(s.name, 0))
        style = s.style if isinstance(s.style, str) else (
            f"csv sep='{s.style.sep}' encoding={s.style.encoding}" + (" gzip" if s.style.gzip else ""))
        files[s.name] = {"table": s.table, "format": style, "rows": rows, "accepted": rows - quarantined,
                         "quarantined": quarantined,
                         "returns": int(((marks["file"] == s.name) & (marks["kind"] == "return")).sum()),
                         "unknown_ids": int(((marks["file"] == s.name) & (marks["kind"] == "unknown_id")).sum())}
    totals = {k: sum(f[k] for f in files.values()) for k in ("rows", "accepted", "quarantined")}
    return {"files": files, "totals": totals}
