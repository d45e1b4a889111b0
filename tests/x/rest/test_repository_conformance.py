"""One conformance suite for every Repository backend (SQLite, PostgreSQL): the same assertions, with documented
differences as capability flags. Includes SQL injection attempts through every query-string path."""

from __future__ import annotations

from typing import Any

import pytest

from plumego.contract import APIError
from plumego.x.rest import (
    DuplicateError,
    Query,
    QueryBuilder,
    Repository,
    SortField,
    open_repository,
)

from .conftest import BACKENDS, PEOPLE

pytestmark = pytest.mark.parametrize("repository_url", BACKENDS, indirect=True)

BUILDER = QueryBuilder(sorts=PEOPLE.sortable, filters=("name", "email", "age", "score", "active", "id"),
                       fields=PEOPLE.sortable, max_page_size=100)


def q(**params: Any) -> Query:
    return BUILDER.parse({k: v for k, v in params.items()})


async def seed(repo: Repository) -> list[dict[str, Any]]:
    rows = [
        {"name": "Ada", "email": "ada@example.com", "age": 36, "score": 9.5, "active": True},
        {"name": "bob", "email": "bob@example.com", "age": None, "score": 3, "active": False},
        {"name": "Cy_", "email": None, "age": 20, "score": None, "active": None},
        {"name": "dee%", "email": "dee@example.com", "age": 36, "score": 7.25, "active": True},
        {"name": "École", "email": "ecole@example.com", "age": 50, "score": 1.0, "active": True},
    ]
    return [await repo.create(row) for row in rows]


async def test_create_get_update_delete_round_trip(repo: Repository) -> None:
    created = await repo.create({"name": "Ada", "age": 36, "score": 2, "active": True})
    assert created["id"] >= 1 and created["name"] == "Ada" and created["score"] == 2.0
    assert created["active"] is True and created["email"] is None
    assert created["created_at"] == created["updated_at"]
    assert await repo.find_by_id(created["id"]) == created
    assert await repo.exists(created["id"])
    updated = await repo.update(created["id"], {"age": 37, "active": False})
    assert updated is not None and updated["age"] == 37 and updated["active"] is False
    assert updated["updated_at"] > created["updated_at"] and updated["created_at"] == created["created_at"]
    assert await repo.update(10_000, {"age": 1}) is None
    assert await repo.delete(created["id"]) is True
    assert await repo.delete(created["id"]) is False
    assert await repo.find_by_id(created["id"]) is None
    assert not await repo.exists(created["id"])


async def test_soft_delete_hides_rows_from_every_read(repo: Repository) -> None:
    rows = await seed(repo)
    assert await repo.delete(rows[0]["id"])
    assert await repo.count(q()) == 4
    assert rows[0]["id"] not in [r["id"] for r in await repo.find_all(q())]
    assert await repo.update(rows[0]["id"], {"age": 1}) is None
    # the unique email of a soft-deleted row is free again
    again = await repo.create({"name": "Ada II", "email": "ada@example.com"})
    assert again["id"] != rows[0]["id"]


async def test_unique_columns_raise_duplicate(repo: Repository) -> None:
    await repo.create({"name": "a", "email": "x@example.com"})
    with pytest.raises(DuplicateError) as caught:
        await repo.create({"name": "b", "email": "x@example.com"})
    assert caught.value.column == "email"
    other = await repo.create({"name": "c", "email": "y@example.com"})
    with pytest.raises(DuplicateError):
        await repo.update(other["id"], {"email": "x@example.com"})


async def test_paging_and_counts(repo: Repository) -> None:
    await seed(repo)
    first = await repo.find_all(q(page_size="2"))
    second = await repo.find_all(q(page_size="2", page="2"))
    third = await repo.find_all(q(page_size="2", page="3"))
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert [r["id"] for r in first + second + third] == sorted(r["id"] for r in first + second + third)
    assert [r["id"] for r in await repo.find_all(q(limit="2", offset="1"))] == [r["id"] for r in
                                                                              (first + second)[1:3]]
    assert await repo.count(q(page_size="2")) == 5


async def test_sorting_is_the_same_on_every_engine(repo: Repository) -> None:
    await seed(repo)
    names = [r["name"] for r in await repo.find_all(q(sort="name"))]
    assert names == ["Ada", "Cy_", "bob", "dee%", "École"]  # code-point order on both engines
    # NULLs last in both directions, id breaks ties
    assert [r["age"] for r in await repo.find_all(q(sort="age"))] == [20, 36, 36, 50, None]
    assert [r["age"] for r in await repo.find_all(q(sort="-age"))] == [50, 36, 36, 20, None]
    by_two = await repo.find_all(q(sort="-age,name"))
    assert [r["name"] for r in by_two] == ["École", "Ada", "dee%", "Cy_", "bob"]
    assert [r["name"] for r in await repo.find_all(q(sort="-created_at", page_size="1"))] == ["École"]


async def test_typed_filters_and_in_lists(repo: Repository) -> None:
    await seed(repo)
    assert [r["name"] for r in await repo.find_all(q(age="36"))] == ["Ada", "dee%"]
    assert [r["name"] for r in await repo.find_all(q(active="false"))] == ["bob"]
    assert [r["name"] for r in await repo.find_all(q(score="7.25"))] == ["dee%"]
    both = BUILDER.parse({"name": ["Ada", "bob"]})
    assert [r["name"] for r in await repo.find_all(both)] == ["Ada", "bob"]
    assert await repo.count(both) == 2
    for bad in ({"age": "abc"}, {"age": "9" * 30}, {"active": "yes"}, {"score": "nan"}, {"id": "1 OR 1=1"}):
        with pytest.raises(APIError) as caught:
            await repo.find_all(BUILDER.parse(bad))
        assert caught.value.status == 400 and caught.value.code == "INVALID_QUERY"


async def test_search_escapes_wildcards_and_folds_ascii_case(repo: Repository) -> None:
    await seed(repo)
    assert [r["name"] for r in await repo.find_all(q(q="ADA"))] == ["Ada"]
    assert [r["name"] for r in await repo.find_all(q(search="example.COM", sort="name"))] == [
        "Ada", "bob", "dee%", "École"]
    assert [r["name"] for r in await repo.find_all(q(q="%"))] == ["dee%"]       # literal %, not a wildcard
    assert [r["name"] for r in await repo.find_all(q(q="_"))] == ["Cy_"]        # literal _, not a wildcard
    assert await repo.find_all(q(q="\\")) == []
    unicode_hits = [r["name"] for r in await repo.find_all(q(q="éCOLE"))]
    assert unicode_hits == (["École"] if repo.capabilities.unicode_case_insensitive_search else [])


INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE people; --",
    "1; DELETE FROM people",
    "\" OR 1=1 --",
    "') UNION SELECT name, name, name FROM people --",
    "%' OR 1=1 --",
]


@pytest.mark.parametrize("attack", INJECTIONS)
async def test_injection_attempts_are_data_or_refused(repo: Repository, attack: str) -> None:
    await seed(repo)
    assert await repo.find_all(q(name=attack)) == []
    assert await repo.find_all(q(q=attack)) == []
    for params in ({"sort": attack}, {attack: "1"}, {"fields": attack}, {"age": attack}):
        with pytest.raises(APIError) as caught:
            BUILDER.parse(params)
            await repo.find_all(BUILDER.parse(params))
        assert caught.value.status == 400
    stored = await repo.create({"name": attack, "email": attack})
    assert (await repo.find_by_id(stored["id"]) or {})["name"] == attack
    assert await repo.count(q()) == 6  # the table is intact


async def test_values_are_checked_before_sql(repo: Repository) -> None:
    for bad in ({"name": 1}, {"name": "x", "age": "1"}, {"name": "x", "age": 1 << 70}, {"name": "x", "nope": 1},
                {"name": "x\x00y"}, {"age": 3}, {"name": "x", "active": 1}):
        with pytest.raises(ValueError):
            await repo.create(bad)
    assert await repo.count(q()) == 0


async def test_two_handles_share_one_table(repo: Repository, repository_url: str) -> None:
    other = await open_repository(repository_url, PEOPLE)
    try:
        created = await repo.create({"name": "shared"})
        assert (await other.find_by_id(created["id"]) or {})["name"] == "shared"
        assert repo.capabilities.shared is True
    finally:
        await other.close()


async def test_sort_fields_must_be_columns(repo: Repository) -> None:
    with pytest.raises(APIError):
        await repo.find_all(Query(sort=(SortField("password"),)))
