"""x/rest over HTTP: the 12 resource routes, the DB resource controller's answers (envelopes, 400/404/409/422/500),
hooks (rejections hide their reason), the transformer, batches, the base controller's 501/204/200."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plumego.contract import Request
from plumego.core import App, TestClient
from plumego.log import DiscardLogger
from plumego.x.rest import (
    BaseResourceController,
    DBResourceController,
    HookRejected,
    Query,
    Record,
    ResourceHooks,
    ResourceSpec,
    RouteOptions,
    SQLiteRepository,
    register_resource_routes,
)

from .conftest import PEOPLE


class Guard(ResourceHooks):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def before_create(self, request: Request, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("name") == "root":
            raise HookRejected("names reserved by policy P-17", status=403)
        return {**values, "name": values["name"].strip()}

    async def after_create(self, request: Request, record: Record) -> None:
        self.events.append(f"created {record['id']}")

    async def before_list(self, request: Request, query: Query) -> Query:
        self.events.append(f"list page {query.page}")
        return query

    async def before_delete(self, request: Request, record_id: int) -> None:
        if record_id == 1:
            raise HookRejected("the first record is pinned", status=409, code="PINNED")


def public(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "email"} | {"kind": "person"}


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Guard, SQLiteRepository]]:
    repo = SQLiteRepository(tmp_path / "people.db", PEOPLE)
    hooks = Guard()
    spec = ResourceSpec("people", sorts=("name", "age", "created_at"), filters=("age", "active"), hooks=hooks,
                        transformer=public, max_batch=3)
    app = App()
    register_resource_routes(app.router, "/api/people", DBResourceController(spec, repo, logger=DiscardLogger()))
    register_resource_routes(app.router, "/api/stubs", BaseResourceController(), options=RouteOptions(batch=False))
    yield TestClient(app), hooks, repo
    repo._db.close()


def test_the_twelve_routes_are_registered_and_named(tmp_path: Path) -> None:
    app = App()
    infos = register_resource_routes(app.router, "/api/people/", BaseResourceController())
    assert sorted((i.method, i.path) for i in infos) == sorted([
        ("GET", "/api/people"), ("POST", "/api/people"), ("HEAD", "/api/people"), ("OPTIONS", "/api/people"),
        ("GET", "/api/people/:id"), ("PUT", "/api/people/:id"), ("PATCH", "/api/people/:id"),
        ("DELETE", "/api/people/:id"), ("HEAD", "/api/people/:id"), ("OPTIONS", "/api/people/:id"),
        ("POST", "/api/people/batch"), ("DELETE", "/api/people/batch")])
    assert {i.name for i in infos} >= {"people.index", "people.show", "people.batch_create"}
    assert app.router.url("people.show", id=7) == "/api/people/7"


def test_crud_answers_in_envelopes(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, hooks, _ = setup
    created = client.post("/api/people", json={"name": "  Ada ", "email": "ada@example.com", "age": 36})
    assert created.status_code == 201
    record = created.json()["data"]
    assert record["name"] == "Ada" and record["kind"] == "person" and "email" not in record
    assert created.headers["location"] == f"/api/people/{record['id']}"
    assert client.get(f"/api/people/{record['id']}").json()["data"]["age"] == 36
    assert client.put(f"/api/people/{record['id']}", json={"name": "Ada L", "age": 37}).json()["data"]["age"] == 37
    assert client.patch(f"/api/people/{record['id']}", json={"active": True}).json()["data"]["name"] == "Ada L"
    assert client.head(f"/api/people/{record['id']}").status_code == 200
    listing = client.get("/api/people", params={"sort": "-age", "fields": "name"}).json()
    assert listing["data"] == [{"id": record["id"], "name": "Ada L"}]
    assert listing["meta"]["pagination"] == {"page": 1, "page_size": 20, "total_items": 1, "total_pages": 1,
                                             "has_next": False, "has_prev": False}
    assert client.head("/api/people").headers["x-total-count"] == "1"
    other = client.post("/api/people", json={"name": "Bob"}).json()["data"]
    assert client.delete(f"/api/people/{other['id']}").status_code == 204
    assert client.get(f"/api/people/{other['id']}").status_code == 404
    assert hooks.events[:2] == [f"created {record['id']}", "list page 1"]


def test_pagination_meta(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    for i in range(5):
        client.post("/api/people", json={"name": f"p{i}", "age": i})
    page = client.get("/api/people?page=2&page_size=2&sort=age").json()
    assert [r["age"] for r in page["data"]] == [2, 3]
    assert page["meta"]["pagination"] == {"page": 2, "page_size": 2, "total_items": 5, "total_pages": 3,
                                          "has_next": True, "has_prev": True}
    assert len(client.get("/api/people?page_size=1000").json()["data"]) == 5  # capped at 100, not refused


@pytest.mark.parametrize("path", ["/api/people?sort=password", "/api/people?email=x", "/api/people?age=ten",
                                  "/api/people?page=0", "/api/people?page=x", "/api/people?fields=password",
                                  "/api/people?sort=name;DROP%20TABLE%20people", "/api/people?q=%00",
                                  "/api/people?page=1&page=2"])
def test_bad_queries_are_400_invalid_query(setup: tuple[TestClient, Guard, SQLiteRepository], path: str) -> None:
    response = setup[0].get(path)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "INVALID_QUERY"


def test_bodies_are_validated_per_field(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    response = client.post("/api/people", json={"age": "old", "nope": 1, "active": 1})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {f["path"]: f["reason"] for f in error["details"]["fields"]} == {
        "age": "expected integer", "nope": "unknown field", "active": "expected boolean", "name": "field is required"}
    assert client.post("/api/people", content=b"{oops").status_code == 400
    assert client.post("/api/people", json=[1]).status_code == 422
    assert client.patch("/api/people/1", json={"age": 1 << 80}).status_code == 422


def test_unknown_and_malformed_ids(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    for path in ("/api/people/999", "/api/people/abc", "/api/people/-1", "/api/people/" + "9" * 40):
        assert client.get(path).status_code == 404
    assert client.put("/api/people/5", json={"name": "x"}).status_code == 404
    assert client.delete("/api/people/5").status_code == 404
    assert client.head("/api/people/5").status_code == 404


def test_duplicates_are_409(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    client.post("/api/people", json={"name": "a", "email": "a@example.com"})
    response = client.post("/api/people", json={"name": "b", "email": "a@example.com"})
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"field": "email"}


def test_hook_rejections_hide_their_reason(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    response = client.post("/api/people", json={"name": "root"})
    assert response.status_code == 403
    assert "P-17" not in response.text and response.json()["error"]["message"] == "request rejected"
    first = client.post("/api/people", json={"name": "first"}).json()["data"]
    assert first["id"] == 1
    pinned = client.delete("/api/people/1")
    assert (pinned.status_code, pinned.json()["error"]["code"]) == (409, "PINNED")


def test_storage_failures_are_500_with_a_safe_message(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, repo = setup
    with repo._db.write() as conn:
        conn.execute('DROP TABLE "people"')
    response = client.get("/api/people")
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "internal error"
    assert "people" not in response.text and "sqlite" not in response.text.lower()


def test_batches_report_each_item(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    client.post("/api/people", json={"name": "pinned"})  # id 1, which the hook refuses to delete
    result = client.post("/api/people/batch", json={"items": [{"name": "a"}, {"age": 1}, {"name": "root"}]})
    data = result.json()["data"]
    assert (data["successful"], data["failed"], data["total"]) == (1, 2, 3)
    assert [(e["index"], e["code"]) for e in data["errors"]] == [(1, "VALIDATION_ERROR"), (2, "HOOK_REJECTED")]
    assert data["errors"][0]["fields"] == [{"path": "name", "reason": "field is required"}]
    too_many = client.post("/api/people/batch", json={"items": [{"name": "x"}] * 4})
    assert too_many.status_code == 422
    created = data["items"][0]["id"]
    response = client.request("DELETE", "/api/people/batch", json={"ids": [created, "x", 1]})
    assert response.status_code == 200, response.text
    deleted = response.json()["data"]
    assert (deleted["successful"], deleted["failed"]) == (1, 2)
    assert [(e["id"], e["code"]) for e in deleted["errors"]] == [("x", "RESOURCE_NOT_FOUND"), (1, "PINNED")]
    again = client.request("DELETE", "/api/people/batch", json={"ids": [created]}).json()["data"]
    assert again["errors"] == [{"index": 0, "id": created, "message": "resource not found",
                                "code": "RESOURCE_NOT_FOUND"}]


def test_base_controller_answers_501_options_and_head(setup: tuple[TestClient, Guard, SQLiteRepository]) -> None:
    client, _, _ = setup
    assert client.get("/api/stubs").status_code == 501
    assert client.get("/api/stubs").json()["error"]["code"] == "NOT_IMPLEMENTED"
    options = client.options("/api/stubs/3")
    assert options.status_code == 204 and "PATCH" in options.headers["allow"]
    assert client.options("/api/stubs").headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.head("/api/stubs").status_code == 200
    assert client.post("/api/stubs/batch", json={}).status_code in (404, 405)


def test_resource_spec_must_name_columns(tmp_path: Path) -> None:
    repo = SQLiteRepository(tmp_path / "x.db", PEOPLE)
    try:
        with pytest.raises(ValueError, match="password"):
            DBResourceController(ResourceSpec("people", sorts=("password",)), repo)
    finally:
        repo._db.close()
