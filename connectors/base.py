"""What a source module provides: its streams (data) and one reader per stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.http import HttpClient
from connectors.loader import Page
from connectors.streams import Stream


@dataclass
class Checkpoint:
    """State that is true once every page yielded before it is committed."""

    state: Any


@dataclass
class Delete:
    """Rows whose `column` holds one of `values` are deleted, in the transaction of the
    pages that follow (a stream that re-reads some parents replaces their rows)."""

    column: str
    values: list[str]


Item = Page | Checkpoint | Delete


@dataclass
class ReadContext:
    config: Any
    client: HttpClient
    full_refresh: bool
    query: Callable[[str], list[tuple]] | None = None  # read-only SQL on the raw file
    shared: dict[str, Any] = field(default_factory=dict)  # facts one stream leaves for the next
    on_records: Callable[[str, list[dict[str, Any]]], None] | None = None  # Airbyte path


Reader = Callable[[ReadContext, Any], Iterator[Item]]


@dataclass(frozen=True)
class Source:
    name: str
    streams: list[Stream]
    readers: dict[str, Reader]
    make_client: Callable[[Any], HttpClient]
    check_path: str

    def stream(self, name: str) -> Stream:
        for s in self.streams:
            if s.name == name:
                return s
        raise KeyError(name)
