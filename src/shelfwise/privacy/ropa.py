"""The record of processing operations (LGPD Art. 37), generated from the workspace's settings and the data contract.

A hand-written record drifts from what the product does; this one is rebuilt on request from the same facts the
product runs on: the personal columns and treatments of `shelfwise.schema`, and `[privacy]` in `shelfwise.toml`
(controller, encarregado, legal bases, retention, recipients, where the key and the audit log live). Each figure
names its source, so a DPO can see what to change when the record is wrong. Every sentence exists in Portuguese
and English in `TEXTS`, one table, so that a test can check that neither language is missing a label.

Markdown and HTML are rendered from one list of sections, so the two cannot disagree; the HTML page carries its
own styles (no external assets) and prints cleanly; the JSON twin is the `Register` itself.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import date

from shelfwise.config import CONFIG_FILE, DEFAULT_LEGAL_BASES, DEFAULT_RETENTION_DAYS
from shelfwise.privacy.keys import KEY_ENV
from shelfwise.schema import TABLES, Column
from shelfwise.workspace import Workspace

LANGUAGES = ("pt", "en")

TEXTS: dict[str, dict[str, str]] = {
    "title": {
        "pt": "Registro das operações de tratamento de dados pessoais (LGPD Art. 37)",
        "en": "Record of personal data processing operations (LGPD Art. 37)",
    },
    "generated": {
        "pt": "Gerado em {day} pelo Shelfwise a partir de {config} e do contrato de dados; gere de novo com "
              "`shelfwise privacy ropa` sempre que a configuração mudar.",
        "en": "Generated on {day} by Shelfwise from {config} and the data contract; generate it again with "
              "`shelfwise privacy ropa` whenever the settings change.",
    },
    "section.warnings": {"pt": "Atenção", "en": "Attention"},
    "section.parties": {"pt": "Controlador e encarregado", "en": "Controller and data protection officer"},
    "section.purposes": {"pt": "Finalidades e operações", "en": "Purposes and operations"},
    "section.subjects": {"pt": "Titulares dos dados", "en": "Data subjects"},
    "section.data": {"pt": "Categorias de dados pessoais", "en": "Personal data categories"},
    "section.retention": {"pt": "Retenção (LGPD Art. 16)", "en": "Retention (LGPD Art. 16)"},
    "section.recipients": {"pt": "Compartilhamento", "en": "Recipients"},
    "section.transfers": {"pt": "Transferência internacional (LGPD Art. 33)",
                          "en": "International transfers (LGPD Art. 33)"},
    "section.security": {"pt": "Medidas de segurança (LGPD Art. 46)", "en": "Security measures (LGPD Art. 46)"},
    "section.rights": {"pt": "Direitos dos titulares (LGPD Art. 18)", "en": "Data-subject rights (LGPD Art. 18)"},
    "section.sources": {"pt": "Origem de cada informação", "en": "Source of each figure"},
    "label.controller": {"pt": "Controlador", "en": "Controller"},
    "label.dpo": {"pt": "Encarregado (LGPD Art. 41)", "en": "Data protection officer, encarregado (LGPD Art. 41)"},
    "not_configured": {
        "pt": "não configurado — defina [privacy] {setting} em shelfwise.toml",
        "en": "not configured — set [privacy] {setting} in shelfwise.toml",
    },
    "col.purpose": {"pt": "Finalidade", "en": "Purpose"},
    "col.description": {"pt": "Descrição", "en": "Description"},
    "col.basis": {"pt": "Base legal", "en": "Legal basis"},
    "col.subjects": {"pt": "Titulares", "en": "Data subjects"},
    "col.categories": {"pt": "Categorias de dados", "en": "Data categories"},
    "col.consent": {"pt": "Consentimento verificado na exportação", "en": "Consent checked at export"},
    "col.subject": {"pt": "Titular", "en": "Data subject"},
    "col.tables": {"pt": "Tabelas", "en": "Tables"},
    "col.column": {"pt": "Coluna", "en": "Column"},
    "col.category": {"pt": "Categoria", "en": "Category"},
    "col.treatment": {"pt": "Tratamento", "en": "Treatment"},
    "col.storage": {"pt": "Onde fica", "en": "Where it is stored"},
    "col.table": {"pt": "Tabela", "en": "Table"},
    "col.days": {"pt": "Dias", "en": "Days"},
    "col.period": {"pt": "Período", "en": "Period"},
    "col.counted": {"pt": "Contado a partir de", "en": "Counted from"},
    "col.recipient": {"pt": "Destinatário", "en": "Recipient"},
    "col.what": {"pt": "O quê e por quê", "en": "What and why"},
    "col.figure": {"pt": "Informação", "en": "Figure"},
    "col.source": {"pt": "Origem", "en": "Source"},
    "yes": {"pt": "sim", "en": "yes"},
    "no": {"pt": "não", "en": "no"},
    "purpose.analytics": {
        "pt": "Análises de vendas, estoque e clientes; previsão de demanda; resolução de identidade (cadastros, "
              "cartões e dispositivos ligados a uma pessoa); segmentação de clientes (personas) e valor do cliente.",
        "en": "Sales, stock and customer analytics; demand forecasting; identity resolution (records, cards and "
              "devices linked to one person); customer segmentation (personas) and customer value.",
    },
    "purpose.marketing_contact": {
        "pt": "Listas de contato para campanhas de marketing.",
        "en": "Contact lists for marketing campaigns.",
    },
    "purpose.partner_offer": {
        "pt": "Seleção de clientes para ofertas de parceiros, como um pacote de streaming (modelo de propensão; "
              "só recebe a oferta quem consentiu).",
        "en": "Selection of customers for partner offers, such as a streaming package (a propensity model; only "
              "people who consented receive the offer).",
    },
    "basis.consent": {"pt": "Consentimento (LGPD Art. 7, I)", "en": "Consent (LGPD Art. 7, I)"},
    "basis.legitimate_interest": {
        "pt": "Legítimo interesse (LGPD Art. 7, IX e Art. 10)",
        "en": "Legitimate interest (LGPD Art. 7, IX and Art. 10)",
    },
    "basis.contract": {"pt": "Execução de contrato (LGPD Art. 7, V)",
                       "en": "Performance of a contract (LGPD Art. 7, V)"},
    "basis.legal_obligation": {
        "pt": "Cumprimento de obrigação legal ou regulatória (LGPD Art. 7, II)",
        "en": "Compliance with a legal or regulatory obligation (LGPD Art. 7, II)",
    },
    "subject.loyalty": {"pt": "Clientes do programa de fidelidade", "en": "Customers of the loyalty programme"},
    "subject.card_shoppers": {"pt": "Compradores que pagam com cartão", "en": "Shoppers paying by card"},
    "subject.visitors": {"pt": "Visitantes do shopping via Wi-Fi ou aplicativo",
                         "en": "Mall visitors via Wi-Fi or app"},
    "subject.feedback_writers": {"pt": "Pessoas que escrevem comentários e avaliações",
                                 "en": "People writing feedback"},
    "category.identification": {"pt": "identificação", "en": "identification"},
    "category.contact": {"pt": "contato", "en": "contact"},
    "category.demographic": {"pt": "demográfico", "en": "demographic"},
    "category.financial": {"pt": "financeiro", "en": "financial"},
    "category.device": {"pt": "dispositivo", "en": "device"},
    "category.free_text": {"pt": "texto livre", "en": "free text"},
    "category.derived": {"pt": "derivado", "en": "derived"},
    "treatment.vault": {
        "pt": "o valor original fica só no cofre criptografado; as tabelas de análise guardam um pseudônimo",
        "en": "the raw value is kept only in the encrypted vault; analytics tables hold its pseudonym",
    },
    "treatment.pseudonym": {
        "pt": "guarda-se só um pseudônimo (hash com chave); o valor original é descartado (minimização)",
        "en": "only a keyed-hash pseudonym is kept; the raw value is discarded (data minimisation)",
    },
    "treatment.masked": {
        "pt": "texto livre; CPF, CNPJ, e-mails e telefones dentro dele são mascarados antes de gravar",
        "en": "free text; CPF, CNPJ, e-mail addresses and phone numbers in it are masked before storing",
    },
    "treatment.derived": {
        "pt": "valor generalizado, calculado na carga a partir de dados pessoais que o warehouse não guarda em claro",
        "en": "a generalised value, computed at load time from personal data the warehouse does not keep in clear",
    },
    "storage.vault": {"pt": "cofre (criptografado); no warehouse, pseudônimo",
                      "en": "vault (encrypted); warehouse as pseudonym"},
    "storage.pseudonym": {"pt": "warehouse, como pseudônimo", "en": "warehouse as pseudonym"},
    "storage.masked": {"pt": "warehouse, texto mascarado", "en": "warehouse as masked text"},
    "storage.derived": {"pt": "warehouse, valor generalizado", "en": "warehouse as generalised value"},
    "period.forever": {"pt": "guardado até ser eliminado", "en": "kept until erased"},
    "period.year": {"pt": "{n} ano", "en": "{n} year"},
    "period.years": {"pt": "{n} anos", "en": "{n} years"},
    "period.month": {"pt": "{n} mês", "en": "{n} month"},
    "period.months": {"pt": "{n} meses", "en": "{n} months"},
    "period.day": {"pt": "{n} dia", "en": "{n} day"},
    "period.days": {"pt": "{n} dias", "en": "{n} days"},
    "counted.activity": {
        "pt": "a última atividade (compra, assinatura ou novo cadastro)",
        "en": "the last activity (receipt, subscription or new record)",
    },
    "counted.row_date": {"pt": "a data da linha", "en": "the row's date"},
    "retention.legend": {
        "pt": "0 = guardado até ser eliminado. Os dados vencidos são apagados com `shelfwise privacy retention`.",
        "en": "0 = kept until erased. Expired data is purged with `shelfwise privacy retention`.",
    },
    "recipients.none": {
        "pt": "Nenhum: nenhum dado pessoal é compartilhado; mensagens enviadas para fora passam pelo filtro de saída, "
              "que mascara dados pessoais.",
        "en": "None: no personal data is shared; outbound messages pass through the outbound guard that masks "
              "personal data.",
    },
    "transfers.none": {
        "pt": "Nenhuma: o Shelfwise roda na máquina do controlador e não usa a rede durante a execução.",
        "en": "None: Shelfwise runs on the controller's machine, with no network at run time.",
    },
    "security.vault": {
        "pt": "Cofre criptografado com AES-256-GCM em {vault}, um registro selado por pessoa, autenticado pelo seu id.",
        "en": "Vault encrypted with AES-256-GCM at {vault}, one sealed record per person, authenticated by its id.",
    },
    "security.key_env": {
        "pt": "A chave vem da variável de ambiente {env} (o arquivo de chave não é usado).",
        "en": "The key comes from the {env} environment variable (the key file is not used).",
    },
    "security.key_file": {
        "pt": "A chave vem do arquivo {path} (a variável {env} não está definida){state}.",
        "en": "The key comes from the key file {path} ({env} is not set){state}.",
    },
    "security.key_missing": {"pt": "; o arquivo será criado no primeiro uso", "en": "; the file will be created on "
                             "first use"},
    "security.key_inside": {
        "pt": "O arquivo de chave {path} está dentro da pasta do workspace: quem copiar a pasta leva os dados e a "
              "chave juntos. Mova-o para fora (key_file com caminho absoluto em outro volume) ou use {env}.",
        "en": "The key file {path} is inside the workspace folder: whoever copies the folder takes the data and "
              "the key together. Move it out (an absolute key_file on another volume) or use {env}.",
    },
    "security.key_outside": {"pt": "O arquivo de chave fica fora da pasta do workspace.",
                             "en": "The key file lies outside the workspace folder."},
    "security.pseudonyms": {
        "pt": "Pseudônimos HMAC-SHA256 de 128 bits, com chave própria derivada por HKDF-SHA256, separada da chave "
              "do cofre; os identificadores são normalizados antes (CPF, e-mail, telefone, nome).",
        "en": "HMAC-SHA256 pseudonyms (128 bits), keyed with their own key derived by HKDF-SHA256, apart from the "
              "vault key; identifiers are normalised first (CPF, e-mail, phone, name).",
    },
    "security.masking": {
        "pt": "Texto livre tem CPF, CNPJ, e-mails e telefones mascarados na ingestão.",
        "en": "Free text has CPF, CNPJ, e-mail addresses and phone numbers masked at ingestion.",
    },
    "security.quarantine": {
        "pt": "Linhas rejeitadas (quarentena) com dados pessoais têm os valores originais selados no cofre, "
              "nunca em claro.",
        "en": "Rejected rows (quarantine) with personal data keep their raw values sealed in the vault, never in "
              "clear.",
    },
    "security.audit": {
        "pt": "Log de auditoria encadeado por hash em {path}, verificável com `shelfwise audit verify`; registra "
              "operações de privacidade e leituras de dados pessoais.",
        "en": "Hash-chained audit log at {path}, verifiable with `shelfwise audit verify`; it records privacy "
              "operations and personal-data reads.",
    },
    "security.retention": {
        "pt": "Dados vencidos são apagados com `shelfwise privacy retention`, conforme a tabela de retenção.",
        "en": "Expired data is purged with `shelfwise privacy retention`, following the retention table.",
    },
    "security.erasure": {
        "pt": "A eliminação (`shelfwise privacy erase`) compacta o armazenamento, para que valores apagados não "
              "fiquem em páginas livres, e guarda só pseudônimos, para que uma nova carga não traga a pessoa de volta.",
        "en": "Erasure (`shelfwise privacy erase`) compacts storage, so that deleted values do not linger in free "
              "pages, and keeps only pseudonyms, so that a new load cannot bring the person back.",
    },
    "security.outbound": {
        "pt": "Filtro de saída: e-mails, webhooks e textos gerados são mascarados antes de sair.",
        "en": "Outbound guard: e-mails, webhooks and generated texts are masked before they leave.",
    },
    "security.consent": {
        "pt": "O consentimento é verificado no momento da exportação de listas de contato e de ofertas de parceiros.",
        "en": "Consent is checked at export time for contact lists and partner offers.",
    },
    "rights.text": {
        "pt": "Confirmação, acesso e portabilidade: `shelfwise privacy export`; eliminação: `shelfwise privacy "
              "erase`. Pedidos são respondidos em até {days} dias (LGPD Art. 19), pelo canal do encarregado: {dpo}.",
        "en": "Confirmation, access and portability: `shelfwise privacy export`; erasure: `shelfwise privacy "
              "erase`. Requests are answered within {days} days (LGPD Art. 19), through the DPO's channel: {dpo}.",
    },
    "source.default": {"pt": "valor padrão", "en": "default value"},
    "source.schema": {"pt": "contrato de dados (shelfwise.schema)", "en": "data contract (shelfwise.schema)"},
}

_PURPOSE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "analytics": ("identification", "contact", "demographic", "financial", "device", "free_text"),
    "marketing_contact": ("identification", "contact"),
    "partner_offer": ("identification", "contact", "demographic", "financial", "device"),
}
"""The data categories each purpose of `[privacy.legal_basis]` draws on."""

_CONSENT_CHECKED_AT_EXPORT = frozenset({"marketing_contact", "partner_offer"})

_SUBJECT_OF_TABLE: dict[str, str] = {
    "customers": "loyalty", "transactions": "card_shoppers", "visits": "visitors", "feedback": "feedback_writers",
}
"""Whose personal data each contract table with personal columns holds."""

_SECURITY_FACTS = ("pseudonyms", "masking", "quarantine", "audit", "retention", "erasure", "outbound", "consent")


@dataclass(frozen=True)
class Purpose:
    """One purpose of processing and what it rests on."""

    code: str
    description: str
    legal_basis: str
    legal_basis_text: str
    subjects: tuple[str, ...]
    categories: tuple[str, ...]
    consent_checked_at_export: bool


@dataclass(frozen=True)
class Subject:
    """One group of data subjects and the tables that hold their data."""

    code: str
    description: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class DataItem:
    """One personal (or derived) column of the warehouse, and how it is protected."""

    column: str
    category: str
    category_text: str
    treatment: str
    treatment_text: str
    storage: str


@dataclass(frozen=True)
class RetentionRule:
    """How long one table keeps rows."""

    table: str
    days: int
    period: str
    counted_from: str


@dataclass(frozen=True)
class Recipient:
    """Someone outside the controller who receives personal data."""

    name: str
    description: str


@dataclass(frozen=True)
class Register:
    """The record of processing operations, in one language, with the source of each figure."""

    language: str
    generated_at: date
    controller: str
    dpo_contact: str
    purposes: tuple[Purpose, ...]
    subjects: tuple[Subject, ...]
    data_items: tuple[DataItem, ...]
    retention: tuple[RetentionRule, ...]
    retention_legend: str
    recipients: tuple[Recipient, ...]
    recipients_text: str
    international_transfers: str
    security_measures: tuple[str, ...]
    rights: str
    warnings: tuple[str, ...]
    sources: dict[str, str]


def _say(key: str, language: str, **values: object) -> str:
    return TEXTS[key][language].format(**values)


def build_register(workspace: Workspace, *, language: str = "pt", today: date | None = None) -> Register:
    """Assemble the record from the workspace's settings and the data contract.

    Args:
        workspace: The workspace whose `[privacy]` settings, key, vault and audit log are described.
        language: "pt" or "en"; any other language gives English, as the rest of the product does.
        today: The date the record is generated on (today when not given).

    Returns:
        The register, every text in `language`.
    """
    language = language if language in LANGUAGES else "en"
    privacy = workspace.settings.privacy
    warnings = [f"{_say(label, language)}: {_say('not_configured', language, setting=name)}"
                for name, label in (("controller", "label.controller"), ("dpo_contact", "label.dpo"))
                if not getattr(privacy, name)]
    security, key_warning, key_source = _security_measures(workspace, language)
    warnings.extend(key_warning)
    return Register(
        language=language,
        generated_at=today or date.today(),
        controller=privacy.controller,
        dpo_contact=privacy.dpo_contact,
        purposes=_purposes(privacy.legal_basis, language),
        subjects=tuple(Subject(code, _say(f"subject.{code}", language), tables)
                       for code, tables in _subject_tables().items()),
        data_items=_data_items(language),
        retention=_retention(privacy.retention, language),
        retention_legend=_say("retention.legend", language),
        recipients=tuple(Recipient(name, text) for name, text in privacy.recipients.items()),
        recipients_text="" if privacy.recipients else _say("recipients.none", language),
        international_transfers=_say("transfers.none", language),
        security_measures=security,
        rights=_say("rights.text", language, days=privacy.answer_days,
                    dpo=privacy.dpo_contact or _say("not_configured", language, setting="dpo_contact")),
        warnings=tuple(warnings),
        sources=_sources(workspace, key_source, language),
    )


def _personal_tables() -> dict[str, tuple[Column, ...]]:
    return {name: table.personal_columns for name, table in TABLES.items() if table.personal_columns}


def _subject_of(table: str) -> str:
    try:
        return _SUBJECT_OF_TABLE[table]
    except KeyError:
        raise KeyError(f"table '{table}' has personal columns but no data subject in the record of processing; "
                       f"add it to _SUBJECT_OF_TABLE in {__name__}") from None


def _subject_tables() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for name in _personal_tables():
        subject = _subject_of(name)
        found[subject] = (*found.get(subject, ()), name)
    return found


def _purposes(bases: dict[str, str], language: str) -> tuple[Purpose, ...]:
    categories_of_table = {name: {c.personal.category for c in columns if c.personal}
                           for name, columns in _personal_tables().items()}
    purposes = []
    for code, basis in bases.items():
        used = _PURPOSE_CATEGORIES[code]
        subjects = dict.fromkeys(_say(f"subject.{_subject_of(name)}", language)
                                 for name, held in categories_of_table.items() if held & set(used))
        purposes.append(Purpose(
            code=code,
            description=_say(f"purpose.{code}", language),
            legal_basis=basis,
            legal_basis_text=_say(f"basis.{basis}", language),
            subjects=tuple(subjects),
            categories=tuple(_say(f"category.{category}", language) for category in used),
            consent_checked_at_export=code in _CONSENT_CHECKED_AT_EXPORT,
        ))
    return tuple(purposes)


def _data_items(language: str) -> tuple[DataItem, ...]:
    items = []
    for name, table in TABLES.items():
        for column in table.personal_columns:
            treatment = column.personal.treatment.value  # type: ignore[union-attr]
            category = column.personal.category  # type: ignore[union-attr]
            items.append(DataItem(f"{name}.{column.name}", category, _say(f"category.{category}", language),
                                  treatment, _say(f"treatment.{treatment}", language),
                                  _say(f"storage.{treatment}", language)))
        items.extend(DataItem(f"{name}.{column.name}", "derived", _say("category.derived", language), "derived",
                              _say("treatment.derived", language), _say("storage.derived", language))
                     for column in table.derived)
    return tuple(items)


def _retention(days_by_table: dict[str, int], language: str) -> tuple[RetentionRule, ...]:
    counted = {"customers": _say("counted.activity", language)}
    return tuple(
        RetentionRule(name, days, _period(days, language), counted.get(name, _say("counted.row_date", language)))
        for name, days in days_by_table.items()
    )


def _period(days: int, language: str) -> str:
    """Days in the words a reader uses: 1825 -> 5 years, 180 -> 6 months, 0 -> kept until erased."""
    if days == 0:
        return _say("period.forever", language)
    whole_units = ((days // length, unit) for length, unit in ((365, "year"), (30, "month")) if days % length == 0)
    count, unit = next(whole_units, (days, "day"))
    return _say(f"period.{unit}" if count == 1 else f"period.{unit}s", language, n=count)


def _security_measures(workspace: Workspace, language: str) -> tuple[tuple[str, ...], list[str], str]:
    """The measures in words, the key-location warning (if any), and where the key comes from."""
    measures = [_say("security.vault", language, vault=workspace.vault_path)]
    warnings = []
    key_path = workspace.key_path.resolve()
    if os.environ.get(KEY_ENV):
        measures.append(_say("security.key_env", language, env=KEY_ENV))
        key_source = KEY_ENV
    else:
        state = "" if key_path.exists() else _say("security.key_missing", language)
        measures.append(_say("security.key_file", language, path=key_path, env=KEY_ENV, state=state))
        if key_path.is_relative_to(workspace.root.resolve()):
            warnings.append(_say("security.key_inside", language, path=key_path, env=KEY_ENV))
            measures.append(warnings[-1])
        else:
            measures.append(_say("security.key_outside", language))
        key_source = f"{CONFIG_FILE} [privacy] key_file"
    measures.extend(_say(f"security.{fact}", language, path=workspace.audit_path) for fact in _SECURITY_FACTS)
    return tuple(measures), warnings, key_source


def _sources(workspace: Workspace, key_source: str, language: str) -> dict[str, str]:
    privacy = workspace.settings.privacy
    default = _say("source.default", language)
    sources = {name: f"{CONFIG_FILE} [privacy] {name}" for name in ("controller", "dpo_contact", "answer_days")}
    sources |= {
        f"legal_basis.{purpose}": f"{CONFIG_FILE} [privacy.legal_basis] {purpose}"
        + (f" ({default})" if DEFAULT_LEGAL_BASES[purpose] == basis else "")
        for purpose, basis in privacy.legal_basis.items()
    }
    sources["data_categories"] = _say("source.schema", language)
    sources |= {
        f"retention.{name}": f"{CONFIG_FILE} [privacy.retention] {name}"
        + (f" ({default})" if DEFAULT_RETENTION_DAYS.get(name) == days else "")
        for name, days in privacy.retention.items()
    }
    sources["recipients"] = f"{CONFIG_FILE} [privacy.recipients]"
    sources["key"] = key_source
    sources["vault"] = f"{CONFIG_FILE} [privacy] vault"
    sources["audit_log"] = f"{CONFIG_FILE} [privacy] audit_log"
    return sources


@dataclass(frozen=True)
class _Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    warning: bool = False


def _sections(register: Register) -> list[_Section]:
    """The register as a document: the one layout both Markdown and HTML render."""
    lang = register.language

    def say(key: str, **values: object) -> str:
        return _say(key, lang, **values)

    def configured(value: str, setting: str) -> str:
        return value or say("not_configured", setting=setting)

    sections = [_Section(say("section.warnings"), bullets=register.warnings, warning=True)] if register.warnings else []
    sections.append(_Section(say("section.parties"), bullets=(
        f"{say('label.controller')}: {configured(register.controller, 'controller')}",
        f"{say('label.dpo')}: {configured(register.dpo_contact, 'dpo_contact')}",
    )))
    sections.append(_Section(
        say("section.purposes"),
        header=tuple(say(f"col.{c}") for c in ("purpose", "description", "basis", "subjects", "categories", "consent")),
        rows=tuple((p.code, p.description, p.legal_basis_text, "; ".join(p.subjects), ", ".join(p.categories),
                    say("yes" if p.consent_checked_at_export else "no")) for p in register.purposes),
    ))
    sections.append(_Section(say("section.subjects"), header=(say("col.subject"), say("col.tables")),
                             rows=tuple((s.description, ", ".join(s.tables)) for s in register.subjects)))
    sections.append(_Section(
        say("section.data"), header=tuple(say(f"col.{c}") for c in ("column", "category", "treatment", "storage")),
        rows=tuple((d.column, d.category_text, d.treatment_text, d.storage) for d in register.data_items),
    ))
    sections.append(_Section(
        say("section.retention"), paragraphs=(register.retention_legend,),
        header=tuple(say(f"col.{c}") for c in ("table", "days", "period", "counted")),
        rows=tuple((r.table, str(r.days), r.period, r.counted_from) for r in register.retention),
    ))
    sections.append(_Section(
        say("section.recipients"), paragraphs=(register.recipients_text,) if register.recipients_text else (),
        header=(say("col.recipient"), say("col.what")) if register.recipients else (),
        rows=tuple((r.name, r.description) for r in register.recipients),
    ))
    sections.append(_Section(say("section.transfers"), paragraphs=(register.international_transfers,)))
    sections.append(_Section(say("section.security"), bullets=register.security_measures))
    sections.append(_Section(say("section.rights"), paragraphs=(register.rights,)))
    sections.append(_Section(say("section.sources"), header=(say("col.figure"), say("col.source")),
                             rows=tuple(register.sources.items())))
    return sections


def render_markdown(register: Register) -> str:
    """The register as Markdown, for a repository, a wiki or a diff between two versions."""
    lines = [f"# {_say('title', register.language)}", "",
             _say("generated", register.language, day=register.generated_at.isoformat(), config=CONFIG_FILE), ""]
    for section in _sections(register):
        lines += [f"## {section.title}", ""]
        marker = "- ⚠ " if section.warning else "- "
        lines += [f"{marker}{_md_line(bullet)}" for bullet in section.bullets]
        lines += [line for paragraph in section.paragraphs for line in (_md_line(paragraph), "")]
        if section.rows:
            lines += [_md_row(section.header), _md_row(("---",) * len(section.header))]
            lines += [_md_row(row) for row in section.rows]
        if section.bullets or section.rows:
            lines.append("")
    return "\n".join(lines)


def _md_line(text: str) -> str:
    return " ".join(text.split())


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(_md_line(cell).replace("|", "\\|") for cell in cells) + " |"


_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #ccc; padding: .3rem .5rem;
vertical-align: top; text-align: left; } th { background: #f2f2f2; }
code { font-family: ui-monospace, monospace; background: #f2f2f2; padding: 0 .2rem; }
.warning { border-left: 4px solid #c00; background: #fff4f4; padding: .2rem 1rem; }
.generated { color: #555; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"""


def render_html(register: Register) -> str:
    """The register as one self-contained page (styles inline, no scripts, no external assets) that prints cleanly."""
    title = _html_text(_say("title", register.language))
    generated = _say("generated", register.language, day=register.generated_at.isoformat(), config=CONFIG_FILE)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"pt-BR" if register.language == "pt" else "en"}">',
        f'<head><meta charset="utf-8"><title>{title}</title><style>{_STYLE}</style></head>',
        f"<body><h1>{title}</h1>",
        f'<p class="generated">{_html_text(generated)}</p>',
    ]
    for section in _sections(register):
        opening = '<section class="warning">' if section.warning else "<section>"
        parts.append(f"{opening}<h2>{_html_text(section.title)}</h2>")
        if section.bullets:
            parts.append("<ul>" + "".join(f"<li>{_html_text(b)}</li>" for b in section.bullets) + "</ul>")
        parts.extend(f"<p>{_html_text(p)}</p>" for p in section.paragraphs)
        if section.rows:
            head = "".join(f"<th>{_html_text(cell)}</th>" for cell in section.header)
            body = "".join("<tr>" + "".join(f"<td>{_html_text(cell)}</td>" for cell in row) + "</tr>"
                           for row in section.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_text(text: str) -> str:
    """Escape everything, then show `command` spans as code (backticks survive escaping unchanged)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def render_json(register: Register) -> str:
    """The register as JSON: the same facts as the page, for tools and for a diff between two versions."""
    data = asdict(register)
    data["generated_at"] = register.generated_at.isoformat()
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
