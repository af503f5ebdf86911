"""The data contract of shared/DATA_MODEL.md in code: input tables, their columns, keys and load rules.

Everything that needs to know what a table looks like (ingestion, quality checks, the demo generator,
exports, privacy) reads it from here, so the contract lives in exactly one place. Aliases are the
built-in English and Portuguese header dictionary; they are matched after `normalize_name`
(lower case, accents stripped, punctuation folded to `_`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    """How a raw text value is parsed into a warehouse value."""

    ID = "id"
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ID_LIST = "id_list"


SQL_TYPES: dict[Kind, str] = {
    Kind.ID: "VARCHAR",
    Kind.TEXT: "VARCHAR",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.NUMBER: "DOUBLE",
    Kind.INTEGER: "BIGINT",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.ID_LIST: "VARCHAR[]",
}


class LoadMode(StrEnum):
    """How a file's rows combine with rows already in the warehouse.

    UPSERT: rows whose key is already present are replaced by the file's rows; new keys are appended.
    REPLACE_PERIOD: for tables with a date, every existing row of the same stores (all rows if the table has
    no store) whose date lies within the file's first and last date is removed first, then the file's rows
    are inserted — use it for a corrected export of a period, where a row that disappeared must go too.
    """

    UPSERT = "upsert"
    REPLACE_PERIOD = "replace-period"


class Treatment(StrEnum):
    """What happens to a personal column on its way into the warehouse (see `shelfwise.privacy`)."""

    VAULT = "vault"
    """The raw value is kept only in the encrypted vault; analytics tables hold its pseudonym."""
    PSEUDONYM = "pseudonym"
    """Analytics tables hold its pseudonym and the raw value is not kept at all (data minimisation)."""
    MASKED = "masked"
    """Free text: CPF, CNPJ, e-mail addresses and phone numbers inside it are masked before it is stored."""


@dataclass(frozen=True)
class Personal:
    """The LGPD classification of a column: its data category, its treatment, how its identifier is normalised."""

    category: str
    treatment: Treatment
    identifier: str = ""
    """Normalisation before the keyed hash: name, email, phone, document, date or token (see `privacy.pseudonyms`)."""


@dataclass(frozen=True)
class Column:
    """One canonical column: its parse kind, whether it is required, and its header aliases."""

    name: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    personal: Personal | None = None
    min_value: float | None = None
    max_value: float | None = None
    references: str | None = None

    @property
    def sql_type(self) -> str:
        """The DuckDB type this column is stored as."""
        return SQL_TYPES[self.kind]

    @property
    def stored_type(self) -> str:
        """The type the warehouse keeps it as: a pseudonym is text, whatever the raw value was."""
        if self.personal and self.personal.treatment != Treatment.MASKED:
            return "VARCHAR"
        return self.sql_type


@dataclass(frozen=True)
class Table:
    """One input table of the contract."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    file_aliases: tuple[str, ...]
    summed: tuple[str, ...] = ()
    date_column: str | None = None
    future_dates_allowed: bool = False
    description: str = ""
    defaults: dict[str, str] = field(default_factory=dict)
    derived: tuple[Column, ...] = ()
    """Columns the warehouse adds, computed from personal ones that it does not keep (e.g. age band)."""

    def column(self, name: str) -> Column:
        """The column called `name`."""
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of all canonical columns, in contract order."""
        return tuple(c.name for c in self.columns)

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        """The columns of its warehouse table: the contract's, then the derived ones."""
        return self.columns + self.derived

    @property
    def personal_columns(self) -> tuple[Column, ...]:
        """Its columns that hold personal data."""
        return tuple(c for c in self.columns if c.personal)


def normalize_name(text: str) -> str:
    """Fold a header or file name for alias matching: `Preço Unit.` -> `preco_unit`."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _c(name: str, kind: Kind, *aliases: str, **options: object) -> Column:
    return Column(name=name, kind=kind, aliases=(name, *aliases), **options)  # type: ignore[arg-type]


_STORE = _c("store_id", Kind.ID, "loja", "cod_loja", "codigo_loja", "id_loja", "filial", "cod_filial",
            "store", "store_code", "pdv", "unidade", "loja_id", "filial_id", references="stores")
_PRODUCT = _c("product_id", Kind.ID, "produto", "cod_produto", "codigo_produto", "id_produto", "sku",
              "cod_sku", "ean", "gtin", "product", "product_code", "item_id", "produto_id", "codigo_sku",
              references="products")
_SUPPLIER = _c("supplier_id", Kind.ID, "fornecedor", "cod_fornecedor", "codigo_fornecedor", "id_fornecedor",
               "supplier", "vendor_id", "fornecedor_id", references="suppliers")
_CUSTOMER = _c("customer_id", Kind.ID, "cliente", "cod_cliente", "codigo_cliente", "id_cliente", "customer",
               "cliente_id", "member_id", "id_fidelidade", references="customers")
_LEAD_TIME = _c("lead_time_days", Kind.INTEGER, "lead_time", "prazo_entrega", "prazo_entrega_dias",
                "prazo_de_entrega", "lead_time_dias", "prazo_reposicao", min_value=0)

TABLES: dict[str, Table] = {
    "products": Table(
        name="products",
        description="one row per SKU",
        key=("product_id",),
        file_aliases=("products", "product", "produtos", "produto", "skus", "catalogo", "itens", "mix"),
        columns=(
            replace(_PRODUCT, required=True, references=None),
            _c("name", Kind.TEXT, "nome", "descricao", "descricao_produto", "nome_produto", "description",
               "product_name"),
            _c("category", Kind.TEXT, "categoria", "departamento", "secao", "category_name"),
            _c("subcategory", Kind.TEXT, "subcategoria", "sub_categoria", "familia", "subcategory_name"),
            _c("brand", Kind.TEXT, "marca", "fabricante"),
            _SUPPLIER,
            _c("unit_cost", Kind.NUMBER, "custo", "custo_unitario", "preco_custo", "cost", "custo_medio",
               min_value=0),
            _c("unit_price", Kind.NUMBER, "preco", "preco_unitario", "preco_venda", "price", "pvp",
               min_value=0),
            _LEAD_TIME,
            _c("case_pack", Kind.INTEGER, "embalagem", "qtd_embalagem", "unidades_caixa", "caixa",
               "multiplo", "multiplo_compra", "pack_size", min_value=1),
            _c("shelf_life_days", Kind.INTEGER, "validade", "validade_dias", "vida_util", "shelf_life",
               "prazo_validade", min_value=0),
        ),
    ),
    "stores": Table(
        name="stores",
        description="one row per point of sale (a store, a mall tenant, an e-commerce channel)",
        key=("store_id",),
        file_aliases=("stores", "store", "lojas", "loja", "filiais", "filial", "pdvs", "lojistas",
                      "pontos_de_venda", "unidades"),
        columns=(
            replace(_STORE, required=True, references=None),
            _c("name", Kind.TEXT, "nome", "nome_loja", "descricao", "store_name", "razao_social", "fantasia",
               "nome_fantasia"),
            _c("city", Kind.TEXT, "cidade", "municipio"),
            _c("state", Kind.TEXT, "uf", "estado"),
            _c("region", Kind.TEXT, "regiao", "regional"),
            _c("format", Kind.TEXT, "formato", "tipo", "bandeira", "segmento", "store_format"),
        ),
    ),
    "suppliers": Table(
        name="suppliers",
        description="one row per supplier",
        key=("supplier_id",),
        file_aliases=("suppliers", "supplier", "fornecedores", "fornecedor", "vendors"),
        columns=(
            replace(_SUPPLIER, required=True, references=None),
            _c("name", Kind.TEXT, "nome", "razao_social", "nome_fantasia", "fornecedor_nome", "supplier_name"),
            _c("email", Kind.TEXT, "e_mail", "email_contato", "contato_email"),
            _LEAD_TIME,
        ),
    ),
    "sales": Table(
        name="sales",
        description="sell-out; rows with the same (date, store_id, product_id) are summed",
        key=("date", "store_id", "product_id"),
        summed=("units", "revenue"),
        date_column="date",
        defaults={"store_id": "main"},
        file_aliases=("sales", "sale", "vendas", "venda", "sell_out", "sellout", "faturamento"),
        columns=(
            _c("date", Kind.DATE, "data", "dia", "data_venda", "dt_venda", "sale_date", "dt", "data_movimento",
               required=True),
            replace(_PRODUCT, required=True),
            _c("units", Kind.NUMBER, "quantidade", "qtd", "qtde", "quantity", "qty", "unidades",
               "qtd_vendida", "quantidade_vendida", "volume", required=True),
            _STORE,
            _c("revenue", Kind.NUMBER, "valor", "valor_total", "receita", "faturamento", "venda_liquida",
               "valor_venda", "total", "sales_value", "amount"),
            _c("price", Kind.NUMBER, "preco", "preco_unitario", "preco_medio", "unit_price", min_value=0),
            _c("on_promo", Kind.BOOLEAN, "promocao", "em_promocao", "promo", "is_promo", "flag_promocao",
               "oferta"),
        ),
    ),
    "stock": Table(
        name="stock",
        description="inventory snapshot at end of day",
        key=("date", "store_id", "product_id"),
        date_column="date",
        defaults={"store_id": "main"},
        file_aliases=("stock", "stocks", "estoque", "estoques", "inventory", "inventario", "posicao_estoque",
                      "saldo_estoque"),
        columns=(
            _c("date", Kind.DATE, "data", "dia", "data_posicao", "dt", "snapshot_date", "data_estoque",
               required=True),
            replace(_PRODUCT, required=True),
            _c("on_hand", Kind.NUMBER, "estoque", "saldo", "qtd_estoque", "quantidade", "estoque_atual",
               "saldo_estoque", "em_estoque", "qtd", required=True, min_value=0),
            _STORE,
            _c("on_order", Kind.NUMBER, "pedido", "em_pedido", "qtd_pedido", "pedidos_abertos", "em_transito",
               min_value=0),
        ),
    ),
    "customers": Table(
        name="customers",
        description="one row per customer record as the source has it; the same person may appear several times",
        key=("customer_id",),
        file_aliases=("customers", "customer", "clientes", "cliente", "cadastro_clientes", "consumidores",
                      "membros", "fidelidade"),
        columns=(
            replace(_CUSTOMER, required=True, references=None),
            _c("name", Kind.TEXT, "nome", "nome_completo", "nome_cliente", "full_name", "customer_name",
               personal=Personal("identification", Treatment.VAULT, "name")),
            _c("email", Kind.TEXT, "e_mail", "email_cliente", "endereco_email",
               personal=Personal("contact", Treatment.VAULT, "email")),
            _c("phone", Kind.TEXT, "telefone", "celular", "fone", "whatsapp", "tel", "mobile",
               personal=Personal("contact", Treatment.VAULT, "phone")),
            _c("document", Kind.TEXT, "cpf", "cnpj", "cpf_cnpj", "documento", "doc", "tax_id",
               personal=Personal("identification", Treatment.VAULT, "document")),
            _c("birth_date", Kind.DATE, "data_nascimento", "nascimento", "dt_nascimento", "data_nasc",
               "aniversario", "birthday", "dob", personal=Personal("demographic", Treatment.VAULT, "date")),
            _c("gender", Kind.TEXT, "genero", "sexo"),
            _c("city", Kind.TEXT, "cidade", "municipio"),
            _c("state", Kind.TEXT, "uf", "estado"),
            _c("consent_marketing", Kind.BOOLEAN, "consentimento", "consentimento_marketing", "aceita_marketing",
                "opt_in", "optin", "aceite_comunicacao", "marketing_consent"),
            _c("created_at", Kind.TIMESTAMP, "data_cadastro", "cadastro", "dt_cadastro", "criado_em",
               "created", "signup_date"),
        ),
        derived=(_c("age_band", Kind.TEXT),),
    ),
    "transactions": Table(
        name="transactions",
        description="one row per receipt line (or per receipt when product_id is absent)",
        key=("transaction_id", "product_id"),
        summed=("amount", "quantity"),
        date_column="timestamp",
        file_aliases=("transactions", "transaction", "transacoes", "transacao", "cupons", "cupons_fiscais",
                      "cupom_fiscal", "receipts", "recibos", "tickets", "compras"),
        columns=(
            _c("transaction_id", Kind.ID, "transacao", "id_transacao", "cupom", "num_cupom", "numero_cupom",
               "cupom_fiscal", "ticket", "receipt_id", "nsu", "id_venda", required=True),
            _c("timestamp", Kind.TIMESTAMP, "data_hora", "datahora", "data", "dt_transacao", "datetime",
               "date_time", "horario", "data_compra", required=True),
            _c("amount", Kind.NUMBER, "valor", "valor_total", "total", "valor_compra", "value", required=True),
            _CUSTOMER,
            _c("card_token", Kind.TEXT, "cartao", "token_cartao", "cartao_mascarado", "card", "card_hash",
               "num_cartao", "token", personal=Personal("financial", Treatment.PSEUDONYM, "token")),
            _STORE,
            _PRODUCT,
            _c("quantity", Kind.NUMBER, "quantidade", "qtd", "qtde", "qty"),
            _c("payment_method", Kind.TEXT, "forma_pagamento", "meio_pagamento", "pagamento", "payment",
               "tipo_pagamento"),
        ),
    ),
    "visits": Table(
        name="visits",
        description="footfall: mall entrances, Wi-Fi sessions, app check-ins",
        key=("timestamp", "visitor_id", "source", "store_id"),
        date_column="timestamp",
        file_aliases=("visits", "visit", "visitas", "visita", "fluxo", "footfall", "wifi", "acessos",
                      "checkins", "trafego"),
        columns=(
            _c("timestamp", Kind.TIMESTAMP, "data_hora", "datahora", "data", "entrada", "hora_entrada",
               "datetime", "inicio", required=True),
            _c("visitor_id", Kind.ID, "visitante", "id_visitante", "mac", "mac_hash", "dispositivo",
               "device_id", "visitor", "id_dispositivo", required=True,
               personal=Personal("device", Treatment.PSEUDONYM, "token")),
            _c("source", Kind.TEXT, "origem", "fonte", "canal", "tipo", required=True),
            _STORE,
            _c("dwell_minutes", Kind.NUMBER, "permanencia", "permanencia_min", "tempo_permanencia", "dwell",
               "minutos", "duracao_min", "dwell_time", min_value=0),
        ),
    ),
    "campaigns": Table(
        name="campaigns",
        description="trade-marketing actions; list columns are ;- or ,-separated ids",
        key=("campaign_id",),
        future_dates_allowed=True,
        file_aliases=("campaigns", "campaign", "campanhas", "campanha", "promocoes", "promocao", "acoes",
                      "acoes_promocionais"),
        columns=(
            _c("campaign_id", Kind.ID, "campanha", "id_campanha", "cod_campanha", "codigo_campanha",
               "campaign", "promo_id", required=True),
            _c("name", Kind.TEXT, "nome", "nome_campanha", "descricao", "titulo", "campaign_name", required=True),
            _c("start_date", Kind.DATE, "inicio", "data_inicio", "dt_inicio", "start", "de", "begin_date",
               required=True),
            _c("end_date", Kind.DATE, "fim", "data_fim", "dt_fim", "end", "ate", "termino", "data_termino",
               required=True),
            _c("type", Kind.TEXT, "tipo", "mecanica", "tipo_acao", "campaign_type"),
            _c("discount_pct", Kind.NUMBER, "desconto", "desconto_pct", "perc_desconto", "desconto_percentual",
               "discount", "pct_desconto", min_value=0, max_value=100),
            _c("channel", Kind.TEXT, "canal", "midia", "meio"),
            _c("cost", Kind.NUMBER, "custo", "investimento", "verba", "budget", min_value=0),
            _c("product_ids", Kind.ID_LIST, "produtos", "skus", "produtos_participantes", "itens", "products"),
            _c("store_ids", Kind.ID_LIST, "lojas", "lojas_participantes", "filiais", "stores"),
            _c("segment", Kind.TEXT, "segmento", "publico", "publico_alvo", "target"),
        ),
    ),
    "subscriptions": Table(
        name="subscriptions",
        description="partner offers taken up (e.g. a streaming package sold through the mall's campaign)",
        key=("customer_id", "package", "start_date"),
        file_aliases=("subscriptions", "subscription", "assinaturas", "assinatura", "adesoes", "adesao",
                      "planos"),
        columns=(
            replace(_CUSTOMER, required=True),
            _c("package", Kind.TEXT, "pacote", "plano", "produto", "servico", "plan", required=True),
            _c("start_date", Kind.DATE, "inicio", "data_inicio", "data_adesao", "dt_adesao", "adesao", "start",
               "data_assinatura", required=True),
            _c("monthly_price", Kind.NUMBER, "mensalidade", "preco_mensal", "valor_mensal", "preco", "valor",
               "price", min_value=0),
            _c("channel", Kind.TEXT, "canal", "origem", "meio"),
            _c("campaign_id", Kind.ID, "campanha", "id_campanha", "cod_campanha", references="campaigns"),
        ),
    ),
    "feedback": Table(
        name="feedback",
        description="free text from consumers, shoppers and suppliers",
        key=("timestamp", "source", "text"),
        date_column="timestamp",
        file_aliases=("feedback", "feedbacks", "avaliacoes", "avaliacao", "comentarios", "reviews",
                      "opinioes", "sac", "reclamacoes", "pesquisa", "survey"),
        columns=(
            _c("timestamp", Kind.TIMESTAMP, "data_hora", "datahora", "data", "date", "created_at", "dt",
               required=True),
            _c("text", Kind.TEXT, "texto", "comentario", "mensagem", "avaliacao", "review", "comment",
               "message", "opiniao", required=True, personal=Personal("free_text", Treatment.MASKED)),
            _c("source", Kind.TEXT, "origem", "fonte", "canal", "channel"),
            _c("language", Kind.TEXT, "idioma", "lingua", "lang"),
            _PRODUCT,
            _STORE,
            _SUPPLIER,
            _c("rating", Kind.NUMBER, "nota", "estrelas", "score", "stars", "avaliacao_nota", min_value=0,
               max_value=10),
        ),
    ),
}

DIMENSIONS: tuple[str, ...] = ("products", "stores", "suppliers", "customers", "campaigns")
"""Tables whose ids other tables reference; unknown ids are registered in them as placeholders."""


def table(name: str) -> Table:
    """The contract table called `name`, with an error that lists the valid names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table '{name}'; expected one of: {', '.join(TABLES)}") from None
