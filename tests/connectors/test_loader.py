"""The loader on its own: statements bounded by bytes, empty pages, keys required."""

from __future__ import annotations

import orjson
import pytest

from connectors.base import Page
from connectors.errors import LoadFailed
from connectors.loader import Loader, split_by_bytes
from connectors.mailchimp import MEMBERS, UNSUBSCRIBES


def _member(i: int, list_id: str | None = "l1") -> bytes:
    rec = {"id": f"m{i}", "email_address": f"p{i}@example.com", "status": "subscribed"}
    if list_id:
        rec["list_id"] = list_id
    return orjson.dumps(rec)


@pytest.fixture
def loader(tmp_path):
    loader = Loader(tmp_path / "raw.duckdb", "mailchimp", "sync-1", statement_bytes=200)
    loader.ensure_tables([MEMBERS, UNSUBSCRIBES])
    yield loader
    loader.close()


def test_pages_split_at_record_boundaries_within_the_byte_limit():
    pages = [Page([b"x" * 60] * 5, "a"), Page([b"y" * 250], "b"), Page([b"z" * 10] * 3, "c")]
    groups = split_by_bytes(pages, 130)
    assert [[(p.parent_id, len(p.raws)) for p in g] for g in groups] == [
        [("a", 2)],
        [("a", 2)],
        [("a", 1)],
        [("b", 1)],  # larger than the limit: a group of its own
        [("c", 3)],
    ]
    assert split_by_bytes([Page([]), Page([])], 100) == []


def test_a_batch_over_many_statements_merges_once_and_the_last_copy_wins(loader):
    first = [_member(i) for i in range(20)]
    again = [orjson.dumps({**orjson.loads(_member(3)), "status": "unsubscribed"})]
    loader.begin()
    written = loader.write_pages(MEMBERS, [Page(first), Page(again)], merge=True)
    loader.commit()
    assert written == 20
    assert loader.query("SELECT status FROM raw_mailchimp.members WHERE id = 'm3'") == [
        ("unsubscribed",)
    ]


def test_empty_pages_write_nothing_in_both_modes(loader):
    loader.begin()
    assert loader.write_pages(UNSUBSCRIBES, [Page([], "c1"), Page([], "c2")], merge=True) == 0
    assert loader.write_pages(UNSUBSCRIBES, [Page([], "c1")], merge=False) == 0
    loader.commit()


def test_a_record_without_its_key_fails_the_batch_naming_table_and_column(loader):
    loader.begin()
    with pytest.raises(LoadFailed, match=r"raw_mailchimp.members.*NOT NULL.*primary key"):
        loader.write_pages(MEMBERS, [Page([_member(1), _member(2, list_id=None)])], merge=False)
    assert not loader.in_transaction
    assert loader.count(MEMBERS) == 0
