"""The stack tests: the compose file checked offline, its services run natively."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib adds no test dir to sys.path; the helpers module lives here.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "stack: runs the compose stack's services natively (PostgreSQL, Redis, Airflow on "
        "Celery); `make test-stack` selects them",
    )
