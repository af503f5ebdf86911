from shelfwise.ingest.parse import MESSAGES
from shelfwise.messages import TEXTS, say


def test_every_message_exists_in_portuguese_and_english():
    for catalogue in (TEXTS, MESSAGES):
        for key, texts in catalogue.items():
            assert set(texts) == {"pt", "en"}, key
            assert texts["pt"] != texts["en"] or key == "ingest.failed", key


def test_unknown_language_falls_back_to_english():
    assert say("init.done", "fr", root="/x") == "Workspace created at /x"
