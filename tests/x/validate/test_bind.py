"""x/validate: bind() over real requests through an App: typed success, 400 for malformed JSON, 413 for oversized
bodies, 422 VALIDATION_ERROR with one {path, reason} per field, and hostile bodies answered, never a 500."""

from __future__ import annotations

import datetime
import enum
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import msgspec
import pydantic
import pytest

from plumego.contract import Request
from plumego.core import App, TestClient
from plumego.x.validate import (
    MAX_FIELD_ERRORS,
    FieldError,
    Rule,
    UnsupportedType,
    ValidationError,
    bind,
    convert,
    decode,
    validated,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Line:
    sku: Annotated[str, Rule(pattern=r"[A-Z]{3}-[0-9]+")]
    qty: Annotated[int, Rule(ge=1, le=1000)]


@dataclass
class Order:
    customer: Annotated[str, Rule(min_length=1, max_length=40)]
    lines: Annotated[list[Line], Rule(min_length=1)]
    color: Color = Color.RED
    note: str | None = None
    priority: Literal["low", "high"] = "low"
    placed: datetime.date | None = None
    ref: uuid.UUID | None = None
    attrs: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.priority == "high" and self.note is None:
            raise ValueError("a high-priority order needs a note")


class Patch(TypedDict):
    name: str
    age: NotRequired[int]


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


class PModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    age: int


class MStruct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    age: int


def make_app() -> App:
    app = App()

    async def order(request: Request) -> dict[str, Any]:
        value = await bind(request, Order)
        return {"customer": value.customer, "lines": len(value.lines), "color": value.color.value}

    async def patch(request: Request) -> dict[str, Any]:
        return dict(await bind(request, Patch))

    async def tree(request: Request) -> dict[str, Any]:
        value = await bind(request, Tree)
        return {"value": value.value, "children": len(value.children)}

    async def loose(request: Request) -> dict[str, Any]:
        value = await bind(request, Patch, extra="ignore")
        return dict(value)

    async def small(request: Request) -> dict[str, Any]:
        return {"n": len(await bind(request, list[int], max_body=64))}

    async def pyd(request: Request) -> dict[str, Any]:
        return (await bind(request, PModel)).model_dump()

    async def mss(request: Request) -> dict[str, Any]:
        value = await bind(request, MStruct)
        return {"name": value.name, "age": value.age}

    def no_minors(value: Patch) -> list[FieldError]:
        return [FieldError("age", "must be 18 or over")] if value.get("age", 18) < 18 else []

    async def adult(request: Request) -> dict[str, Any]:
        return dict(await bind(request, Patch, check=no_minors))

    @validated
    async def typed(request: Request, body: Line) -> Line:
        return body

    for path, handler in (("/order", order), ("/patch", patch), ("/tree", tree), ("/loose", loose),
                          ("/small", small), ("/pydantic", pyd), ("/msgspec", mss), ("/adult", adult),
                          ("/typed", typed)):
        app.post(path, handler)
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def fields(response: Any) -> dict[str, str]:
    body = response.json()
    assert response.status_code == 422, body
    error = body["error"]
    assert (error["code"], error["type"], error["category"]) == (
        "VALIDATION_ERROR", "validation_failure", "validation_error")
    return {f["path"]: f["reason"] for f in error["details"]["fields"]}


GOOD = {"customer": "ada", "lines": [{"sku": "ABC-1", "qty": 2}], "color": "blue", "placed": "2026-01-31",
        "ref": "12345678-1234-5678-1234-567812345678", "attrs": {"w": 1}}


def test_a_valid_body_binds_to_the_typed_value(client: TestClient) -> None:
    response = client.post("/order", json=GOOD)
    assert response.status_code == 200
    assert response.json() == {"customer": "ada", "lines": 1, "color": "blue"}


def test_every_failing_field_is_reported_once_with_its_path(client: TestClient) -> None:
    body = {"customer": "", "lines": [{"sku": "abc", "qty": 0}, {"sku": "ABC-2", "qty": "3"}, {"qty": 1.5}],
            "color": "green", "priority": "urgent", "placed": "31/01/2026", "attrs": {"w": "x"}, "extra": 1}
    assert fields(client.post("/order", json=body)) == {
        "customer": "must have at least 1 characters",
        "lines[0].sku": "must match [A-Z]{3}-[0-9]+",
        "lines[0].qty": "must be >= 1",
        "lines[1].qty": "expected integer, got string",
        "lines[2].sku": "field is required",
        "lines[2].qty": "expected integer, got number",
        "color": "must be one of 'red', 'blue'",
        "priority": "must be one of 'low', 'high'",
        "placed": "expected an ISO 8601 date",
        "attrs.w": "expected number, got string",
        "extra": "unknown field",
    }


def test_strict_json_types(client: TestClient) -> None:
    assert fields(client.post("/patch", json={"name": 1, "age": True})) == {
        "name": "expected string, got integer", "age": "expected integer, got boolean"}
    assert fields(client.post("/patch", json=["name"])) == {"": "expected object (Patch), got array"}
    assert client.post("/patch", json={"name": "x"}).json() == {"name": "x"}


def test_post_init_value_errors_are_422(client: TestClient) -> None:
    body = {**GOOD, "priority": "high"}
    assert fields(client.post("/order", json=body)) == {"": "a high-priority order needs a note"}


def test_extra_fields_can_be_ignored(client: TestClient) -> None:
    assert client.post("/loose", json={"name": "x", "zzz": 1}).json() == {"name": "x"}


def test_a_check_adds_field_errors(client: TestClient) -> None:
    assert fields(client.post("/adult", json={"name": "x", "age": 12})) == {"age": "must be 18 or over"}
    assert client.post("/adult", json={"name": "x", "age": 30}).status_code == 200


@pytest.mark.parametrize("raw", [b"{", b"", b"   ", b"\xff\xfe{}", b'{"name": NaN}', b"\xef\xbb\xbf{}"])
def test_malformed_json_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/patch", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_JSON"


def test_hostile_numbers(client: TestClient) -> None:
    huge = b'{"name": "x", "age": ' + b"9" * 30 + b"}"
    assert fields(client.post("/patch", content=huge)) == {"age": "integer out of range (64-bit)"}
    longer = b'{"name": "x", "age": ' + b"9" * 5000 + b"}"
    assert client.post("/patch", content=longer).status_code == 400
    overflow = b'{"customer":"a","lines":[{"sku":"ABC-1","qty":1}],"attrs":{"w":1e999}}'
    assert client.post("/order", content=overflow).status_code == 400


def test_deep_nesting_is_refused_not_crashed(client: TestClient) -> None:
    deep = b'{"value":1,"children":[' * 3000 + b'{"value":1}' + b"]}" * 3000
    response = client.post("/tree", content=deep)
    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] in ("INVALID_JSON", "VALIDATION_ERROR")
    arrays = b"[" * 100_000 + b"]" * 100_000
    assert client.post("/patch", content=arrays).status_code == 400
    shallow = b'{"value":1,"children":[{"value":2,"children":[{"value":3}]}]}'
    assert client.post("/tree", content=shallow).json() == {"value": 1, "children": 1}


def test_many_bad_fields_are_capped(client: TestClient) -> None:
    body = {"name": "x", **{f"k{i}": i for i in range(500)}}
    response = client.post("/patch", json=body)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert len(details["fields"]) == MAX_FIELD_ERRORS and details["truncated"] is True


def test_oversized_body_is_413_before_parsing(client: TestClient) -> None:
    assert client.post("/small", json=list(range(5))).json() == {"n": 5}
    response = client.post("/small", json=list(range(100)))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "REQUEST_BODY_TOO_LARGE"


def test_pydantic_adapter_reports_fields_and_malformed_json(client: TestClient) -> None:
    assert client.post("/pydantic", json={"name": "a", "age": 3}).json() == {"name": "a", "age": 3}
    got = fields(client.post("/pydantic", json={"name": 1, "age": "x", "zzz": 0}))
    assert set(got) == {"name", "age", "zzz"}
    response = client.post("/pydantic", content=b'{"name":')
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_JSON")


def test_msgspec_adapter_reports_the_first_field_and_malformed_json(client: TestClient) -> None:
    assert client.post("/msgspec", json={"name": "a", "age": 3}).json() == {"name": "a", "age": 3}
    assert fields(client.post("/msgspec", json={"name": "a", "age": "x"})) == {"age": "Expected `int`, got `str`"}
    response = client.post("/msgspec", content=b'{"name":')
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_JSON")


def test_validated_handler_binds_its_body_parameter(client: TestClient) -> None:
    assert client.post("/typed", json={"sku": "ABC-1", "qty": 3}).json() == {"sku": "ABC-1", "qty": 3}
    assert fields(client.post("/typed", json={"sku": "ABC-1"})) == {"qty": "field is required"}


def test_unsupported_annotations_fail_at_compile_time() -> None:
    @dataclass
    class Bad:
        blob: bytes

    with pytest.raises(UnsupportedType, match="Bad.blob"):
        decode(b"{}", Bad)
    with pytest.raises(UnsupportedType, match="keys"):
        convert({}, dict[int, str])

    async def two(request: Request, body: bytes) -> None:
        return None

    with pytest.raises(UnsupportedType):
        validated(two)


def test_convert_and_plain_types() -> None:
    assert convert([1, 2], tuple[int, ...]) == (1, 2)
    assert convert(["a", 1], tuple[str, int]) == ("a", 1)
    assert convert(1, float) == 1.0 and isinstance(convert(1, float), float)
    assert convert(None, int | None) is None
    assert convert({"a": [1]}, dict[str, list[int]]) == {"a": [1]}
    with pytest.raises(ValidationError) as caught:
        convert([1, "x"], list[int | None])
    assert [f.path for f in caught.value.fields] == ["[1]"]
    assert caught.value.status == 422


@dataclass
class Search:
    q: Annotated[str, Rule(max_length=20)] = ""
    limit: Annotated[int, Rule(ge=1, le=100)] = 20
    exact: bool = False
    size: Color | None = None
    ids: list[int] = field(default_factory=list)


@dataclass
class ItemPath:
    id: Annotated[int, Rule(ge=1)]


def params_app() -> TestClient:
    app = App()

    @validated
    async def search(request: Request, query: Search) -> dict[str, Any]:
        return {"q": query.q, "limit": query.limit, "exact": query.exact,
                "size": query.size.value if query.size else None, "ids": query.ids}

    @validated
    async def update(request: Request, path: ItemPath, body: Line, query: Search) -> dict[str, Any]:
        return {"id": path.id, "sku": body.sku, "limit": query.limit}

    app.get("/search", search)
    app.put("/items/:id", update)
    return TestClient(app)


def test_query_parameters_bind_with_types_and_rules() -> None:
    client = params_app()
    assert client.get("/search?q=pen&limit=5&exact=true&size=blue&ids=1&ids=2").json() == {
        "q": "pen", "limit": 5, "exact": True, "size": "blue", "ids": [1, 2]}
    assert client.get("/search").json()["limit"] == 20
    # parse failures and unknown keys are reported together; type and rule checks follow once all parsed
    bad = client.get("/search?limit=0&exact=yes&size=xl&ids=a&nope=1&q=" + "x" * 30)
    assert fields(bad) == {"exact": "expected true or false", "ids": "expected an integer", "nope": "unknown parameter"}
    assert fields(client.get("/search?limit=0")) == {"limit": "must be >= 1"}
    assert fields(client.get("/search?size=xl&q=" + "x" * 30)) == {
        "size": "must be one of 'red', 'blue'", "q": "must have at most 20 characters"}
    assert fields(client.get("/search?limit=1&limit=2")) == {"limit": "given more than once"}
    assert fields(client.get("/search?limit=99999999999999999999")) == {"limit": "integer out of range (64-bit)"}


def test_path_query_and_body_bind_together() -> None:
    client = params_app()
    assert client.put("/items/7?limit=3", json={"sku": "ABC-1", "qty": 1}).json() == {
        "id": 7, "sku": "ABC-1", "limit": 3}
    assert fields(client.put("/items/0", json={"sku": "ABC-1", "qty": 1})) == {"id": "must be >= 1"}
    assert fields(client.put("/items/x", json={"sku": "ABC-1", "qty": 1})) == {"id": "expected an integer"}


@dataclass
class Nested:
    inner: Line


def test_parameter_types_are_checked_at_registration() -> None:
    async def handler(request: Request, query: Nested) -> None:
        return None

    with pytest.raises(UnsupportedType, match="Nested.inner"):
        validated(handler)
