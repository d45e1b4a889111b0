"""Handler return values: plain values become responses (JSON, text, bytes, 204), annotations that can never
become one are refused when the route is registered, and a Response passes through untouched."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Literal, NewType, Optional, TypedDict, Union

import pytest

from plumego.contract import HandlerApp, JSONResponse, Request, Response, ResponseApp
from plumego.core import App
from plumego.router import RouteError

from .asgi_driver import call, http_scope


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Shape:
    name: str
    points: list[Point]
    kind: Color | None = None


class Color(enum.Enum):
    RED = "red"


class Movie(TypedDict):
    title: str


async def run(handler: Any, method: str = "GET") -> Any:
    return await call(HandlerApp(handler), http_scope(method))


async def test_dict_list_and_dataclass_become_plain_json() -> None:
    async def as_dict(request: Request) -> dict[str, Any]:
        return {"hello": "<world>", "n": 1}

    async def as_list(request: Request) -> list[int]:
        return [1, 2, 3]

    def as_dataclass(request: Request) -> Shape:  # sync handlers too
        return Shape("tri", [Point(0, 0), Point(1, 2)], Color.RED)

    res = await run(as_dict)
    assert res.status == 200 and res.header("content-type") == "application/json"
    assert res.body == b'{"hello":"\\u003cworld\\u003e","n":1}'  # the same Go-style escaping as JSONResponse
    assert (await run(as_list)).body == b"[1,2,3]"
    res = await run(as_dataclass)
    assert res.body == b'{"name":"tri","points":[{"x":0,"y":0},{"x":1,"y":2}],"kind":"red"}'
    assert res.header("content-length") == str(len(res.body))


async def test_str_bytes_and_none() -> None:
    async def text(request: Request) -> str:
        return "héllo"

    async def octets(request: Request) -> bytes:
        return b"\x00\x01"

    async def nothing(request: Request) -> None:
        return None

    res = await run(text)
    assert (res.status, res.body, res.header("content-type")) == (200, "héllo".encode(), "text/plain; charset=utf-8")
    res = await run(octets)
    assert (res.status, res.body, res.header("content-type")) == (200, b"\x00\x01", "application/octet-stream")
    res = await run(nothing)
    assert (res.status, res.body, res.header("content-length")) == (204, b"", None)
    assert (await run(text, "HEAD")).body == b""


async def test_unannotated_and_any_handlers_convert_by_value() -> None:
    async def untyped(request):  # type: ignore[no-untyped-def]
        return {"a": 1} if request.path == "/" else "x"

    async def anything(request: Request) -> Any:
        return [datetime.date(2026, 1, 2)]

    assert (await run(untyped)).body == b'{"a":1}'
    assert (await run(anything)).body == b'["2026-01-02"]'



async def test_a_value_that_cannot_be_converted_names_the_handler() -> None:
    async def weird(request: Request) -> Any:
        return {1, 2}

    with pytest.raises(TypeError, match="handler .*weird.* returned set"):
        await run(weird)


async def test_a_response_passes_through_and_a_lying_annotation_is_caught() -> None:
    sentinel = JSONResponse({"ok": True}, status=201)

    async def good(request: Request) -> Response:
        return sentinel

    async def liar(request: Request) -> Response:
        return {"ok": True}  # type: ignore[return-value]

    assert HandlerApp(good).returns_app
    assert (await run(good)).status == 201
    with pytest.raises(TypeError, match="expected a Response"):
        await run(liar)


@pytest.mark.parametrize(
    "annotation",
    [
        Response, JSONResponse, ResponseApp, dict, dict[str, int], list[Point], tuple[int, str], Mapping[str, Any],
        Sequence[int], Point, Movie, str, bytes, None, int, float, bool, Any, Optional[dict[str, Any]],
        Union[str, bytes], "dict[str, int] | None", Awaitable[Response], Literal["a", "b"], NewType("UserId", str),
    ],
)
def test_convertible_annotations_are_accepted(annotation: Any) -> None:
    async def handler(request: Request) -> None:
        return None

    handler.__annotations__ = {"request": Request, "return": annotation}
    app = App()
    app.get("/", handler)
    assert [route.path for route in app.routes()] == ["/"]
    responses = (Response, JSONResponse, ResponseApp, Awaitable[Response])
    assert HandlerApp(handler).returns_app is any(annotation == kind for kind in responses)


class NotAResponse:
    pass


@pytest.mark.parametrize(
    "annotation", [set, set[int], frozenset[str], NotAResponse, Union[Point, NotAResponse], "NotAResponse | None"]
)
def test_annotations_that_can_never_be_a_response_are_refused_at_registration(annotation: Any) -> None:
    def handler(request: Request) -> None:
        return None

    handler.__annotations__ = {"request": Request, "return": annotation}
    app = App()
    with pytest.raises(RouteError, match="router add_route GET /things: handler .*handler.* cannot turn into"):
        app.get("/things", handler)
    with pytest.raises(RouteError):
        app.group("/v1").post("/things", handler)


def test_unresolvable_annotations_are_decided_at_run_time() -> None:
    def handler(request: Request) -> None:
        return None

    handler.__annotations__ = {"return": "ImportedOnlyForTypeChecking"}
    assert not HandlerApp(handler).returns_app


async def test_callable_objects_and_methods_are_classified_by_their_call() -> None:
    class Endpoint:
        async def __call__(self, request: Request) -> dict[str, str]:
            return {"via": "object"}

    class Handlers:
        def __init__(self) -> None:
            self.greeting = "hi"

        async def hello(self, request: Request) -> str:
            return self.greeting

    assert (await run(Endpoint())).body == b'{"via":"object"}'
    assert (await run(Handlers().hello)).body == b"hi"


def test_go_json_encodes_read_only_mappings_and_dates() -> None:
    from types import MappingProxyType

    from plumego.contract import go_json

    claims = MappingProxyType({"sub": "u", "nested": MappingProxyType({"a": (1, 2)})})
    assert go_json(claims) == '{"sub":"u","nested":{"a":[1,2]}}'
    assert go_json({"at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)}) == (
        '{"at":"2026-01-02T03:04:05+00:00"}'
    )
    assert go_json([Color.RED, frozenset({"x"})]) == '["red",["x"]]'
