"""x/openapi: documents inferred from routes and handler types pass openapi-spec-validator; schemas for
dataclasses, TypedDicts, pydantic, msgspec, enums, literals, unions and Rule limits; hints override; JSON and
YAML agree; the spec/docs routes and the `plumego openapi` command."""

from __future__ import annotations

import enum
import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import msgspec
import pydantic
import pytest
import yaml
from openapi_spec_validator import validate

from plumego.contract import JSONResponse, Request
from plumego.core import App, TestClient
from plumego.core.cli import main as plumego_main
from plumego.router import Router
from plumego.x.openapi import Hint, envelope, generate, paginated, register_openapi, to_json, to_yaml
from plumego.x.validate import Rule, validated


class Size(enum.Enum):
    S = "s"
    L = "l"


@dataclass
class NewThing:
    """A thing to create."""

    name: Annotated[str, Rule(min_length=1, max_length=20, pattern="[a-z]+")]
    size: Size = Size.S
    tags: list[str] = field(default_factory=list)
    weight: Annotated[float, Rule(ge=0)] | None = None


@dataclass
class Thing:
    id: int
    name: str
    kind: Literal["thing"]
    parent: Thing | None = None


class Filter(TypedDict):
    owner: str
    limit: NotRequired[int]


class PModel(pydantic.BaseModel):
    a: int
    nested: list[NewThing] = []


class MStruct(msgspec.Struct):
    b: dict[str, int]


def build() -> App:
    app = App()

    @validated
    async def create(request: Request, body: NewThing) -> Thing:
        """Create a thing.

        It is stored forever."""
        return Thing(1, body.name, "thing")

    async def show(request: Request) -> Thing:
        return Thing(int(request.param("id")), "x", "thing")

    async def remove(request: Request) -> None:
        return None

    async def text(request: Request) -> str:
        return "hi"

    async def raw(request: Request) -> JSONResponse:
        return JSONResponse({})

    @validated
    async def pyd(request: Request, body: PModel) -> dict[str, Any]:
        return body.model_dump()

    @validated
    async def mss(request: Request, body: MStruct) -> list[int]:
        return list(body.b.values())

    async def files(request: Request) -> bytes:
        return b""

    app.post("/things", create, name="things.create", tags=("things",))
    app.get("/things/:id", show, name="things.show")
    app.delete("/things/:id", remove)
    app.get("/hello", text)
    app.get("/raw", raw)
    app.post("/pydantic", pyd)
    app.post("/msgspec", mss)
    app.get("/files/*path", files)
    app.any("/anything", raw)
    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    doc = generate(build(), title="Things", version="2.0.0", hints={
        "things.show": Hint(path={"id": int}, query=Filter, responses={200: envelope(Thing), 404: None}),
        "GET /raw": {"summary": "raw answer", "responses": {200: paginated(Thing)}},
    })
    validate(doc)
    return doc


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Things", "version": "2.0.0"}
    assert set(document["paths"]) == {"/things", "/things/{id}", "/hello", "/raw", "/pydantic", "/msgspec",
                                      "/files/{path}"}  # ANY routes are not operations


def test_request_and_response_schemas_come_from_type_hints(document: dict[str, Any]) -> None:
    create = document["paths"]["/things"]["post"]
    assert create["operationId"] == "things_create" and create["tags"] == ["things"]
    assert (create["summary"], create["description"]) == ("Create a thing.", "It is stored forever.")
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewThing"}
    assert create["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Thing"}
    assert create["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    schemas = document["components"]["schemas"]
    new = schemas["NewThing"]
    assert new["required"] == ["name"] and new["additionalProperties"] is False
    assert new["description"] == "A thing to create."
    assert new["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "[a-z]+"}
    assert new["properties"]["size"] == {"enum": ["s", "l"]}
    assert new["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert new["properties"]["weight"] == {"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]}
    thing = schemas["Thing"]
    assert thing["properties"]["kind"] == {"const": "thing"}
    assert thing["properties"]["parent"] == {"anyOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "null"}]}
    assert schemas["Error"]["required"] == ["error"]


def test_status_and_media_types_from_return_annotations(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths["/things/{id}"]["delete"]["responses"]) == {"204", "default"}
    assert paths["/hello"]["get"]["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert "application/octet-stream" in paths["/files/{path}"]["get"]["responses"]["200"]["content"]
    assert paths["/files/{path}"]["get"]["parameters"][0]["name"] == "path"


def test_library_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["PModel"]["properties"]["a"]["type"] == "integer"
    assert "MStruct" in schemas and schemas["MStruct"]["properties"]["b"]["type"] == "object"
    body = document["paths"]["/msgspec"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/MStruct"}


def test_hints_override_by_name_and_by_method_path(document: dict[str, Any]) -> None:
    show = document["paths"]["/things/{id}"]["get"]
    params = {p["name"]: p for p in show["parameters"]}
    assert params["id"] == {"name": "id", "in": "path", "required": True, "schema": {"type": "integer",
                                                                                  "format": "int64"}}
    assert params["owner"]["required"] is True and params["limit"]["required"] is False
    data = show["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
    assert data == {"$ref": "#/components/schemas/Thing"}
    assert show["responses"]["404"] == {"description": "Not Found"}
    raw = document["paths"]["/raw"]["get"]
    assert raw["summary"] == "raw answer"
    listing = raw["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing["properties"]["data"]["items"] == {"$ref": "#/components/schemas/Thing"}
    with pytest.raises(ValueError, match="unknown hint keys"):
        Hint.of({"sumary": "typo"})


def test_handler_attached_hints_and_exclusion() -> None:
    router = Router()

    async def hidden(request: Request) -> dict[str, Any]:
        return {}

    async def described(request: Request) -> dict[str, Any]:
        return {}

    hidden.__openapi__ = Hint(exclude=True)  # type: ignore[attr-defined]
    described.__openapi__ = {"summary": "from the handler"}  # type: ignore[attr-defined]
    router.get("/hidden", hidden)
    router.get("/described", described)
    router.get("/internal/x", described)
    doc = generate(router, exclude=("/internal",))
    assert list(doc["paths"]) == ["/described"]
    assert doc["paths"]["/described"]["get"]["summary"] == "from the handler"
    with pytest.raises(TypeError):
        generate(object())


def test_yaml_and_json_say_the_same(document: dict[str, Any]) -> None:
    assert yaml.safe_load(to_yaml(document)) == document == json.loads(to_json(document))


def test_spec_and_docs_routes() -> None:
    app = build()
    register_openapi(app.router, title="Things", version="1.0.0")
    client = TestClient(app)
    served = client.get("/openapi.json")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/json")
    doc = served.json()
    validate(doc)
    assert "/openapi.json" not in doc["paths"] and "/docs" not in doc["paths"]
    assert yaml.safe_load(client.get("/openapi.yaml").text) == doc
    page = client.get("/docs")
    assert page.headers["content-type"].startswith("text/html") and '"/openapi.json"' in page.text


def test_the_plumego_openapi_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "svc_openapi_cli.py").write_text(textwrap.dedent("""
        from plumego.core import App
        from plumego.contract import Request

        def build_app() -> App:
            app = App()

            async def ping(request: Request) -> dict[str, str]:
                return {"pong": "yes"}

            app.get("/ping", ping, name="ping")
            return app

        app = build_app()
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plumego_main(["openapi", "svc_openapi_cli:app", "--title", "Svc"]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate(doc)
    assert doc["info"]["title"] == "Svc" and "/ping" in doc["paths"]
    out = tmp_path / "spec.yaml"
    assert plumego_main(["openapi", "svc_openapi_cli:build_app", "--format", "yaml", "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["paths"]["/ping"]["get"]["operationId"] == "ping"
    assert plumego_main(["openapi", "no_such_module_xyz:app"]) == 2
    assert "cannot import" in capsys.readouterr().err
    sys.modules.pop("svc_openapi_cli", None)


def test_handlers_returning_responses_are_documented_as_any_success() -> None:
    from plumego.contract import ResponseApp

    router = Router()

    async def opaque(request: Request) -> ResponseApp:
        return JSONResponse({}, status=201)

    async def plain(request: Request) -> JSONResponse:
        return JSONResponse({})

    router.post("/opaque", opaque)
    router.post("/plain", plain)
    doc = generate(router)
    for path in ("/opaque", "/plain"):
        assert set(doc["paths"][path]["post"]["responses"]) == {"2XX", "default"}


@dataclass
class Paging:
    limit: Annotated[int, Rule(ge=1, le=100)] = 20
    q: str | None = None
    ids: list[int] = field(default_factory=list)


@dataclass
class ThingPath:
    id: int


def test_query_and_path_parameters_from_validated_handlers() -> None:
    router = Router()

    @validated
    async def replace(request: Request, path: ThingPath, query: Paging, body: NewThing) -> Thing:
        return Thing(path.id, body.name, "thing")

    router.put("/things/:id", replace)
    doc = generate(router)
    validate(doc)
    operation = doc["paths"]["/things/{id}"]["put"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["id"]["schema"] == {"type": "integer", "format": "int64"} and params["id"]["in"] == "path"
    assert params["limit"] == {"name": "limit", "in": "query", "required": False,
                               "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 100}}
    assert params["q"]["schema"] == {"type": "string"}
    assert params["ids"]["schema"] == {"type": "array", "items": {"type": "integer", "format": "int64"}}
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewThing"}
