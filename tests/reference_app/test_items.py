"""The item service rules and the durable SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_app.domain.items import ItemInvalid, ItemNotFound, ItemService, SQLiteItemStore


@pytest.fixture()
def service(tmp_path: Path) -> ItemService:
    return ItemService(SQLiteItemStore(tmp_path))


def test_crud_round_trip_and_persistence(tmp_path: Path) -> None:
    store = SQLiteItemStore(tmp_path)
    svc = ItemService(store)
    a = svc.create({"name": " first ", "description": "d"})
    b = svc.create({"name": "second"})
    assert a.name == "first" and b.description == ""
    assert a.created_at.endswith("Z")
    items, total = svc.list(10, 0)
    assert [i.id for i in items] == [a.id, b.id] and total == 2
    assert svc.patch(a.id, {"description": "new"}).name == "first"
    assert svc.replace(b.id, {"name": "renamed"}).name == "renamed"
    svc.delete(a.id)
    store.close()
    reopened = ItemService(SQLiteItemStore(tmp_path))
    items, total = reopened.list(10, 0)
    assert total == 1 and items[0].name == "renamed"


def test_paging(service: ItemService) -> None:
    ids = [service.create({"name": f"n{i}"}).id for i in range(5)]
    page, total = service.list(2, 3)
    assert total == 5 and [i.id for i in page] == ids[3:5]


def test_validation_reports_each_field(service: ItemService) -> None:
    with pytest.raises(ItemInvalid) as info:
        service.create({"description": 5})
    assert info.value.fields == {"name": "field is required", "description": "must be a string"}
    with pytest.raises(ItemInvalid):
        service.create({"name": "x" * 201})


def test_missing_items(service: ItemService) -> None:
    for call in (lambda: service.get("nope"), lambda: service.delete("nope"),
                 lambda: service.patch("nope", {"name": "x"}), lambda: service.replace("nope", {"name": "x"})):
        with pytest.raises(ItemNotFound):
            call()
