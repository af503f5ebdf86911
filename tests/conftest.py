"""One demo workspace, forecast and replenished, shared by every test that only reads it (it takes a minute)."""

import pytest

from shelfwise.pipelines.demo import run_demo


@pytest.fixture(scope="session")
def forecast_demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("forecast-demo") / "ws")
