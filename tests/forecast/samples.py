"""Brazilian-format export files for the forecast tests, and the workspace of every bad input, loaded through
ingestion."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import tomli_w

from shelfwise.ingest import LoadResult, ingest_files
from shelfwise.workspace import Workspace, init_workspace, open_workspace

WEEKLY = (0.8, 0.9, 0.9, 1.0, 1.2, 1.5, 0.7)
"""Monday .. Sunday multipliers of a supermarket's week."""
PRICE = 10.0


def brl(value: float) -> str:
    """A number as a Brazilian ERP writes it: `1.234,50`, negatives with a minus."""
    text = f"{abs(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-{text}" if value < 0 else text


def day_range(last: date, days: int) -> list[date]:
    """`days` consecutive dates ending on `last`."""
    return [last - timedelta(days=days - 1 - i) for i in range(days)]


def weekly_poisson(days: list[date], level: float, seed: int) -> list[int]:
    """Daily units around `level` with a weekly shape (Poisson noise, fixed seed)."""
    rng = np.random.default_rng(seed)
    return [int(rng.poisson(level * WEEKLY[d.weekday()])) for d in days]


def sales_csv(path: Path, rows: list[tuple[date, str, str, float]]) -> Path:
    """`vendas` export: ';', dd/mm/yyyy, decimal comma, cp1252, Portuguese headers."""
    lines = ["Data;Loja;Produto;Quantidade;Valor Total"]
    lines += [f"{d:%d/%m/%Y};{store};{product};{brl(units) if units % 1 else int(units)};{brl(units * PRICE)}"
              for d, store, product, units in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def text_file(path: Path, header: str, rows: list[str]) -> Path:
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("cp1252"))
    return path


# --- the workspace of every bad input ------------------------------------------------------------------------------

TODAY = date(2026, 3, 31)
HORIZON = 14
DAYS = 200
CONSTANT = 10
GAP_LEVEL = 8
FAR_FUTURE = TODAY + timedelta(days=30)
NEAR_FUTURE = TODAY + timedelta(days=1)
SETTINGS = {"forecast": {"horizon": HORIZON, "windows": 3}, "replenish": {"default_lead_time_days": 7},
            "compute": {"n_jobs": 1}}
"""One core: LightGBM on every core of a busy two-core box spins for a minute on this tiny panel (1 s on one)."""

HEALTHY = {("L1", "H1"): 20, ("L1", "H2"): 12, ("L1", "H3"): 30, ("L2", "H1"): 15, ("L2", "H2"): 9,
           ("L2", "H3"): 25, ("L3", "H1"): 18, ("L3", "H2"): 11}
"""(store, product) -> mean daily units of the series that give the models something to learn."""


def sales_rows() -> list[tuple[date, str, str, float]]:
    days = day_range(TODAY, DAYS)
    rows = []
    for seed, ((store, product), level) in enumerate(HEALTHY.items()):
        rows += [(d, store, product, u) for d, u in zip(days, weekly_poisson(days, level, seed), strict=True) if u]
    rows.append((TODAY - timedelta(days=5), "L1", "UMA", 4))  # one observation
    rows += [(d, "L1", "ZERO", 0) for d in days[-120:]]  # rows that sold nothing
    rows += [(d, "L1", "DEVOL", -1) for d in days[-60::10]]  # only returns
    rows += [(d, "L2", "CONST", CONSTANT) for d in days]
    before, after = days[:60], days[150:]  # L1 is open all along; GAP is absent for three months
    rows += [(d, "L1", "GAP", u) for d, u in zip(before, weekly_poisson(before, GAP_LEVEL, 90), strict=True) if u]
    rows += [(d, "L1", "GAP", u) for d, u in zip(after, weekly_poisson(after, GAP_LEVEL, 91), strict=True) if u]
    rows += [(d, "L1", "SEMCAD", u) for d, u in zip(days, weekly_poisson(days, 6, 92), strict=True) if u]
    rows.append((NEAR_FUTURE, "L1", "H1", 500))  # within the ingester's tolerance: the forecast must ignore it
    rows.append((FAR_FUTURE, "L1", "H2", 700))  # beyond it: quarantined
    return rows


def configured_workspace(root: Path, sections: dict[str, dict]) -> Workspace:
    """A new workspace whose shelfwise.toml has `sections`' keys set (the rest as `shelfwise init` writes it)."""
    init_workspace(root)
    config = root / "shelfwise.toml"
    settings = tomllib.loads(config.read_text(encoding="utf-8"))
    for section, values in sections.items():
        settings.setdefault(section, {}).update(values)
    config.write_text(tomli_w.dumps(settings), encoding="utf-8")
    return open_workspace(root)


def cases_workspace(root: Path) -> tuple[Workspace, dict[str, LoadResult]]:
    """The workspace of every case: files written, the settings file adjusted, everything ingested on TODAY."""
    ws = configured_workspace(root / "ws", SETTINGS)
    folder = root / "in"
    folder.mkdir()
    header = "Código Produto;Descrição;Categoria;Fornecedor;Prazo Entrega;Embalagem"
    products = text_file(folder / "produtos.csv", header, [
        "H1;Café 500g;Mercearia;F1;3;12",
        "H2;Açúcar 1kg;Mercearia;F1;0;10",  # lead time zero
        "H3;Feijão 1kg;Mercearia;F2;;6",  # no lead time, and its supplier has none either
        "UMA;Arroz Novo;Mercearia;F1;3;1",
        "ZERO;Sal Grosso;Mercearia;F1;3;1",
        "DEVOL;Vinagre;Mercearia;F1;3;1",
        "CONST;Leite 1l;Laticínios;F1;3;1",
        "GAP;Azeite;Mercearia;F1;3;1",
    ])
    suppliers = text_file(folder / "fornecedores.csv", "Código Fornecedor;Razão Social;E-mail;Prazo Entrega", [
        "F1;Distribuidora Um;compras@um.example;5",
        "F2;Distribuidora Dois;vendas@dois.example;",
    ])
    stores = text_file(folder / "lojas.csv", "Código Loja;Nome Fantasia;Cidade;UF", [
        "L1;Loja Paulista;São Paulo;SP", "L2;Loja Moema;São Paulo;SP", "L3;Loja Niterói;Niterói;RJ"])
    keys = sorted({(s, p) for _, s, p, _ in sales_rows() if s != "L3"})
    stock = text_file(folder / "estoque.csv", "Data;Loja;Produto;Saldo;Em Trânsito",
                      [f"{TODAY:%d/%m/%Y};{s};{p};50;0" for s, p in keys])  # L3 has no snapshot at all
    sales = sales_csv(folder / "vendas.csv", sales_rows())
    loads = {}
    for path in (products, suppliers, stores, sales, stock):
        (outcome,) = ingest_files(ws, [path], today=TODAY)
        assert isinstance(outcome, LoadResult), outcome
        loads[outcome.table] = outcome
    return ws, loads
