"""examples/with_rest as a user runs it: users CRUD on SQLite through x/rest (paging, sort, search, filters, soft
delete, batch, duplicates), items with per-field 422, the served OpenAPI document (valid, and schemathesis finds no
server error and no answer that breaks it), PostgreSQL as the backend, and plumego-lint in service mode."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from example_server import REPO, call
from example_server import serve as serve_example
from openapi_spec_validator import validate
from spec_fuzz import fuzz

EXAMPLE = REPO / "examples" / "with_rest"


def send(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def exercise_users(url: str) -> None:
    users = url + "/api/users"
    status, body = call(users, {"name": "Ada", "email": "ADA@example.com", "age": 36})
    assert status == 201 and body["data"]["email"] == "ada@example.com"
    ada = body["data"]["id"]
    for i, age in enumerate((20, 50, None)):
        assert call(users, {"name": f"user{i}", "email": f"u{i}@example.com", "age": age})[0] == 201
    status, body = call(users + "?sort=-age&page_size=2")
    assert [u["age"] for u in body["data"]] == [50, 36]
    assert body["meta"]["pagination"]["total_items"] == 4 and body["meta"]["pagination"]["has_next"] is True
    assert [u["name"] for u in call(users + "?q=ADA")[1]["data"]] == ["Ada"]
    assert [u["name"] for u in call(users + "?age=20")[1]["data"]] == ["user0"]
    assert call(users + "?sort=password")[0] == 400
    assert call(users + "?email=x%27%20OR%20%271%27=%271")[1]["data"] == []
    dup = call(users, {"name": "Twin", "email": "ada@EXAMPLE.com"})
    assert dup[0] == 409 and dup[1]["error"]["details"] == {"field": "email"}
    bad = call(users, {"name": 5, "age": "x"})
    assert bad[0] == 422 and {f["path"] for f in bad[1]["error"]["details"]["fields"]} == {"name", "age", "email"}
    assert send("PATCH", f"{users}/{ada}", {"age": 37})[1]["data"]["age"] == 37
    assert send("DELETE", f"{users}/{ada}")[0] == 204
    assert call(f"{users}/{ada}")[0] == 404
    status, body = call(users + "/batch", {"items": [{"name": "b1", "email": "b1@example.com"}, {"name": "b2"}]})
    assert (body["data"]["successful"], body["data"]["failed"]) == (1, 1)


def test_users_items_and_the_document(tmp_path: Path) -> None:
    with serve_example("examples.with_rest", "--data-dir", str(tmp_path)) as url:
        assert call(url + "/healthz") == (200, {"status": "ok"})
        exercise_users(url)
        status, body = call(url + "/api/items", {"name": "pen", "sku": "ABC-1234", "quantity": 3,
                                                 "unit_price": 1.5, "tags": ["office"]})
        assert status == 201 and body["total"] == 4.5
        status, body = call(url + "/api/items", {"name": "", "sku": "abc", "quantity": 0, "unit_price": "1",
                                                 "currency": "GBP", "extra": True})
        assert status == 422
        assert {f["path"]: f["reason"] for f in body["error"]["details"]["fields"]} == {
            "name": "must have at least 1 characters", "sku": "must match [A-Z]{3}-[0-9]{4}",
            "quantity": "must be >= 1", "unit_price": "expected number, got string",
            "currency": "must be one of 'EUR', 'USD', 'CNY'", "extra": "unknown field"}
        assert call(url + "/api/items", raw=b'{"name": ')[0] == 400
        assert call(url + "/api/quote?sku=ABC-1234&quantity=4")[1]["total"] == 10.0
        status, body = call(url + "/api/quote?sku=abc&quantity=0&currency=GBP&x=1")
        assert status == 422 and {f["path"] for f in body["error"]["details"]["fields"]} == {"x"}
        status, body = call(url + "/api/quote?sku=abc&quantity=0&currency=GBP")
        assert {f["path"] for f in body["error"]["details"]["fields"]} == {"sku", "quantity", "currency"}
        assert call(url + "/api/items", raw=b"[" * 50_000)[0] == 400
        assert call(url + "/api/items", raw=b'{"name": "' + b"x" * 70_000 + b'"}')[0] == 413
        with urllib.request.urlopen(url + "/openapi.json", timeout=30) as response:
            document = json.loads(response.read())
        validate(document)
        assert document["paths"]["/api/items"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/NewItem"}
        assert "/api/users/{id}" in document["paths"] and "/openapi.json" not in document["paths"]
        made = fuzz(schemathesis.openapi.from_dict(document), base_url=url, max_examples=6)
        assert made >= 100


@pytest.mark.services
def test_users_on_postgresql(pg_schema: tuple[str, str]) -> None:
    base, schema = pg_schema
    backend = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    with serve_example("examples.with_rest", "--backend", backend) as url:
        exercise_users(url)


def test_a_bad_backend_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "examples.with_rest", "--port", "0", "--backend", "redis://x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--backend" in proc.stderr


def test_plumego_lint_service_mode(tmp_path: Path) -> None:
    lint = [sys.executable, "-m", "plumego_lint", "check"]
    ok = subprocess.run(lint, cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "with_rest"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".plumego-lint-cache"))
    app = copy / "app.py"
    planted = "from .adapters.docs import APIDocs\nfrom plumego.x.validate import bind"
    app.write_text(app.read_text().replace("from .adapters.docs import APIDocs", planted))
    bad = subprocess.run(lint, cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "PLG301" in bad.stdout
