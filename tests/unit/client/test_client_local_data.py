"""The device's local results: replace or merge by id, names checked, readable offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.client.errors import LocalDataError
from authgate.client.local_data import LocalData


def test_replace_is_the_default_and_merge_goes_by_id(tmp_path: Path) -> None:
    data = LocalData(tmp_path / "s.sqlite")
    assert data.write("orders", [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}], merge=False,
                      function="f") == 2  # fmt: skip
    assert data.write("orders", [{"id": 3, "n": "c"}], merge=False, function="f") == 1
    assert data.rows("orders") == [{"id": 3, "n": "c"}]
    assert data.write("orders", [{"id": 3, "n": "C"}, {"id": 4}], merge=True, function="g") == 2
    assert data.rows("orders") == [{"id": 3, "n": "C"}, {"id": 4}]
    assert data.rows("orders", ids=["4"]) == [{"id": 4}]
    assert data.rows("orders", where=[("n", "C")]) == [{"id": 3, "n": "C"}]
    [info] = data.tables()
    assert (info.name, info.function, info.rows) == ("orders", "g", 2)


def test_records_without_ids_are_numbered_but_cannot_merge(tmp_path: Path) -> None:
    data = LocalData(tmp_path / "s.sqlite")
    assert data.write("t", [{"a": 1}, {"a": 2}, "scalar"], merge=False, function="f") == 3
    assert data.rows("t") == [{"a": 1}, {"a": 2}, "scalar"]
    with pytest.raises(LocalDataError) as refused:
        data.write("t", [{"a": 3}], merge=True, function="f")
    assert "id" in refused.value.message
    assert data.rows("t") == [{"a": 1}, {"a": 2}, "scalar"]


@pytest.mark.parametrize(
    "name",
    ['x"; DROP TABLE t; --', "a b", "", "-lead", "x" * 129, "naïve", "a/b", "_authgate_tables;"],
)
def test_table_names_are_checked(tmp_path: Path, name: str) -> None:
    data = LocalData(tmp_path / "s.sqlite")
    with pytest.raises(LocalDataError):
        data.write(name, [{"id": 1}], merge=False, function="f")


def test_filters_name_plain_fields_and_unknown_tables_say_so(tmp_path: Path) -> None:
    data = LocalData(tmp_path / "s.sqlite")
    with pytest.raises(LocalDataError) as missing:
        data.rows("nothing")
    assert "call a function first" in missing.value.message
    data.write("t", [{"id": 1}], merge=False, function="f")
    with pytest.raises(LocalDataError):
        data.rows("t", where=[("a') OR 1=1 --", "x")])
    with pytest.raises(LocalDataError):
        data.rows("absent")
    data.drop()
    assert data.tables() == []
