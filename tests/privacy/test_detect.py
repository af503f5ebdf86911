import re

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfwise.privacy.detect import MASKS, PATTERNS, find_personal, mask_sql, mask_text

POSITIVES = [
    ("843.162.365-98", "cpf"),
    ("84316236598", "cpf"),
    ("843 162 365 98", "cpf"),
    ("843162365-98", "cpf"),
    ("12.345.678/0001-95", "cnpj"),
    ("12345678000195", "cnpj"),
    ("12.ABC.345/01DE-35", "cnpj"),
    ("ana.freitas@exemplo.com", "email"),
    ("Joao_Silva+promo@Mail.Loja.COM.BR", "email"),
    ("joão@exemplo.com.br", "email"),
    ("(11) 99705-4423", "phone"),
    ("11 99705-4423", "phone"),
    ("11997054423", "phone"),
    ("+55 11 99705-4423", "phone"),
    ("+55 (11) 3456-7890", "phone"),
    ("0xx11 3456-7890", "phone"),
    ("99705-4423", "phone"),
    ("3456 7890", "phone"),
    ("(11)99705-4423", "phone"),
    ("5511997054423", "phone"),
    ("8765-4321", "phone"),
]
NEGATIVES = [
    "R$ 1.234,56",
    "R$ 12.345.678,90",
    "1,5L",
    "500g",
    "12/08/2025",
    "2025-08-12 18:49",
    "18:49",
    "7h",
    "40 minutos",
    "15%",
    "12,5%",
    "2025",
    "pedido 12345",
    "pedido nº 1234567",
    "EAN 7891234567895",
    "CEP 01310-100",
    "87654321",
]


@pytest.fixture(scope="module")
def con():
    """One in-memory database for the module: opening one costs more than the hundreds of queries run on it."""
    with duckdb.connect() as connection:
        yield connection


def sql_masked(con, texts: list[str | None]) -> list[str | None]:
    """The SQL masking, set-based over a table of texts as ingestion runs it."""
    rows = con.execute(
        f"SELECT {mask_sql('t')} FROM (SELECT unnest(?) AS t, generate_subscripts(?, 1) AS i) ORDER BY i",
        [texts, texts],
    ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize(("value", "kind"), POSITIVES)
def test_each_format_is_masked_in_python_and_sql(con, value, kind):
    text = f"Oi, meu dado é {value}, obrigado."
    masked, counts = mask_text(text)
    assert masked == f"Oi, meu dado é {MASKS[kind]}, obrigado."
    assert counts == {name: int(name == kind) for name in MASKS}
    assert sql_masked(con, [text]) == [masked]
    assert find_personal(text) == [(kind, value)]


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_retail_text_is_left_alone(con, text):
    assert mask_text(text) == (text, dict.fromkeys(MASKS, 0))
    assert sql_masked(con, [text]) == [text]
    assert find_personal(text) == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("CPF84316236598", "CPF[CPF]"),
        ("84316236598abc", "[CPF]abc"),
        ("tel:(11)99705-4423.", "tel:[telefone]."),
        ("ligue 11997054423 ou 3456-7890", "ligue [telefone] ou [telefone]"),
        ("84316236598 84316236598\n", "[CPF] [CPF]\n"),
        ("e-mail: ANA@X.COM.", "e-mail: [e-mail]."),
    ],
)
def test_values_glued_to_words_and_to_each_other(con, text, masked):
    assert mask_text(text)[0] == masked
    assert sql_masked(con, [text]) == [masked]


def test_digits_inside_a_longer_run_are_not_partly_masked():
    for text in ("123484316236598", "99999911997054423", "1234567890123456"):
        assert mask_text(text)[0] == text


def test_null_stays_null_and_every_pattern_has_its_value_group(con):
    assert sql_masked(con, [None]) == [None]
    assert [kind for kind, _ in PATTERNS] == ["email", "cnpj", "cpf", "phone"]
    assert all(re.compile(pattern).groups == 3 for _, pattern in PATTERNS)


# --- generated values, in every written form -------------------------------------------------------------------

DIGIT = st.sampled_from("0123456789")
AREA_CODES = [11, 12, 19, 21, 27, 31, 41, 48, 51, 61, 62, 71, 81, 85, 91, 92, 98, 99]
RETAIL_SENTENCES = [
    "Comprei Água Mineral 1,5L por R$ 1.234,56 em 12/08/2025 às 18:49.",
    "Entrega em 40 minutos, pedido 12345, desconto de 12,5%.",
    "Pacote de 500g chegou às 7h, safra 2025.",
    "Código de barras 7891234567895 conferido.",
    "Não gostei do atendimento; a loja estava cheia!",
]
PT_LETTERS = "abcdefghijklmnopqrstuvwxyzáàâãéêíóôõúçABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÇ"
FILLER = st.text(alphabet=PT_LETTERS + " ,.;:!?'\"-\n", max_size=30)
GLUE = st.sampled_from(["", " ", ": ", "(", ")", ", ", ".", "\n", "\t", "-", "CPF", "tel", "é"])


def check_digit(digits: list[int], weights: list[int]) -> int:
    rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if rest < 2 else 11 - rest


@st.composite
def cpfs(draw):
    digits = draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))
    digits.append(check_digit(digits, list(range(10, 1, -1))))
    digits.append(check_digit(digits, list(range(11, 1, -1))))
    d = "".join(map(str, digits))
    return draw(st.sampled_from([f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}", d, f"{d[:3]} {d[3:6]} {d[6:9]} {d[9:]}",
                                 f"{d[:9]}-{d[9:]}"]))


@st.composite
def cnpjs(draw):
    digits = draw(st.lists(st.integers(0, 9), min_size=12, max_size=12))
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    digits.append(check_digit(digits, weights))
    digits.append(check_digit(digits, [6, *weights]))
    d = "".join(map(str, digits))
    return draw(st.sampled_from([f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}", d, f"{d[:8]}/{d[8:12]}-{d[12:]}"]))


@st.composite
def phones(draw):
    area = draw(st.sampled_from(AREA_CODES))
    first = draw(st.sampled_from("92345"))
    length = 8 if first == "9" else 7
    number = first + "".join(draw(st.lists(DIGIT, min_size=length, max_size=length)))
    a, b = number[:-4], number[-4:]
    return draw(st.sampled_from([
        f"({area}) {a}-{b}", f"{area} {a}-{b}", f"{area}{number}", f"+55 {area} {a}-{b}", f"+55 ({area}) {a}-{b}",
        f"0xx{area} {a}-{b}", f"{a}-{b}", f"{a} {b}", f"({area}){a}-{b}", f"+55{area}{number}", f"55{area}{number}",
        number,
    ]))


@st.composite
def emails(draw):
    chunk = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
    local = draw(chunk) + "".join(draw(st.sampled_from("._+-")) + draw(chunk) for _ in range(draw(st.integers(0, 2))))
    labels = draw(st.lists(chunk, min_size=1, max_size=2))
    tld = draw(st.sampled_from(["com", "com.br", "net", "org.br", "gov.br", "io"]))
    address = f"{local}@{'.'.join(labels)}.{tld}"
    return draw(st.sampled_from([address, address.upper(), address.title()]))


PERSONAL = st.one_of(cpfs(), cnpjs(), phones(), emails())


@st.composite
def messages(draw):
    """A customer message: retail sentences and filler with personal values planted, each glued its own way."""
    values = draw(st.lists(PERSONAL, min_size=1, max_size=4))
    parts = [draw(GLUE) + value + draw(GLUE) for value in values]
    parts += draw(st.lists(st.one_of(FILLER, st.sampled_from(RETAIL_SENTENCES)), max_size=4))
    return " ".join(draw(st.permutations(parts))), values


@settings(max_examples=200, deadline=None)
@given(messages())
def test_no_planted_value_survives_and_sql_agrees(con, message):
    text, values = message
    masked, counts = mask_text(text)
    for value in values:
        assert value not in masked
        if "@" not in value:
            assert re.sub("[^0-9]", "", value) not in masked
    assert sum(counts.values()) == len(values)
    assert sql_masked(con, [text]) == [masked]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(RETAIL_SENTENCES + NEGATIVES) | FILLER, max_size=6))
def test_ordinary_text_in_any_order_is_unchanged(parts):
    text = " e ".join(parts)
    assert mask_text(text)[0] == text


TRICKY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789" * 3 + " .-/()+@_xX\n\t,:5599")),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(TRICKY, messages().map(lambda m: m[0])), min_size=1, max_size=6))
def test_python_and_sql_agree_on_any_text(con, texts):
    assert sql_masked(con, texts) == [mask_text(text)[0] for text in texts]
