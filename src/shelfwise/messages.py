"""User-facing sentences in Portuguese (pt-BR) and English, looked up by key.

Kept in one table so that a test can check that every key has both languages.
"""

from __future__ import annotations

import os

TEXTS: dict[str, dict[str, str]] = {
    "init.done": {"pt": "Workspace criado em {root}", "en": "Workspace created at {root}"},
    "ingest.loading": {"pt": "Carregando {file}", "en": "Loading {file}"},
    "ingest.loaded": {
        "pt": "{file} → {table}: {read} linhas lidas, {accepted} aceitas, {quarantined} em quarentena, "
              "{loaded} gravadas",
        "en": "{file} → {table}: {read} rows read, {accepted} accepted, {quarantined} quarantined, {loaded} stored",
    },
    "ingest.unchanged": {"pt": "{file}: sem mudança ({why})", "en": "{file}: unchanged ({why})"},
    "ingest.unknown": {"pt": "  ids desconhecidos registrados: {ids}", "en": "  unknown ids registered: {ids}"},
    "ingest.duplicates": {"pt": "  chaves duplicadas no arquivo: {n}", "en": "  duplicate keys in the file: {n}"},
    "ingest.erased": {
        "pt": "  linhas de pessoas apagadas a pedido (deixadas de fora, ou gravadas sem os seus ids): {n}",
        "en": "  rows of people erased on request (left out, or stored without their ids): {n}",
    },
    "ingest.failed": {"pt": "ERRO {error}", "en": "ERROR {error}"},
    "ingest.quarantine_hint": {
        "pt": "Veja as linhas rejeitadas: shelfwise sql "
              "\"SELECT line, reason FROM quarantine WHERE load_id = '{load}'\"",
        "en": "See the rejected rows: shelfwise sql \"SELECT line, reason FROM quarantine WHERE load_id = '{load}'\"",
    },
    "ingest.summary": {
        "pt": "{files} arquivo(s): {loaded} carregado(s), {unchanged} sem mudança, {failed} com erro",
        "en": "{files} file(s): {loaded} loaded, {unchanged} unchanged, {failed} failed",
    },
    "wait": {
        "pt": "Aguardando o warehouse, em uso por {holder}…",
        "en": "Waiting for the warehouse, held by {holder}…",
    },
    "export.done": {"pt": "{rows} linhas exportadas para {out}", "en": "{rows} rows exported to {out}"},
    "quality.summary": {
        "pt": "{n} achados de qualidade ({errors} erros, {warnings} avisos, {infos} informativos)",
        "en": "{n} quality findings ({errors} errors, {warnings} warnings, {infos} info)",
    },
    "demo.generating": {"pt": "Gerando dados de demonstração em {root}", "en": "Generating demo data in {root}"},
    "demo.tour": {
        "pt": "Pronto. Experimente:\n  shelfwise -w {root} tables\n  shelfwise -w {root} quality\n"
              "  shelfwise -w {root} sql \"SELECT store_id, sum(units) FROM sales GROUP BY ALL\"\n"
              "  shelfwise -w {root} forecast report --by store\n"
              "  shelfwise -w {root} export replenishment --out pedidos.xlsx\n"
              "  shelfwise -w {root} privacy ropa",
        "en": "Done. Try:\n  shelfwise -w {root} tables\n  shelfwise -w {root} quality\n"
              "  shelfwise -w {root} sql \"SELECT store_id, sum(units) FROM sales GROUP BY ALL\"\n"
              "  shelfwise -w {root} forecast report --by store\n"
              "  shelfwise -w {root} export replenishment --out orders.xlsx\n"
              "  shelfwise -w {root} privacy ropa",
    },
    "identity.running": {"pt": "Resolvendo identidades…", "en": "Resolving identities…"},
    "identity.done": {
        "pt": "Identidades ({run}): {records} cadastros → {persons} pessoas ({merged} pares ligados; método {method})",
        "en": "Identity ({run}): {records} customer records → {persons} persons ({merged} pairs linked; method "
              "{method})",
    },
    "identity.keys": {
        "pt": "  cartões ligados a uma pessoa pelos cupons: {cards}; cartões sem cadastro (pessoa própria): {own}; "
              "check-ins do app: {app}; dispositivos Wi-Fi/placas ligados por co-ocorrência: {devices}",
        "en": "  cards linked to a person by their receipts: {cards}; cards with no record (a person of their own): "
              "{own}; app check-ins: {app}; Wi-Fi devices/plates linked by co-occurrence: {devices}",
    },
    "identity.invalid_cpfs_ignored": {"pt": "  CPFs inválidos (dígitos verificadores) ignorados: {n}",
                                      "en": "  invalid CPFs (check digits) ignored: {n}"},
    "identity.documents_not_cpf": {"pt": "  documentos que não são CPF (CNPJ etc.) ignorados: {n}",
                                   "en": "  documents that are not CPFs (CNPJ etc.) ignored: {n}"},
    "identity.excluded_missing_id": {"pt": "  cadastros sem id deixados de fora: {n}",
                                     "en": "  records without an id left out: {n}"},
    "identity.excluded_repeated_id": {"pt": "  ids repetidos deixados de fora: {n}",
                                      "en": "  repeated ids left out: {n}"},
    "identity.placeholder_values_ignored": {
        "pt": "  valores genéricos compartilhados por muitos cadastros ignorados: {n}",
        "en": "  placeholder values shared by many records ignored: {n}"},
    "identity.conflicts": {
        "pt": "  pares rejeitados que continuam na mesma pessoa por outras ligações: {n} (veja identity_review)",
        "en": "  rejected pairs still in one person through other links: {n} (see identity_review)"},
    "identity.review": {
        "pt": "  pares para revisão: {n} (shelfwise identity review; shelfwise identity decide ID1 ID2 accept|reject)",
        "en": "  pairs to review: {n} (shelfwise identity review; shelfwise identity decide ID1 ID2 accept|reject)"},
    "identity.decided": {"pt": "Decisão registrada: {left} + {right} → {decision} (vale a partir da próxima execução)",
                         "en": "Decision recorded: {left} + {right} → {decision} (applies from the next run)"},
    "segment.running": {"pt": "Calculando comportamento e segmentando…", "en": "Computing behaviour and "
                        "segmenting…"},
    "segment.done": {
        "pt": "Segmentos ({run}): {persons} pessoas em {as_of}, método {method}, {segments} segmentos",
        "en": "Segments ({run}): {persons} persons as of {as_of}, method {method}, {segments} segments",
    },
    "segment.k": {
        "pt": "  k = {k} escolhido entre {tried}: silhueta {silhouette:.3f}, estabilidade (bootstrap, ARI) "
              "{stability:.2f}",
        "en": "  k = {k} chosen among {tried}: silhouette {silhouette:.3f}, bootstrap stability (ARI) {stability:.2f}",
    },
    "segment.excluded": {"pt": "  fora da segmentação ({reason}): {n}", "en": "  not segmented ({reason}): {n}"},
    "value.done": {
        "pt": "Valor do cliente ({run}): {persons} pessoas em {as_of}; próximos 12 meses: {purchases} compras "
              "esperadas, R$ {total}; P(ativo) média {alive:.2f}; BG/NBD r={r:.3f} α={alpha:.3f} a={a:.3f} "
              "b={b:.3f}",
        "en": "Customer value ({run}): {persons} persons as of {as_of}; next 12 months: {purchases} expected "
              "purchases, R$ {total}; mean P(alive) {alive:.2f}; BG/NBD r={r:.3f} α={alpha:.3f} a={a:.3f} "
              "b={b:.3f}",
    },
    "offer.running": {"pt": "Treinando o modelo de adesão…", "en": "Training the take-up model…"},
    "offer.auc": {
        "pt": "Oferta {package} ({run}): AUC no período reservado (a partir de {split}) {auc:.3f} "
              "[IC 95% {low:.3f}–{high:.3f}]; lift do 1º decil {lift:.1f}×",
        "en": "Offer {package} ({run}): held-out AUC (from {split}) {auc:.3f} [95% CI {low:.3f}–{high:.3f}]; "
              "top-decile lift {lift:.1f}x",
    },
    "offer.no_auc": {"pt": "Oferta {package} ({run}): sem AUC no tempo — {reason}",
                     "en": "Offer {package} ({run}): no held-out AUC — {reason}"},
    "offer.targets": {"pt": "  pessoas pontuadas: {scored}; elegíveis (consentimento e sem o pacote): {eligible}",
                      "en": "  persons scored: {scored}; eligible (consent and without the package): {eligible}"},
    "offer.contacts": {"pt": "  lista de contatos ({deciles} primeiros decis): {rows} linhas em {out}",
                       "en": "  contact list (top {deciles} deciles): {rows} rows in {out}"},
    "privacy.access": {
        "pt": "Solicitação {request} ({status}): respondida em {answered}, prazo {due}. Tabelas com a pessoa: {tables}",
        "en": "Request {request} ({status}): answered at {answered}, due {due}. Tables holding the person: {tables}",
    },
    "privacy.erase_confirm": {
        "pt": "Apagar esta pessoa de todo o workspace? Não há como desfazer",
        "en": "Erase this person from the whole workspace? This cannot be undone",
    },
    "privacy.erased": {
        "pt": "Solicitação {request} ({status}): {records} cadastro(s) no cofre, {rows} linha(s) em tabelas, "
              "{files} arquivo(s) limpos, {tombstones} lápide(s). Recibo:",
        "en": "Request {request} ({status}): {records} vault record(s), {rows} table row(s), {files} file(s) "
              "cleaned, {tombstones} tombstone(s). Receipt:",
    },
    "privacy.consent": {
        "pt": "Consentimento para {purpose} {state} em {records} cadastro(s)",
        "en": "Consent for {purpose} {state} on {records} record(s)",
    },
    "privacy.retention": {"pt": "Retenção: {rows} linha(s) expiradas removidas",
                          "en": "Retention: {rows} expired row(s) purged"},
    "privacy.retention_dry": {"pt": "Retenção (simulação): {rows} linha(s) seriam removidas",
                              "en": "Retention (dry run): {rows} row(s) would be purged"},
    "forecast.done": {
        "pt": "Previsão {run}: {series} séries, {horizon} dias a partir de {start}",
        "en": "Forecast {run}: {series} series, {horizon} days from {start}",
    },
    "forecast.accuracy": {
        "pt": "Backtest ({windows} janelas de {horizon} dias): WAPE {wape:.1%} (sazonal ingênuo {naive:.1%}), "
              "MASE {mase:.2f}, viés {bias:+.1%}, cobertura dos intervalos 80% {cov80:.0%} e 95% {cov95:.0%}",
        "en": "Backtest ({windows} windows of {horizon} days): WAPE {wape:.1%} (seasonal naive {naive:.1%}), "
              "MASE {mase:.2f}, bias {bias:+.1%}, interval coverage 80% {cov80:.0%} and 95% {cov95:.0%}",
    },
    "forecast.combination": {"pt": "Combinação: {regular} (dias de promoção: {promo})",
                             "en": "Combination: {regular} (promotion days: {promo})"},
    "forecast.series_backtested": {"pt": "  séries com backtest: {n}", "en": "  series backtested: {n}"},
    "forecast.series_forecast_only": {"pt": "  séries previstas sem backtest (histórico curto para as janelas): {n}",
                                      "en": "  series forecast without a backtest (history too short for the "
                                            "windows): {n}"},
    "forecast.series_borrowed": {"pt": "  séries novas, emprestando nível e perfil da categoria na loja: {n}",
                                 "en": "  new series, borrowing level and shape from their category in the "
                                       "store: {n}"},
    "forecast.series_no_demand": {"pt": "  séries sem nenhuma venda positiva (previsão 0): {n}",
                                  "en": "  series without any positive sale (forecast 0): {n}"},
    "forecast.future_rows_ignored": {"pt": "  linhas de venda com data futura ignoradas: {n}",
                                     "en": "  sales rows dated in the future, ignored: {n}"},
    "forecast.no_product_record": {"pt": "  séries de produtos sem cadastro (sem categoria): {n}",
                                   "en": "  series of products without a record (no category): {n}"},
    "forecast.no_sales": {
        "pt": "Não há vendas até {today} para prever: carregue um arquivo de vendas (shelfwise ingest vendas.csv)",
        "en": "There are no sales up to {today} to forecast from: load a sales file (shelfwise ingest sales.csv)",
    },
    "forecast.report_hint": {"pt": "Acurácia por categoria, loja ou série: shelfwise forecast report --by category",
                             "en": "Accuracy by category, store or series: shelfwise forecast report --by category"},
    "replenish.done": {
        "pt": "Reposição {run} (previsão {forecast}): {series} séries, {orders} pedidos sugeridos, {flagged} itens "
              "com cobertura menor que o prazo de entrega",
        "en": "Replenishment {run} (forecast {forecast}): {series} series, {orders} suggested orders, {flagged} "
              "items whose cover is shorter than their lead time",
    },
    "replenish.files": {"pt": "Propostas por fornecedor: {workbook} ({drafts} rascunho(s) de e-mail)",
                        "en": "Proposals per supplier: {workbook} ({drafts} e-mail draft(s))"},
    "replenish.nothing": {"pt": "Nenhum pedido a sugerir.", "en": "Nothing to order."},
    "audit.ok": {"pt": "Log de auditoria íntegro: {entries} registro(s); último hash {head}",
                 "en": "Audit log intact: {entries} entries; last hash {head}"},
    "audit.broken": {"pt": "Log de auditoria ADULTERADO: {problems} problema(s) em {entries} registro(s)",
                     "en": "Audit log TAMPERED WITH: {problems} problem(s) in {entries} entries"},
    "promo.running": {"pt": "Medindo as campanhas…", "en": "Measuring the campaigns…"},
    "promo.done": {
        "pt": "Campanhas ({run}): {measured} medidas, {skipped} não medidas. Lift = incremental ÷ linha de base "
              "(o que teria vendido sem a promoção); intervalos de {level}%.",
        "en": "Campaigns ({run}): {measured} measured, {skipped} not measured. Lift = incremental ÷ baseline "
              "(what would have sold without the promotion); {level}% intervals.",
    },
    "promo.status.ok": {"pt": "medida", "en": "measured"},
    "promo.status.too_little_data": {"pt": "dados insuficientes: sem número", "en": "too little data: no figure"},
    "promo.status.no_products": {"pt": "sem produtos listados (ação de loja ou parceria)",
                                 "en": "no products listed (a store-wide or partner action)"},
    "promo.status.reversed_dates": {"pt": "datas invertidas (início depois do fim)",
                                    "en": "dates reversed (start after end)"},
    "promo.status.missing_dates": {"pt": "sem data de início ou de fim", "en": "no start or end date"},
    "promo.status.planned": {"pt": "planejada (começa depois das vendas carregadas)",
                             "en": "planned (starts after the loaded sales)"},
    "promo.status.in_progress": {"pt": "em andamento (termina depois das vendas carregadas)",
                                 "en": "in progress (ends after the loaded sales)"},
    "promo.status.before_history": {"pt": "começou antes de haver histórico suficiente",
                                    "en": "started before there was enough history"},
    "promo.status.no_sales": {"pt": "nenhuma venda dos seus produtos nas suas lojas",
                              "en": "no sales of its products in its stores"},
    "promo.planning": {"pt": "Prevendo a campanha planejada…", "en": "Predicting the planned campaign…"},
    "promo.cells_left_out": {
        "pt": "{n} loja(s)/produto(s) ficaram fora do plano: sem vendas comuns nos últimos 56 dias ou sem preço e "
              "custo no cadastro de produtos",
        "en": "{n} store/product pair(s) left out of the plan: no ordinary sales in the last 56 days, or no price "
              "and cost in the product file",
    },
    "promo.status.duplicate_id": {"pt": "o mesmo id em mais de uma linha de campanhas",
                                  "en": "the same id on more than one row of campaigns"},
    "promo.saved": {"pt": "Plano gravado em campaigns como {campaign}: a próxima previsão já o considera.",
                    "en": "Plan saved to campaigns as {campaign}: the next forecast takes it into account."},
    "abtest.stored": {"pt": "Resultado gravado (execução {run}): shelfwise export abtest_results --out teste.xlsx",
                      "en": "Result stored (run {run}): shelfwise export abtest_results --out test.xlsx"},
    "abtest.size": {
        "pt": "São necessárias {treatment} unidades no tratamento e {control} no controle "
              "(poder {power}%, significância {alpha}%, bicaudal).",
        "en": "You need {treatment} units in treatment and {control} in control "
              "({power}% power, {alpha}% significance, two-sided).",
    },
    "crosssell.running": {"pt": "Minerando regras de associação…", "en": "Mining association rules…"},
    "crosssell.done": {"pt": "Recomendações ({run}): {rows} linhas a partir de {baskets} cestas",
                       "en": "Recommendations ({run}): {rows} rows from {baskets} baskets"},
    "promo.counted": {"pt": "  {n} campanha(s): {why}", "en": "  {n} campaign(s): {why}"},
    "promo.overlap": {"pt": "  {campaign} se sobrepõe a {others} nos mesmos produtos e lojas: o lift é compartilhado",
                      "en": "  {campaign} overlaps {others} on the same products and stores: the lift is shared"},
}


def default_language() -> str:
    """Language for messages printed before a workspace is open: $SHELFWISE_LANG, else Portuguese."""
    return os.environ.get("SHELFWISE_LANG", "pt")


def number(value: float, language: str, decimals: int = 0) -> str:
    """A number as its reader writes it: 9.769.156,68 in Portuguese, 9,769,156.68 in English."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".") if language == "pt" else text


def say(key: str, language: str, **values: object) -> str:
    """The sentence `key` in `language` (English when the language is unknown)."""
    texts = TEXTS[key]
    return texts.get(language, texts["en"]).format(**values)
