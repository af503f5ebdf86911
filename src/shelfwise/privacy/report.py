"""The readable side of an access request: one self-contained HTML page a person can open, print or keep.

Plain HTML with inline CSS (no template engine or asset): every value is escaped, every section says in words what
it holds, in Portuguese or English.
"""

from __future__ import annotations

import html
from typing import Any

_TEXT = {
    "title": {"pt": "Seus dados pessoais", "en": "Your personal data"},
    "intro": {
        "pt": "Resposta à solicitação de acesso (LGPD, Art. 18): tudo o que este sistema guarda sobre a pessoa, "
              "de onde veio e com que base legal.",
        "en": "Answer to an access request (LGPD Art. 18): everything this system holds about the person, where it "
              "came from and on which legal basis.",
    },
    "request": {"pt": "Solicitação", "en": "Request"},
    "records_in_vault": {"pt": "Cadastros (dados guardados no cofre criptografado)",
                         "en": "Records (data kept in the encrypted vault)"},
    "tables_held": {"pt": "Tabelas que contêm a pessoa", "en": "Tables that hold the person"},
    "tables": {"pt": "Dados por tabela (identificadores aparecem como pseudônimos)",
               "en": "Data by table (identifiers appear as pseudonyms)"},
    "quarantined_rows": {"pt": "Linhas rejeitadas na carga (guardadas lacradas)",
                         "en": "Rows rejected at loading (kept sealed)"},
    "consent": {"pt": "Consentimentos e bases legais", "en": "Consent and legal bases"},
    "sources": {"pt": "Origem: arquivos carregados", "en": "Where it came from: loaded files"},
    "earlier_requests": {"pt": "Solicitações anteriores", "en": "Earlier requests"},
    "none": {"pt": "nada", "en": "nothing"},
}


def access_html(document: dict[str, Any], language: str) -> str:
    """The access answer as one HTML page."""
    lang = language if language in ("pt", "en") else "pt"
    say = {key: texts[lang] for key, texts in _TEXT.items()}
    parts = [f"<h1>{_e(say['title'])}</h1>", f"<p>{_e(say['intro'])}</p>",
             f"<h2>{_e(say['request'])}</h2>", _pairs(document["request"] | document["subject"]),
             f"<h2>{_e(say['records_in_vault'])}</h2>", _table(document["records_in_vault"], say["none"]),
             f"<h2>{_e(say['tables_held'])}</h2>",
             f"<p>{_e(', '.join(document['tables_held']) or say['none'])}</p>",
             f"<h2>{_e(say['tables'])}</h2>"]
    for name, rows in document["tables"].items():
        if rows:
            parts += [f"<h3>{_e(name)} ({len(rows)})</h3>", _table(rows, say["none"])]
    for key in ("quarantined_rows", "consent", "sources", "earlier_requests"):
        parts += [f"<h2>{_e(say[key])}</h2>", _table(document[key], say["none"])]
    style = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #bbb;padding:.2em .5em;font-size:.9em;text-align:left;vertical-align:top}"
             "th{background:#eee}")
    return (f'<!DOCTYPE html><html lang="{"pt-BR" if lang == "pt" else "en"}"><head><meta charset="utf-8">'
            f"<title>{_e(say['title'])}</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pairs(values: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in values.items())
    return f"<table>{rows}</table>"


def _table(rows: list[dict], empty: str) -> str:
    if not rows:
        return f"<p>{_e(empty)}</p>"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
