"""The customer tests read the one demo workspace the whole test session shares (see tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def mall_demo(forecast_demo):
    return forecast_demo
