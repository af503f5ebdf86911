import json
import string
from datetime import date
from html.parser import HTMLParser

import pytest
import tomli_w

from shelfwise.privacy.keys import KEY_ENV, new_secret
from shelfwise.privacy.ropa import TEXTS, build_register, render_html, render_json, render_markdown
from shelfwise.schema import TABLES
from shelfwise.workspace import init_workspace, open_workspace

DAY = date(2025, 3, 1)


@pytest.fixture(autouse=True)
def _key_from_the_key_file(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws")


def _with_settings(ws, settings):
    (ws.root / "shelfwise.toml").write_text(tomli_w.dumps(settings), encoding="utf-8")
    return open_workspace(ws.root)


def test_every_personal_column_of_the_schema_is_listed_with_its_treatment(ws):
    register = build_register(ws, today=DAY)
    listed = {item.column: item for item in register.data_items}
    expected = {}
    for name, table in TABLES.items():
        for column in table.personal_columns:
            expected[f"{name}.{column.name}"] = (column.personal.category, column.personal.treatment.value)
        for column in table.derived:
            expected[f"{name}.{column.name}"] = ("derived", "derived")
    assert {column: (item.category, item.treatment) for column, item in listed.items()} == expected
    markdown = render_markdown(register)
    for column, item in listed.items():
        assert f"| {column} | {item.category_text} | {item.treatment_text} | {item.storage} |" in markdown


def test_every_personal_category_is_used_by_some_purpose_and_every_subject_is_named(ws):
    register = build_register(ws, language="en", today=DAY)
    used = {category for purpose in register.purposes for category in purpose.categories}
    assert {item.category_text for item in register.data_items if item.category != "derived"} <= used
    tables_with_personal_data = {name for name, table in TABLES.items() if table.personal_columns}
    assert {t for subject in register.subjects for t in subject.tables} == tables_with_personal_data
    consent_checked = {p.code for p in register.purposes if p.consent_checked_at_export}
    assert consent_checked == {"marketing_contact", "partner_offer"}


def test_retention_controller_bases_and_recipients_follow_the_settings_file(ws):
    ws = _with_settings(ws, {"privacy": {
        "controller": "Shopping Exemplo Ltda",
        "dpo_contact": "dpo@exemplo.com.br",
        "answer_days": 10,
        "retention": {"visits": 90, "feedback": 0},
        "legal_basis": {"marketing_contact": "legitimate_interest"},
        "recipients": {"StreamCo": "e-mail of consenting customers, to activate the streaming package"},
    }})
    register = build_register(ws, today=DAY)
    retention = {rule.table: (rule.days, rule.period) for rule in register.retention}
    assert retention["visits"] == (90, "3 meses")
    assert retention["feedback"] == (0, "guardado até ser eliminado")
    assert retention["transactions"] == (1825, "5 anos")
    assert "padrão" not in register.sources["retention.visits"]
    assert "padrão" in register.sources["retention.transactions"]
    marketing = next(p for p in register.purposes if p.code == "marketing_contact")
    assert marketing.legal_basis_text == "Legítimo interesse (LGPD Art. 7, IX e Art. 10)"
    assert not [w for w in register.warnings if "não configurado" in w]
    markdown = render_markdown(register)
    assert "| visits | 90 | 3 meses |" in markdown
    assert "| feedback | 0 | guardado até ser eliminado |" in markdown
    assert "Controlador: Shopping Exemplo Ltda" in markdown
    assert "dpo@exemplo.com.br" in markdown and "em até 10 dias (LGPD Art. 19)" in markdown
    assert "| StreamCo | e-mail of consenting customers, to activate the streaming package |" in markdown
    assert TEXTS["recipients.none"]["pt"] not in markdown


def test_without_controller_and_dpo_the_register_says_how_to_configure_them(ws):
    pt = render_markdown(build_register(ws, today=DAY))
    en = render_markdown(build_register(ws, language="en", today=DAY))
    assert "Controlador: não configurado — defina [privacy] controller em shelfwise.toml" in pt
    assert "not configured — set [privacy] dpo_contact in shelfwise.toml" in en
    assert TEXTS["recipients.none"]["en"] in en


def test_every_label_exists_in_both_languages_with_the_same_placeholders():
    def placeholders(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, texts in TEXTS.items():
        assert set(texts) == {"pt", "en"}, key
        assert texts["pt"].strip() and texts["en"].strip(), key
        assert placeholders(texts["pt"]) == placeholders(texts["en"]), key


def test_portuguese_and_english_registers_differ_and_each_is_complete(ws):
    pages = {lang: render_markdown(build_register(ws, language=lang, today=DAY)) for lang in ("pt", "en")}
    assert pages["pt"] != pages["en"]
    titles = {key: texts for key, texts in TEXTS.items() if key.startswith("section.") or key == "title"}
    for lang, other in (("pt", "en"), ("en", "pt")):
        for key, texts in titles.items():
            assert texts[lang] in pages[lang], (lang, key)
            assert texts[other] not in pages[lang], (lang, key)
        assert "{" not in pages[lang] and "}" not in pages[lang]


_VOID_ELEMENTS = frozenset({"meta", "br", "hr", "img", "link"})


class _StrictTree(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    def __init__(self):
        super().__init__()
        self.open, self.tags, self.text = [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in _VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open)
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_well_formed_self_contained_and_escapes_what_it_shows(ws):
    ws = _with_settings(ws, {"privacy": {"controller": "<script>x</script> & Cia"}})
    page = render_html(build_register(ws, today=DAY))
    tree = _StrictTree()
    tree.feed(page)
    tree.close()
    assert tree.open == []
    assert "script" not in tree.tags
    assert "<script>x</script> & Cia" in "".join(tree.text)
    assert "&lt;script&gt;x&lt;/script&gt; &amp; Cia" in page
    assert not {"link", "img", "iframe"} & tree.tags and "src=" not in page and "http" not in page
    assert "@media print" in page
    assert "<code>shelfwise audit verify</code>" in page


def test_json_round_trips_with_the_same_facts(ws):
    register = build_register(ws, language="en", today=DAY)
    data = json.loads(render_json(register))
    assert data["generated_at"] == "2025-03-01"
    assert data["language"] == "en"
    assert [p["code"] for p in data["purposes"]] == ["analytics", "marketing_contact", "partner_offer"]
    assert [d["column"] for d in data["data_items"]] == [d.column for d in register.data_items]
    assert {r["table"]: r["days"] for r in data["retention"]} == ws.settings.privacy.retention
    assert data["international_transfers"] == register.international_transfers
    assert data["sources"] == register.sources


def test_a_key_file_inside_the_workspace_is_warned_about(ws):
    register = build_register(ws, language="en", today=DAY)
    warning = next(w for w in register.warnings if "key file" in w)
    assert str(ws.key_path) in warning and "inside the workspace folder" in warning
    assert warning in register.security_measures
    assert warning in render_markdown(register)


def test_a_key_file_outside_the_workspace_is_not_warned_about(ws, tmp_path):
    outside = tmp_path / "keys" / "privacy.key"
    ws = _with_settings(ws, {"privacy": {"key_file": str(outside)}})
    register = build_register(ws, language="en", today=DAY)
    assert not [w for w in register.warnings if "key" in w]
    assert any(str(outside) in m for m in register.security_measures)
    assert TEXTS["security.key_outside"]["en"] in register.security_measures
    assert "inside the workspace folder" not in render_markdown(register)


def test_a_key_from_the_environment_is_named_and_not_warned_about(ws, monkeypatch):
    monkeypatch.setenv(KEY_ENV, new_secret())
    register = build_register(ws, language="en", today=DAY)
    assert not [w for w in register.warnings if "key" in w]
    assert any(f"the {KEY_ENV} environment variable" in m for m in register.security_measures)
    assert register.sources["key"] == KEY_ENV
