"""The built-in checks, declared as data: name, default severity, description (pt/en) and function.

Order matters only for display: findings are listed by severity, then in this order.
"""

from __future__ import annotations

from shelfwise.quality import completeness, duplicates, gaps, loads, values
from shelfwise.quality.registry import Check

CHECKS: tuple[Check, ...] = (
    Check(
        "failed_loads", "error", {
            "pt": "Arquivos cuja última carga falhou: nada deles está no warehouse.",
            "en": "Files whose latest load failed: nothing from them is in the warehouse.",
        }, loads.failed_loads, ("loads",)),
    Check(
        "exact_duplicates", "error", {
            "pt": "Linhas idênticas em todas as colunas do contrato (sem contar _load_id); contam em dobro.",
            "en": "Rows identical in every contract column (_load_id ignored); they count twice.",
        }, duplicates.exact_duplicates),
    Check(
        "file_duplicate_keys", "warning", {
            "pt": "Linhas com chave repetida dentro de um arquivo carregado (a última foi mantida), por arquivo.",
            "en": "Rows whose key repeated within a loaded file (the last one was kept), per file.",
        }, duplicates.file_duplicate_keys, ("loads", "quarantine")),
    Check(
        "near_duplicates", "warning", {
            "pt": "Ids diferentes com o mesmo nome normalizado (produtos, lojas, fornecedores) ou o mesmo e-mail "
                  "ou documento (clientes).",
            "en": "Different ids with the same normalised name (products, stores, suppliers) or the same e-mail "
                  "or document (customers).",
        }, duplicates.near_duplicates, ("products", "stores", "suppliers", "customers")),
    Check(
        "missing_values", "info", {
            "pt": "Parcela de valores ausentes em cada coluna opcional (aviso acima de 50%).",
            "en": "Share of missing values in each optional column (a warning above 50%).",
        }, completeness.missing_values),
    Check(
        "outliers", "warning", {
            "pt": "Dias de venda muito longe da mediana da série loja/produto, medidos em MADs (robusto).",
            "en": "Sales days far from their store/product series' median, measured in MADs (robust).",
        }, values.outliers, ("sales",)),
    Check(
        "series_gaps", "info", {
            "pt": "Dias sem vendas entre o primeiro e o último dia de cada série loja/produto (aviso a partir de "
                  "7 dias seguidos).",
            "en": "Days without sales between the first and last day of each store/product series (a warning "
                  "from 7 consecutive days).",
        }, gaps.series_gaps, ("sales",)),
    Check(
        "store_days_without_sales", "warning", {
            "pt": "Dias em que uma loja inteira não vendeu enquanto outras venderam, e dias sem venda nenhuma.",
            "en": "Days when a whole store sold nothing while others sold, and days with no sales at all.",
        }, gaps.store_days_without_sales, ("sales",)),
    Check(
        "stock_snapshot_gaps", "warning", {
            "pt": "Datas de posição de estoque que faltam para uma loja ou para uma série loja/produto.",
            "en": "Stock snapshot dates missing for a store or for a store/product series.",
        }, gaps.stock_snapshot_gaps, ("stock",)),
    Check(
        "negative_stock", "warning", {
            "pt": "Posições de estoque abaixo do mínimo: em quarentena (por arquivo) ou, se houver, no warehouse.",
            "en": "Stock rows below the minimum: quarantined (per file) or, if any, in the warehouse.",
        }, values.negative_stock, ("stock", "quarantine")),
    Check(
        "returns", "info", {
            "pt": "Vendas com unidades negativas (devoluções), por loja: linhas, unidades e receita.",
            "en": "Sales with negative units (returns), per store: rows, units and revenue.",
        }, values.returns, ("sales",)),
    Check(
        "unknown_ids", "warning", {
            "pt": "Ids citados por fatos mas ausentes dos cadastros (registrados como desconhecidos), com as "
                  "linhas que os citam.",
            "en": "Ids that facts mention but the master data lacks (registered as unknown), with the rows that "
                  "mention them.",
        }, loads.unknown_ids, ("products", "stores", "customers", "suppliers", "campaigns")),
    Check(
        "future_dates", "warning", {
            "pt": "Linhas com datas depois de hoje: no warehouse (dentro da tolerância) e em quarentena.",
            "en": "Rows dated after today: in the warehouse (within the tolerance) and quarantined.",
        }, values.future_dates),
    Check(
        "revenue_mismatch", "warning", {
            "pt": "Vendas cuja receita difere de unidades × preço além do arredondamento (0,05 ou 2%).",
            "en": "Sales whose revenue differs from units × price beyond rounding (0.05 or 2%).",
        }, values.revenue_mismatch, ("sales",)),
    Check(
        "quarantine_summary", "warning", {
            "pt": "Linhas em quarentena por arquivo, com as colunas que mais causaram rejeições.",
            "en": "Quarantined rows per file, with the columns that caused most rejections.",
        }, loads.quarantine_summary, ("quarantine",)),
)
"""Every built-in check, in display order."""
