import json
import re
import socket
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfwise.privacy import audit
from shelfwise.privacy.keys import Keys
from shelfwise.privacy.outbound import NAME_MASK, OutboundBlocked, OutboundGuard, name_index_entries
from shelfwise.privacy.pseudonyms import Pseudonymiser

KNOWN_NAMES = ["Ana Freitas Silva", "José da Conceição", "Maria Luíza Gonçalves"]
NAME_SPELLINGS = [
    "Ana Freitas Silva", "ANA FREITAS SILVA", "ana silva", "Ana   Freitas  Silva", "Ana\nSilva",
    "José da Conceição", "Jose da Conceicao", "JOSÉ CONCEIÇÃO", "jose conceicao",
    "Maria Luíza Gonçalves", "maria luiza goncalves", "Maria Gonçalves", "MARIA  GONCALVES",
]
NUMBERS = ["843.162.365-98", "84316236598", "12.345.678/0001-95", "(11) 99705-4423", "+55 11 3456-7890", "99705 4423"]
EMAILS = ["ana.freitas@exemplo.com.br", "Jose_Conceicao+loja@Mail.COM"]
ORDINARY = ["Água Mineral Crystal 1,5L", "ruptura", "Loja Centro", "R$ 1.234,56", "12/08/2025", "18:49"]


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how a reader would still recognise a name."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain.lower())


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in strings_in(key) + strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def readable(body: bytes) -> str:
    """A request body as bytes on the wire and as the strings its JSON decodes to (escapes undone)."""
    return body.decode() + "\n" + " ".join(strings_in(json.loads(body)))


def assert_nothing_personal(text: str, numbers: list[str], emails: list[str], names: list[str]) -> None:
    for number in numbers:
        assert number not in text
        assert re.sub("[^0-9]", "", number) not in text
    for email in emails:
        assert email.lower() not in text.lower()
    for name in names:
        words = fold(name).split()
        assert " ".join(words) not in fold(text)
        assert f"{words[0]} {words[-1]}" not in fold(text)


class Recorder(BaseHTTPRequestHandler):
    """Answers 200, or the status its path asks for (/status/503), or a redirect (/redirect); keeps every body."""

    def do_POST(self):
        self.server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.content_types.append(self.headers["Content-Type"])
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(int(self.path.removeprefix("/status/")) if self.path.startswith("/status/") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.bodies, httpd.content_types = [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def url(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def pseudonymise():
    return Pseudonymiser(Keys.from_secret(bytes(range(32)), "test"))


@pytest.fixture(scope="module")
def known(pseudonymise):
    return name_index_entries(pseudonymise, KNOWN_NAMES)


@pytest.fixture
def guard(pseudonymise, known, tmp_path):
    return OutboundGuard(pseudonymise, known, tmp_path / "audit.jsonl")


def test_alert_and_llm_request_leave_without_personal_data(guard, server, url):
    server.bodies.clear()
    alert = {
        "title": "Ruptura de Água Mineral Crystal 1,5L na Loja Centro",
        "details": [
            {"cliente": "ANA FREITAS SILVA", "cpf": "843.162.365-98", "contato": "(11) 99705-4423"},
            {"cliente": "Jose da Conceicao", "documento": 84316236598, "email": "Jose_Conceicao+loja@Mail.COM"},
        ],
        "ana.freitas@exemplo.com.br": {"fornecedor": "12.345.678/0001-95", "ativo": True, "nota": None},
    }
    chat = {
        "model": "llama-3.1-8b",
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "Você é um analista de trade marketing."},
            {"role": "user", "content": "Resuma: Maria   Gonçalves (tel +55 11 3456-7890, 99705 4423) reclamou da "
                                        "ruptura em 12/08/2025 às 18:49; Ana Silva pagou R$ 1.234,56."},
        ],
    }
    assert guard.send_json(url + "/hooks/alert", alert, channel="webhook") == 200
    assert guard.send_json(url + "/v1/chat/completions", chat, channel="llm") == 200

    assert len(server.bodies) == 2
    for raw in server.bodies:
        assert_nothing_personal(readable(raw), NUMBERS, EMAILS, KNOWN_NAMES)
    received_alert, received_chat = (json.loads(raw) for raw in server.bodies)
    assert received_alert["title"] == alert["title"]
    assert received_alert["details"][0] == {"cliente": NAME_MASK, "cpf": "[CPF]", "contato": "[telefone]"}
    assert received_alert["details"][1]["documento"] == "[CPF]"
    assert received_alert["[e-mail]"] == {"fornecedor": "[CNPJ]", "ativo": True, "nota": None}
    assert received_chat["model"] == "llama-3.1-8b" and received_chat["temperature"] == 0.2
    assert received_chat["messages"][1]["content"] == (
        "Resuma: [nome] (tel [telefone], [telefone]) reclamou da ruptura em 12/08/2025 às 18:49; [nome] pagou "
        "R$ 1.234,56."
    )
    assert set(server.content_types) == {"application/json; charset=utf-8"}


def test_each_send_is_audited_with_counts_and_never_the_payload(guard, url):
    guard.send_json(url + "/a", {"text": "CPF 843.162.365-98 de Ana Freitas Silva, ana.freitas@exemplo.com.br"},
                    channel="webhook")
    guard.send_json(url + "/status/503", ["(11) 99705-4423", "Maria Gonçalves", "ruptura"], channel="chat")

    raw = guard.audit_log.read_bytes()
    assert_nothing_personal(raw.decode(), NUMBERS, EMAILS, KNOWN_NAMES)
    entries = [json.loads(line) for line in raw.splitlines()]
    assert [entry["action"] for entry in entries] == ["outbound.send", "outbound.send"]
    assert entries[0]["details"] == {
        "channel": "webhook", "host": "127.0.0.1", "status": 200,
        "masked": {"email": 1, "cnpj": 0, "cpf": 1, "phone": 0, "name": 1},
    }
    assert entries[1]["details"] == {
        "channel": "chat", "host": "127.0.0.1", "status": 503,
        "masked": {"email": 0, "cnpj": 0, "cpf": 0, "phone": 1, "name": 1},
    }
    assert audit.verify(guard.audit_log).ok


@pytest.mark.parametrize("spelling", NAME_SPELLINGS)
def test_known_names_are_masked_however_written(guard, spelling):
    guarded = guard.check(f"Falar com {spelling} sobre o pedido 12345.")
    assert guarded.text == f"Falar com {NAME_MASK} sobre o pedido 12345."
    assert guarded.masked["name"] == 1


@pytest.mark.parametrize(
    "text",
    ["Água Mineral Crystal 1,5L em falta", "Ana Maria Braga comprou", "Freitas Silva", "Ana", "Silva Ana",
     "Conceição da Praia", "Maria Luíza"],
)
def test_words_that_are_not_a_known_name_are_left_alone(guard, text):
    assert guard.check(text).text == text
    assert guard.check(text).masked["name"] == 0


def test_the_longest_name_wins_and_the_text_around_it_stays(guard):
    guarded = guard.check("Sr(a). Ana Freitas Silva,  e JOSÉ DA CONCEIÇÃO: ok")
    assert guarded.text == f"Sr(a). {NAME_MASK},  e {NAME_MASK}: ok"
    assert guarded.masked == {"email": 0, "cnpj": 0, "cpf": 0, "phone": 0, "name": 2}


def test_payload_keys_numbers_and_other_values(guard):
    payload = {"ana@x.com": [84316236598, 12345, 2.5, True, None, ("Maria Gonçalves", "ok")], 11997054423: "x"}
    guarded, counts = guard.guard_payload(payload)
    assert guarded == {"[e-mail]": ["[CPF]", 12345, 2.5, True, None, [NAME_MASK, "ok"]], "[telefone]": "x"}
    assert counts == {"email": 1, "cnpj": 0, "cpf": 1, "phone": 1, "name": 1}


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "http:///no-host", "127.0.0.1/x"]
)
def test_only_http_urls_are_accepted(guard, target):
    with pytest.raises(OutboundBlocked, match="only send to http:// or https://"):
        guard.send_json(target, {"text": "oi"}, channel="webhook")
    assert not guard.audit_log.exists()


def test_redirects_are_not_followed(guard, server, url):
    server.bodies.clear()
    assert guard.send_json(url + "/redirect", {"text": "oi"}, channel="webhook") == 302
    assert len(server.bodies) == 1


def test_an_unreachable_host_is_audited_then_raised(guard):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        guard.send_json(f"http://127.0.0.1:{port}/x", {"text": "843.162.365-98"}, channel="webhook", timeout=2)
    (entry,) = (json.loads(line) for line in guard.audit_log.read_text().splitlines())
    assert entry["details"]["status"] is None and entry["details"]["masked"]["cpf"] == 1


# --- random combinations ---------------------------------------------------------------------------------------

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def numbers(draw):
    d = "".join(draw(st.lists(DIGITS, min_size=11, max_size=11)))
    mobile = "9" + d[:8]
    area = draw(st.sampled_from(["11", "21", "85"]))
    return draw(st.sampled_from([
        f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}", d, f"({area}) {mobile[:5]}-{mobile[5:]}",
        f"+55 31 {mobile}", f"{mobile[:5]}-{mobile[5:]}", f"{d[:2]}.{d[2:5]}.{d[5:8]}/0001-{d[8:10]}",
    ]))


@st.composite
def names(draw):
    full = draw(st.sampled_from(KNOWN_NAMES))
    words = full.split()
    chosen = draw(st.sampled_from([words, [words[0], words[-1]]]))
    spelled = draw(st.sampled_from([str, str.upper, str.lower, fold, str.title]))(" ".join(chosen))
    return re.sub(" ", draw(st.sampled_from([" ", "  ", "\n"])), spelled), full


WORDS = st.sampled_from(["ruptura", "Água Mineral", "Loja Centro", "estoque", "R$ 1.234,56", "12/08/2025", "ok", "de"])


@st.composite
def payloads(draw):
    numbers_in = draw(st.lists(numbers(), max_size=3))
    names_in = draw(st.lists(names(), max_size=3))
    emails_in = draw(st.lists(st.sampled_from(EMAILS), max_size=2))
    words = draw(st.lists(WORDS, max_size=4))
    pieces = draw(st.permutations(numbers_in + [spelled for spelled, _ in names_in] + emails_in + words))
    cut = draw(st.integers(0, len(pieces)))
    text = ", ".join(pieces[:cut]) + "."
    if draw(st.booleans()):
        payload = {"text": text, "extra": [{"note": piece} for piece in pieces[cut:]]}
    else:
        turns = [{"role": "user", "content": text}, *({"role": "assistant", "content": p} for p in pieces[cut:])]
        payload = {"model": "m", "messages": turns}
    return payload, numbers_in, emails_in, [full for _, full in names_in]


@settings(max_examples=60, deadline=None)
@given(payloads())
def test_random_payloads_leave_without_personal_data(pseudonymise, known, server, url, tmp_path_factory, case):
    payload, numbers_in, emails_in, names_in = case
    log = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    guard = OutboundGuard(pseudonymise, known, log)
    server.bodies.clear()
    assert guard.send_json(url + "/hook", payload, channel="webhook") == 200
    (raw,) = server.bodies
    assert_nothing_personal(readable(raw), numbers_in, emails_in, names_in)
    (entry,) = (json.loads(line) for line in log.read_text().splitlines())
    assert entry["details"]["masked"]["name"] == len(names_in)
