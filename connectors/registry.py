"""The sources, one line each.

Everything that lists sources derives from this table: `elt`'s settings and CLI,
the DAG, dbt's environment, the checks' file map and the Airbyte entry point.
Importing it is cheap (a DAG file does at parse time); `load` imports a source's
module, which declares its streams, readers and config (`connectors.base.Source`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.base import Source

SOURCES: dict[str, str] = {
    "mailchimp": "connectors.mailchimp",
    "hubspot": "connectors.hubspot",
}


def load(name: str) -> Source:
    """The source called `name`; a clear error for one not in the table."""
    if name not in SOURCES:
        from connectors.errors import ConfigError

        raise ConfigError(f"unknown source {name!r}; choose one of {sorted(SOURCES)}")
    return importlib.import_module(SOURCES[name]).SOURCE
