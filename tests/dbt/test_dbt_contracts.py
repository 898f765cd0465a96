"""What the warehouse promises its readers and expects of its sources: every mart
has an enforced contract (a column's name or type cannot change unnoticed), and
`dbt source freshness` reports every raw table the connectors load.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from warehouse_helpers import PROJECT_DIR, Warehouse, not_passed

from connectors.registry import SOURCES, load

pytestmark = pytest.mark.timeout(600)

DIM_OWNERS = Path("models/marts/core/dim_owners.sql")


def _project_copy(tmp_path: Path, edit: tuple[str, str] | None) -> Path:
    """The dbt project copied to `tmp_path`, with dim_owners.sql edited (old, new)."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    if edit:
        sql = (copy / DIM_OWNERS).read_text()
        assert edit[0] in sql, f"{DIM_OWNERS} no longer says {edit[0]!r}: update this test"
        (copy / DIM_OWNERS).write_text(sql.replace(edit[0], edit[1]))
    return copy


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (None, None),
        (
            ("is_archived as is_deleted", "cast(is_archived as integer) as is_deleted"),
            ("is_deleted", "data type mismatch"),
        ),
        (
            ("is_archived as is_deleted", "is_archived as is_removed"),
            ("is_removed", "missing in contract"),
        ),
        (("owner_id,\n        email,", "owner_id,"), ("email", "missing in definition")),
    ],
    ids=["unchanged-builds", "retyped-column-fails", "renamed-column-fails", "dropped-fails"],
)
def test_a_mart_whose_columns_differ_from_its_contract_fails_the_build(
    raw_world: Warehouse, tmp_path: Path, edit, reason
) -> None:
    project = _project_copy(tmp_path, edit)
    w = raw_world.sibling(f"contract-{tmp_path.name}")
    res = w.dbt("run", "--select", "+dim_owners", project_dir=project)
    if edit is None:
        assert res.success, not_passed(res)
        return
    failed = {r.node.name: r.message or "" for r in res.result if str(r.status) == "error"}
    assert not res.success and set(failed) == {"dim_owners"}, not_passed(res)
    message = failed["dim_owners"]
    assert "enforced contract that failed" in message
    column, why = reason
    assert any(column in line and why in line for line in message.splitlines()), message


def test_every_mart_has_an_enforced_contract_with_every_column_typed(
    raw_world: Warehouse,
) -> None:
    w = raw_world.sibling("manifest")
    res = w.dbt("parse")
    assert res.success
    nodes = json.loads((w.work / "target" / "manifest.json").read_text())["nodes"].values()
    marts = [n for n in nodes if n["resource_type"] == "model" and n["fqn"][1] == "marts"]
    assert len(marts) >= 9
    assert [n["name"] for n in marts if not n["contract"]["enforced"]] == []
    columns = [(n["name"], c) for n in marts for c in n["columns"].values()]
    assert [f"{name}.{c['name']}" for name, c in columns if not c["data_type"]] == []


def test_source_freshness_reports_every_raw_table_by_its_extraction_time(
    raw_world: Warehouse,
) -> None:
    w = raw_world.sibling("freshness")
    res = w.dbt("source", "freshness")
    results = {r.node.unique_id.split(".", 2)[2]: r for r in res.result}
    expected = {f"{s}.{stream.name}" for s in SOURCES for stream in load(s).streams}
    assert set(results) == expected, "the quality store is no raw table: no freshness for it"
    # just extracted: every table is fresh, judged by its newest `_extracted_at`
    assert {t: str(r.status) for t, r in results.items()} == dict.fromkeys(expected, "pass")
    assert {r.node.loaded_at_field for r in results.values()} == {"_extracted_at"}
