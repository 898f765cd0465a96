"""Fixtures: the mock APIs on loopback, real HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_apis.testing import MockServer

# --import-mode=importlib adds no test dir to sys.path; the helpers module lives here.
sys.path.insert(0, str(Path(__file__).parent))

SMALL = {"scale": 0.05}


@pytest.fixture
def mock_server() -> Iterator[MockServer]:
    with MockServer(seed=7, **SMALL) as server:
        yield server
