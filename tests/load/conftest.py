"""Configuration of the load tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that selects (or deselects) the load tests."""
    config.addinivalue_line(
        "markers", "load: many concurrent clients for a while (tests/load)"
    )
