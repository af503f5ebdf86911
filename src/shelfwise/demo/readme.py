"""The truth folder's README: what each planted-truth file means, so a test or a reader never guesses."""

from __future__ import annotations

from datetime import date

import pandas as pd

_DESCRIPTIONS: dict[str, str] = {
    "sales_expected": (
        "One row per (date, store_id, product_id) of the two-year history. `expected_units` is the mean of the "
        "negative-binomial demand (all effects included); `baseline_units` the same without any promotion effect "
        "(no lift, no post-promotion dip, no cannibalisation; the level drop anomaly is included); `demand_units` "
        "the drawn demand; `sold_units` = min(demand, available stock); `observed_units` the units written in the "
        "sales file (0 when there is no row; x10 on spike rows; returns, unknown ids and bad rows excluded); "
        "`available_units` stock at the start of the day after deliveries; `on_hand`/`on_order` end-of-day stock "
        "(as in the stock file); `censored` = demand exceeded stock; `closed` = 25 Dec / 1 Jan (no rows); "
        "`campaign_id` the campaign whose lift applies; `promo_role` promo / post_promo / cannibalised / ''; "
        "`anomaly` outage / spike / level_drop / ''; `price` the shelf price of the day."),
    "future_expected": (
        "Expected and baseline units for the 56 days after end_date (no draws): what a perfect forecaster "
        "predicts, including the planned (future) campaigns."),
    "calendar": "Public holidays of Brazil and São Paulo state, Carnival and Black Friday used by the demand model.",
    "promo_cells": (
        "One row per (campaign_id, store_id, product_id). `true_lift_pct` is the planted multiplicative lift of the "
        "cell (depth x category response x noise); `expected_baseline_units` / `expected_promo_units` sum the "
        "baseline and expected units over the campaign window; where two campaigns overlap on a cell the stronger "
        "lift applies (discounts never stack) and `days_won_by_other_campaign` counts those days. "
        "`post_dip_units` are the units lost in the 7 days after the campaign (pantry categories only); revenue "
        "and margin columns use the shelf price (discounted in the window) and unit cost."),
    "promo_campaigns": (
        "One row per campaign of campanhas.csv (the bad row CMP-099 excluded). `true_lift_pct` = 100 x (sum of "
        "expected promo units / sum of expected baseline units - 1) over its cells; `incremental_units` their "
        "difference; `cannibalised_units` units lost by same-category unpromoted items in its stores during its "
        "window; `roi` = (incremental margin - post-dip margin - cannibalised margin - cost) / cost; "
        "`is_future` marks planned campaigns that start after end_date; `overlaps_with` the other campaign "
        "sharing a cell on overlapping days; `occasion` black_friday / natal / sobreposta / tema / planejada."),
    "anomalies": (
        "Planted anomalies: `level_drop` (one SKU in one store falls to 40% for good), `outage` (one store, two "
        "days, no sales rows at all), `spike` (units typed x10 in the sales file; `file` and `line` point at the "
        "row), `negative_feedback_burst` (a week of complaints about one store in avaliacoes_clientes.csv)."),
    "low_cover_items": (
        "Every (store, product) whose last-day stock position (on_hand + on_order) covers fewer days than its "
        "lead time, where a day of cover is the mean expected demand of the next lead-time days. `planted` marks "
        "the ten series whose ordering was stopped on purpose; the others are natural."),
    "customer_persons": (
        "Every customer record of clientes_fidelidade.csv -> the latent `person_id` and its segment. "
        "`is_duplicate` marks the 2nd/3rd record of a person; `document_valid` is true when the CPF passes the "
        "check digits, false for the planted invalid CPFs, null when the record has no CPF; `quarantined` marks "
        "the bad row (impossible birth date)."),
    "card_persons": "Every card token -> person_id (a person pays with one to three tokens).",
    "person_segments": (
        "The latent persons: segment code and its Portuguese and English persona names, loyalty membership, "
        "app use, activity window (`churned_on` for those who stopped coming) and number of receipts."),
    "offer_propensity": (
        "True probability that each person takes each StreamMax package when offered (segment base, cinema "
        "habit, app use and age). Only members (`reachable`) could take it up."),
    "subscriptions_truth": "The subscriptions actually drawn from the propensities, with the person behind each.",
    "transaction_persons": (
        "Every receipt -> person_id and segment; `in_sale` marks receipts inside a mall sale window."),
    "visitor_persons": "Every visitor id of visitas_wifi_app.jsonl -> person_id (null for anonymous passers-by).",
    "feedback_sentiment": (
        "Every valid row of avaliacoes_clientes.csv with its physical `line`, planted `sentiment` (positive / "
        "neutral / negative), the personal data it contains (`pii_kind` cpf / email / phone and the exact "
        "`pii_value` a privacy step must mask) and `burst` for the negative week."),
    "bad_rows": (
        "Rows a correct loader must quarantine: `line` is the 1-based physical line counting the header as line 1 "
        "(JSON Lines have no header: the first record is line 1); `column` the canonical column, `header` the "
        "file's header, `problem` not_a_number / invalid_date / missing_required / negative_value / "
        "end_before_start, `value` the raw text."),
    "returns": "Sales rows with negative units (customer returns): legitimate, to be kept and reported.",
    "unknown_ids": "Sales rows whose product id is absent from produtos.xlsx: kept, the id registered and flagged.",
}

_QUIRKS = """\
## What the landing files look like

- `produtos.xlsx`: one sheet `Produtos`; EANs are text cells (8 start with `0789`), numbers are numeric cells.
- `lojas.csv`, `fornecedores.csv`, `clientes_fidelidade.csv`, `assinaturas_streaming.csv`,
  `campanhas_shopping.csv`, `vendas_rede_sp_*.csv`: cp1252, `;`, CRLF, decimal comma, `dd/mm/yyyy`.
- `vendas_rede_sp_*.csv` (the years of the history in the name): revenue (`Valor Total`) is `R$ 1.234,56` for
  stores 004 and 005 and `1234,56` elsewhere; `Promoção` is `Sim`/`Não`; store ids keep leading zeros (`001`).
- `estoque_diario.csv` (WMS): UTF-8, `,`, LF, ISO dates, decimal point (`148.0`).
- `campanhas.csv`: UTF-8 with BOM, `;`, every field quoted, product and store lists separated by `,`;
  two campaigns start after end_date (planned) and CMP-099 ends before it starts (bad row).
- `lojistas_shopping.csv`, `avaliacoes_clientes.csv`: UTF-8 without BOM, `;`, LF; feedback texts contain `;`
  and line breaks inside quoted fields.
- `cupons_fiscais_shopping.csv.gz`: gzip of a cp1252 `;` CSV; `Data/Hora` is `dd/mm/yyyy HH:MM:SS`,
  `Valor Total` is `1.234,56`; `Cliente` is empty unless the loyalty app was used.
- `clientes_fidelidade.csv`: `Aceita Marketing` is `S`/`N`, `Data Cadastro` is `dd/mm/yyyy HH:MM`, CPF with or
  without punctuation or missing, phones in four formats.
- `visitas_wifi_app.jsonl`: JSON Lines, ISO timestamps, `permanencia_min` null for app check-ins; for app
  check-ins the visitor id is the loyalty customer id.
"""


def truth_readme(seed: int, end_date: date, counts: dict, tables: dict[str, pd.DataFrame]) -> str:
    """Markdown describing the truth files, the landing files and their exact row counts."""
    lines = [f"# Shelfwise demo truth (seed {seed}, end date {end_date.isoformat()})", "",
             "Planted truth for the files in `../landing/`. Everything here is known exactly because the data "
             "was simulated from it.", "", "## Truth files", "", "| file | rows | meaning |", "| --- | --- | --- |"]
    for name, frame in tables.items():
        lines.append(f"| `{name}.parquet` | {len(frame)} | {_DESCRIPTIONS[name]} |")
    lines += ["", "`counts.json`: per landing file, the exact number of data rows, and how many a correct loader "
              "accepts and quarantines (plus returns and unknown ids, which are accepted).", "",
              "## Landing files", "", "| file | table | format | rows | accepted | quarantined |",
              "| --- | --- | --- | --- | --- | --- |"]
    for name, c in counts["files"].items():
        lines.append(f"| `{name}` | {c['table']} | {c['format']} | {c['rows']} | {c['accepted']} | "
                     f"{c['quarantined']} |")
    return "\n".join(lines) + "\n\n" + _QUIRKS
