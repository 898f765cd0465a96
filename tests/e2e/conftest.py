"""--import-mode=importlib adds no test dir to sys.path; the shared helpers live here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
