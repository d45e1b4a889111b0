"""Router.endpoints(): each route with what was registered for it (tools such as x/openapi read handler types)."""

from __future__ import annotations

from plumego.contract import Receive, Request, Scope, Send
from plumego.router import Router


async def show(request: Request) -> dict[str, str]:
    return {}


async def raw(scope: Scope, receive: Receive, send: Send) -> None:
    return None


def test_endpoints_give_the_registered_handler_or_app() -> None:
    router = Router()
    router.get("/items/:id", show, name="items.show", middleware=[lambda app: app])
    router.add_asgi_route("POST", "/raw", raw)
    router.group("/v1").get("/items/:id", show)
    found = {(info.method, info.path): endpoint for info, endpoint in router.endpoints()}
    assert found == {("GET", "/items/:id"): show, ("POST", "/raw"): raw, ("GET", "/v1/items/:id"): show}
    assert [info.path for info, _ in router.endpoints()] == [info.path for info in router.routes()]
