"""The sentences of the quality report in Portuguese (pt-BR) and English, and how numbers and dates read.

Every finding's `detail` is built from one of these templates, so a test can check that each key exists
in both languages. Values are formatted before they are put in: `number(1234.5, "pt") == "1.234,5"`.
"""

from __future__ import annotations

from datetime import date, datetime

LANGUAGES = ("pt", "en")

TABLE_LABELS: dict[str, dict[str, str]] = {
    "products": {"pt": "produtos", "en": "products"},
    "stores": {"pt": "lojas", "en": "stores"},
    "suppliers": {"pt": "fornecedores", "en": "suppliers"},
    "sales": {"pt": "vendas", "en": "sales"},
    "stock": {"pt": "estoque", "en": "stock"},
    "customers": {"pt": "clientes", "en": "customers"},
    "transactions": {"pt": "transações", "en": "transactions"},
    "visits": {"pt": "visitas", "en": "visits"},
    "campaigns": {"pt": "campanhas", "en": "campaigns"},
    "subscriptions": {"pt": "assinaturas", "en": "subscriptions"},
    "feedback": {"pt": "feedback", "en": "feedback"},
}

SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "error": {"pt": "erro", "en": "error"},
    "warning": {"pt": "aviso", "en": "warning"},
    "info": {"pt": "info", "en": "info"},
}

TEXTS: dict[str, dict[str, str]] = {
    "exact_duplicates": {
        "pt": "{n} linha(s) de {table} são cópias exatas de outra linha (todas as colunas iguais), em {groups} "
              "grupo(s); elas contam em dobro em qualquer total",
        "en": "{n} row(s) of {table} are exact copies of another row (every column equal), in {groups} group(s); "
              "they count twice in every total",
    },
    "exact_duplicates.copies": {"pt": "{key} ({n} cópias)", "en": "{key} ({n} copies)"},
    "file_duplicate_keys": {
        "pt": "o arquivo {file} ({table}) trazia {n} linha(s) com chave repetida; a última linha de cada chave "
              "foi mantida e as demais foram para a quarentena",
        "en": "the file {file} ({table}) had {n} row(s) with a repeated key; the last row of each key was kept "
              "and the others were quarantined",
    },
    "near_duplicates.name": {
        "pt": "{groups} grupo(s) de {table} com ids diferentes e o mesmo nome (ignorando maiúsculas, acentos e "
              "espaços){extra}, {n} cadastros no total — provavelmente o mesmo item cadastrado mais de uma vez",
        "en": "{groups} group(s) of {table} have different ids and the same name (ignoring case, accents and "
              "spaces){extra}, {n} records in all — probably the same item registered more than once",
    },
    "near_duplicates.same_category": {"pt": " e a mesma categoria e marca", "en": " and the same category and brand"},
    "near_duplicates.email": {
        "pt": "{groups} e-mail(s) aparece(m) em mais de um cadastro de cliente ({n} cadastros com ids diferentes); "
              "o e-mail não é mostrado por ser dado pessoal",
        "en": "{groups} e-mail address(es) appear in more than one customer record ({n} records under different "
              "ids); the address is not shown because it is personal data",
    },
    "near_duplicates.document": {
        "pt": "{groups} documento(s) (CPF/CNPJ) aparece(m) em mais de um cadastro de cliente ({n} cadastros com ids "
              "diferentes); o documento não é mostrado por ser dado pessoal",
        "en": "{groups} document(s) (CPF/CNPJ) appear in more than one customer record ({n} records under "
              "different ids); the document is not shown because it is personal data",
    },
    "missing_values": {
        "pt": "{share} das linhas de {table} estão sem {column} ({n} de {total})",
        "en": "{share} of the rows of {table} have no {column} ({n} of {total})",
    },
    "missing_values.all": {
        "pt": "nenhuma das {total} linhas de {table} tem {column} — a coluna provavelmente não veio no arquivo",
        "en": "none of the {total} rows of {table} has {column} — the column was probably not in the file",
    },
    "outliers": {
        "pt": "{n} dia(s) com vendas muito fora do padrão na série loja {store} / produto {product} (mediana "
              "{median} unidades/dia; pior: {worst} unidades em {day})",
        "en": "{n} day(s) with sales far outside the usual range in series store {store} / product {product} "
              "(median {median} units/day; worst: {worst} units on {day})",
    },
    "outliers.rest": {
        "pt": "mais {series} série(s) com vendas muito fora do padrão, somando {n} dia(s)",
        "en": "{series} more series with sales far outside the usual range, {n} day(s) in all",
    },
    "series_gaps": {
        "pt": "a série loja {store} / produto {product} não tem vendas em {missing} dia(s) entre {first} e "
              "{last}; o maior intervalo tem {longest} dias seguidos, a partir de {start} (produto fora de "
              "linha, ruptura ou falha de exportação?)",
        "en": "series store {store} / product {product} has no sales on {missing} day(s) between {first} and "
              "{last}; the longest gap is {longest} consecutive days from {start} (delisted, out of stock, or "
              "an export failure?)",
    },
    "series_gaps.rest": {
        "pt": "mais {series} série(s) com {days} ou mais dias seguidos sem vendas, somando {n} dia(s) sem vendas",
        "en": "{series} more series with {days} or more consecutive days without sales, {n} such day(s) in all",
    },
    "series_gaps.short": {
        "pt": "{series} série(s) têm só intervalos curtos sem vendas (menos de {days} dias seguidos), {n} dia(s) "
              "no total; dias sem venda costumam não ser exportados",
        "en": "{series} series have only short gaps without sales (fewer than {days} consecutive days), {n} "
              "day(s) in all; days without sales are often not exported",
    },
    "store_days": {
        "pt": "a loja {store} não tem nenhuma venda em {n} dia(s) em que outras lojas venderam (loja fechada "
              "ou falha de exportação?)",
        "en": "store {store} has no sales at all on {n} day(s) when other stores sold (store closed, or an "
              "export failure?)",
    },
    "store_days.rest": {
        "pt": "mais {stores} loja(s) sem nenhuma venda em dias em que outras lojas venderam, somando {n} dia(s)",
        "en": "{stores} more store(s) without any sales on days when other stores sold, {n} day(s) in all",
    },
    "store_days.global": {
        "pt": "nenhuma loja tem vendas em {n} dia(s) dentro do período de vendas (feriados, ou falta um "
              "arquivo?); o maior intervalo tem {longest} dia(s) seguidos",
        "en": "no store has any sales on {n} day(s) inside the sales period (holidays, or a missing file?); "
              "the longest gap is {longest} consecutive day(s)",
    },
    "stock_gaps.store": {
        "pt": "a loja {store} não tem posição de estoque em {n} das datas de posição entre {first} e {last}",
        "en": "store {store} has no stock snapshot on {n} of the snapshot dates between {first} and {last}",
    },
    "stock_gaps.rest": {
        "pt": "mais {stores} loja(s) sem posição de estoque em algumas datas, somando {n} data(s)",
        "en": "{stores} more store(s) without a stock snapshot on some dates, {n} date(s) in all",
    },
    "stock_gaps.series": {
        "pt": "{series} série(s) de estoque (loja/produto) não têm posição em {n} data(s) em que a loja tem "
              "posição de outros produtos; o estoque desses dias é desconhecido (ou era zero e não foi exportado)",
        "en": "{series} stock series (store/product) have no snapshot on {n} date(s) when the store has "
              "snapshots of other products; their stock on those days is unknown (or was zero and not exported)",
    },
    "negative_stock.quarantine": {
        "pt": "o arquivo {file} trazia {n} posição(ões) de estoque abaixo do mínimo (estoque negativo); elas "
              "estão na quarentena e esses dias ficaram sem posição de estoque",
        "en": "the file {file} had {n} stock row(s) below the minimum (negative stock); they are quarantined, "
              "so those days have no stock position",
    },
    "negative_stock.warehouse": {
        "pt": "{n} posição(ões) de estoque negativas no warehouse ({column} < 0), somando {units} unidades",
        "en": "{n} stock row(s) in the warehouse are negative ({column} < 0), totalling {units} units",
    },
    "returns": {
        "pt": "{n} linha(s) de vendas com devolução (unidades negativas) na loja {store}, somando {units} "
              "unidades{revenue}",
        "en": "{n} sales row(s) are returns (negative units) in store {store}, totalling {units} units{revenue}",
    },
    "returns.revenue": {"pt": " e {revenue} de receita", "en": " and {revenue} of revenue"},
    "returns.rest": {
        "pt": "mais {stores} loja(s) com devoluções: {n} linha(s), somando {units} unidades",
        "en": "{stores} more store(s) with returns: {n} row(s), totalling {units} units",
    },
    "unknown_ids": {
        "pt": "{table}: o id {id} não está no cadastro (foi registrado como desconhecido) e é citado por {n} "
              "linha(s){refs}",
        "en": "{table}: id {id} is not in the master data (it was registered as unknown) and is referenced by "
              "{n} row(s){refs}",
    },
    "unknown_ids.rest": {
        "pt": "{table}: mais {ids} id(s) desconhecido(s), citados por {n} linha(s)",
        "en": "{table}: {ids} more unknown id(s), referenced by {n} row(s)",
    },
    "future_dates": {
        "pt": "{n} linha(s) de {table} têm {column} depois de hoje ({today}); a mais distante é {latest}",
        "en": "{n} row(s) of {table} have {column} after today ({today}); the latest is {latest}",
    },
    "future_dates.quarantine": {
        "pt": "o arquivo {file} ({table}) trazia {n} linha(s) com data no futuro além da tolerância; elas "
              "estão na quarentena",
        "en": "the file {file} ({table}) had {n} row(s) dated in the future beyond the tolerance; they are "
              "quarantined",
    },
    "revenue_mismatch": {
        "pt": "{n} linha(s) de vendas têm receita diferente de unidades × preço (diferença acima de {tolerance} "
              "ou {share} da receita); a maior diferença é {worst}",
        "en": "{n} sales row(s) have revenue that differs from units × price (by more than {tolerance} or {share} "
              "of the revenue); the largest difference is {worst}",
    },
    "revenue_mismatch.example": {
        "pt": "{day} loja {store} produto {product}: receita {revenue}, {units} × {price} = {expected}",
        "en": "{day} store {store} product {product}: revenue {revenue}, {units} × {price} = {expected}",
    },
    "quarantine_summary": {
        "pt": "o arquivo {file} ({table}) tem {n} linha(s) em quarentena; principais colunas com problema: "
              "{reasons}",
        "en": "the file {file} ({table}) has {n} quarantined row(s); main columns with problems: {reasons}",
    },
    "failed_loads": {
        "pt": "a carga de {file} falhou e nada dele foi carregado: {message}",
        "en": "loading {file} failed and nothing from it was loaded: {message}",
    },
    "line": {"pt": "linha {line}", "en": "line {line}"},
    "structure": {"pt": "estrutura da linha", "en": "line structure"},
    "summary.none": {"pt": "Nenhum problema de qualidade encontrado.", "en": "No quality issues found."},
    "summary.top": {"pt": "Principais achados:", "en": "Top findings:"},
    "summary.more": {"pt": "  … e mais {n} achado(s).", "en": "  … and {n} more finding(s)."},
    "summary.hint": {
        "pt": "Todos os achados: shelfwise sql \"SELECT * FROM quality_issues WHERE run_id = '{run_id}'\"",
        "en": "All findings: shelfwise sql \"SELECT * FROM quality_issues WHERE run_id = '{run_id}'\"",
    },
}


def resolve_language(language: str) -> str:
    """`pt` or `en`; an unknown language falls back to English, as elsewhere in Shelfwise."""
    code = (language or "").lower().replace("_", "-")
    return "pt" if code in ("pt", "pt-br") else "en"


def text(key: str, language: str, /, **values: object) -> str:
    """The sentence `key` in `language`, filled with already formatted `values`."""
    return TEXTS[key][language].format(**values)


def table_label(name: str, language: str) -> str:
    """How a table is called in a sentence: `vendas` in Portuguese, `sales` in English."""
    return TABLE_LABELS.get(name, {}).get(language, name)


def number(value: float | int | None, language: str, decimals: int = 2) -> str:
    """A number with thousands separators and at most `decimals` decimals: 1234.5 -> `1.234,5` in pt."""
    if value is None:
        return "?"
    shown = f"{value:,.{decimals}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    if shown in ("-0", ""):
        shown = "0"
    return shown.translate(str.maketrans(",.", ".,")) if language == "pt" else shown


def share(value: float, language: str) -> str:
    """A proportion as a percentage with one decimal: 0.4532 -> `45,3%` in pt."""
    if 0 < value < 0.001:
        return "< " + share(0.001, language)
    return number(value * 100, language, decimals=1) + "%"


def day(value: date | datetime | None, language: str) -> str:
    """A date as an analyst reads it: 31/01/2025 in pt, 2025-01-31 in en."""
    if value is None:
        return "?"
    if isinstance(value, datetime):
        value = value.date()
    return value.strftime("%d/%m/%Y") if language == "pt" else value.isoformat()
