"""Features the global model reads: holidays of the store's state, retail peaks, and promotions planned ahead."""

from __future__ import annotations

from datetime import date

import pandas as pd

from shelfwise.forecast.features import series_features
from shelfwise.ingest import ingest_files
from shelfwise.workspace import init_workspace


def test_features_know_state_holidays_peaks_and_campaigns_planned_inside_the_horizon(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    (tmp_path / "lojas.csv").write_text("loja;nome;uf\nL1;Loja SP;SP\nL2;Loja RJ;RJ\n", encoding="utf-8")
    (tmp_path / "vendas.csv").write_text(
        "data;loja;produto;qtd;valor;promocao\n01/07/2025;L1;A;5;50,00;N\n02/07/2025;L1;A;5;40,00;S\n"
        "01/07/2025;L2;A;3;30,00;N\n", encoding="utf-8")
    (tmp_path / "campanhas.csv").write_text(
        "campanha;nome;inicio;fim;desconto;produtos;lojas\nC1;Natal;20/12/2025;24/12/2025;25;A;L1\n",
        encoding="utf-8")
    ingest_files(ws, [tmp_path / n for n in ("lojas.csv", "vendas.csv", "campanhas.csv")], today=date(2025, 7, 3))
    series = pd.DataFrame({"store_id": ["L1", "L2"], "product_id": ["A", "A"]})
    with ws.warehouse.connect() as con:
        features = series_features(con, series, date(2025, 7, 1), date(2025, 12, 31))
    day = features.set_index(["store_id", "date"])
    assert day.loc[("L1", pd.Timestamp("2025-07-09")), "holiday"] == 1  # Revolução Constitucionalista: SP only
    assert day.loc[("L2", pd.Timestamp("2025-07-09")), "holiday"] == 0
    assert day.loc[("L1", pd.Timestamp("2025-12-25")), "holiday"] == 1
    assert day.loc[("L1", pd.Timestamp("2025-11-28")), "black_friday_week"] == 1
    assert day.loc[("L1", pd.Timestamp("2025-07-02")), "promo"] == 1  # on_promo in the sales file
    assert abs(day.loc[("L1", pd.Timestamp("2025-07-02")), "price_ratio"] - 0.8) < 1e-9
    planned = day.loc[("L1", pd.Timestamp("2025-12-22"))]
    assert planned["promo"] == 1 and planned["discount_pct"] == 25 and abs(planned["price_ratio"] - 0.75) < 1e-9
    assert day.loc[("L2", pd.Timestamp("2025-12-22")), "promo"] == 0
    assert day.loc[("L1", pd.Timestamp("2025-12-24")), "to_christmas"] == 1
