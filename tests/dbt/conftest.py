"""--import-mode=importlib adds no test dir to sys.path; the shared helpers live here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def raw_world(tmp_path_factory: pytest.TempPathFactory):
    """One small mock world extracted once: every stream has records (unsubscribes
    too). Tests build their own warehouses over it (`Warehouse.sibling`)."""
    from warehouse_helpers import Warehouse

    from mock_apis.testing import MockServer

    root = tmp_path_factory.mktemp("dbt-raw-world")
    with MockServer(seed=7, scale=0.05) as server:
        world = Warehouse(server, root, "unbuilt")
        world.extract()
    return world
