"""The QueryBuilder's rules (paging caps, limit/offset, sort and filter allow lists, search fallback) and the
versioning middleware's four strategies."""

from __future__ import annotations

from typing import Any

import pytest

from plumego.contract import APIError, Request
from plumego.core import App, TestClient
from plumego.x.rest import QueryBuilder, SortField, VersionConfig, api_version, versioning


def parse(builder: QueryBuilder, **params: Any) -> Any:
    return builder.parse(params)


def test_paging_defaults_caps_and_limit_offset() -> None:
    b = QueryBuilder()
    q = b.parse({})
    assert (q.page, q.page_size, q.limit, q.offset) == (1, 20, 20, 0)
    q = parse(b, page="3", page_size="500")
    assert (q.page, q.page_size, q.offset) == (3, 100, 200)
    q = parse(b, limit="10", offset="35")
    assert (q.page, q.limit, q.offset) == (4, 10, 35)
    for bad in ({"page": "0"}, {"page": "-1"}, {"page_size": "0"}, {"limit": "x"}, {"offset": "-5"},
                {"page": "1e3"}, {"page": "99999999999999999999999"}):
        with pytest.raises(APIError) as caught:
            b.parse(bad)
        assert caught.value.code == "INVALID_QUERY" and caught.value.details["parameter"] in bad


def test_sort_search_fields_include_filters() -> None:
    b = QueryBuilder(sorts=("name", "age"), filters=("status",), fields=("name", "age"), includes=("owner",),
                     default_sort=(SortField("name"),))
    assert b.parse({}).sort == (SortField("name"),)
    q = parse(b, sort="-age, name", q="ada", fields="name", include="owner", status="open")
    assert q.sort == (SortField("age", True), SortField("name"))
    assert (q.search, q.fields, q.include, dict(q.filters)) == ("ada", ("name",), ("owner",), {"status": ("open",)})
    assert parse(b, search="x", q="y").search == "x"
    for bad in ({"sort": "email"}, {"sort": "name,name"}, {"status2": "x"}, {"fields": "secret"},
                {"include": "all"}, {"q": "x" * 500}):
        with pytest.raises(APIError):
            b.parse(bad)
    with pytest.raises(ValueError):
        QueryBuilder(filters=("page",))


def versioned(config: VersionConfig) -> TestClient:
    app = App()
    app.use(versioning(config))

    async def users(request: Request) -> dict[str, str]:
        return {"version": api_version(request), "path": request.path}

    app.get("/users", users)
    app.get("/videos", users)
    return TestClient(app)


def test_accept_header_strategy() -> None:
    client = versioned(VersionConfig(supported_versions=("1", "2")))
    assert client.get("/users").json()["version"] == "1"
    response = client.get("/users", headers={"accept": "application/vnd.api.v2+json"})
    assert response.json()["version"] == "2" and response.headers["x-api-version"] == "2"
    bad = client.get("/users", headers={"accept": "application/vnd.api.v9+json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unsupported_version"
    assert bad.json()["error"]["details"]["supported"] == ["1", "2"]


def test_path_strategy_strips_the_version() -> None:
    client = versioned(VersionConfig(strategy="path", supported_versions=("1", "2")))
    assert client.get("/v2/users").json() == {"version": "2", "path": "/users"}
    assert client.get("/users").json()["version"] == "1"
    assert client.get("/videos").json()["version"] == "1"      # "/v" + "ideos" is not a version
    assert client.get("/v3/users").status_code == 400


def test_query_and_header_strategies() -> None:
    query = versioned(VersionConfig(strategy="query", param_name="api", supported_versions=("1", "2")))
    assert query.get("/users?api=2").json()["version"] == "2"
    assert query.get("/users?api=%00").status_code == 400
    header = versioned(VersionConfig(strategy="header", header_name="X-Version", supported_versions=("1", "2")))
    assert header.get("/users", headers={"x-version": "2"}).json()["version"] == "2"
    assert header.get("/users", headers={"x-version": "2023-01-01"}).status_code == 400


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        VersionConfig(default_version="3")
    with pytest.raises(ValueError):
        VersionConfig(strategy="cookie")  # type: ignore[arg-type]
