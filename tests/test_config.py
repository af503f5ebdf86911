import tomllib
from dataclasses import fields

import pytest

from shelfwise.config import ConfigError, Settings, load_settings, render_default_toml


def test_every_setting_has_help_and_is_in_the_generated_toml():
    text = render_default_toml()
    parsed = tomllib.loads(text)
    for section_field in fields(Settings):
        section = getattr(Settings(), section_field.name)
        for setting in fields(section):
            assert setting.metadata.get("help"), f"{section_field.name}.{setting.name} has no help text"
            assert setting.metadata["help"] in text
            assert setting.name in parsed[section_field.name], f"{setting.name} missing from shelfwise.toml"


def test_generated_toml_round_trips_to_the_defaults(tmp_path):
    path = tmp_path / "shelfwise.toml"
    path.write_text(render_default_toml())
    assert load_settings(path, environ={}) == Settings()


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "shelfwise.toml"
    path.write_text('[warehouse]\nmemory_limit = "2GB"\n')
    settings = load_settings(path, environ={"SHELFWISE_WAREHOUSE__MEMORY_LIMIT": "3GB",
                                            "SHELFWISE_WAREHOUSE__THREADS": "2"})
    assert settings.warehouse.memory_limit == "3GB"
    assert settings.warehouse.threads == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[warehouse]\nmemroy_limit = '1GB'\n", "memroy_limit"),
        ("[nonsense]\nx = 1\n", "nonsense"),
        ("[warehouse]\nthreads = 'many'\n", "threads"),
        ("[ingest.mode]\nvendas = 'upsert'\n", "vendas"),
        ("[ingest.mode]\nsales = 'overwrite'\n", "overwrite"),
    ],
)
def test_bad_settings_are_named(tmp_path, text, fragment):
    path = tmp_path / "shelfwise.toml"
    path.write_text(text)
    with pytest.raises((ConfigError, ValueError), match=fragment):
        load_settings(path, environ={})
