"""What a source module provides: its streams (data) and one reader per stream, and
what readers produce: pages of records kept as the JSON text the API sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgspec

from connectors.config import SourceConfig
from connectors.http import HttpClient
from connectors.streams import Stream


@dataclass
class Page:
    """One API page: each record's JSON text exactly as the API sent it (`msgspec.Raw`
    slices of the response body, or bytes) and the parent id it belongs to (child
    streams). Records are never turned into Python objects on the way to DuckDB."""

    raws: Sequence[Any]
    parent_id: str | None = None
    count: int | None = None  # records, when not one per raw (associations: `to` entries)

    @property
    def records(self) -> int:
        return len(self.raws) if self.count is None else self.count

    @cached_property
    def nbytes(self) -> int:
        return sum(map(len, self.raws))

    def dicts(self) -> list[Any]:
        """The records as Python objects (small streams and the Airbyte path only),
        decoded once per page."""
        return self._dicts

    @cached_property
    def _dicts(self) -> list[Any]:
        return decode_each(self.raws)


_ANY = msgspec.json.Decoder()


def decode_each(raws: Sequence[Any], decoder: msgspec.json.Decoder = _ANY) -> list[Any]:
    """Decode many records' JSON texts in one call, e.g. into a small msgspec Struct
    holding only the fields a reader needs (a cursor value), skipping the rest in C."""
    if not raws:
        return []
    return decoder.decode(b"[" + b",".join(raws) + b"]")


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


Reader = Callable[[ReadContext, Any], Iterator[Item]]


@dataclass(frozen=True)
class Source:
    name: str
    streams: list[Stream]
    readers: dict[str, Reader]
    make_client: Callable[[Any], HttpClient]
    check_path: str
    config_type: type[SourceConfig]  # the source's typed configuration
    # Streams that load at the same time, one lane (thread, HTTP session, DuckDB
    # connection) each; a lane runs its streams in order. Empty: one lane, all streams.
    # Lanes must not depend on each other's rows (a reader re-fetches the parent ids it
    # needs when its lane did not read them).
    lanes: tuple[tuple[str, ...], ...] = ()

    def lanes_of(self, selected: list[Stream]) -> list[list[Stream]]:
        """The selected streams split into lanes (streams in no lane form a last one)."""
        names = {s.name for s in selected}
        out = [[self.stream(n) for n in lane if n in names] for lane in self.lanes]
        placed = {s.name for lane in out for s in lane}
        out.append([s for s in selected if s.name not in placed])
        return [lane for lane in out if lane]

    def stream(self, name: str) -> Stream:
        for s in self.streams:
            if s.name == name:
                return s
        raise KeyError(name)
