"""ResourceController and its route table: Go's 12 resource routes (CRUD, HEAD, OPTIONS, batch) on a router.

Owns the :class:`ResourceController` protocol, :class:`BaseResourceController` (501 everywhere except OPTIONS 204
with ``Allow`` and HEAD 200, as in Go), :class:`RouteOptions` and :func:`register_resource_routes`, which names
every route ``<name>.<action>`` so x/openapi hints and reverse URLs can find them. Imports the standard library,
plumego.contract and plumego.router.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

from plumego.contract import APIError, ErrorType, Request, Response
from plumego.router import RouteGroup, RouteInfo, Router

__all__ = ["BaseResourceController", "ResourceController", "RouteOptions", "register_resource_routes"]

COLLECTION_METHODS: Final = ("GET", "HEAD", "OPTIONS", "POST")
ITEM_METHODS: Final = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT")


class ResourceController(Protocol):
    """The handlers of one resource (Go ``ResourceController``)."""

    async def index(self, request: Request) -> Any: ...

    async def show(self, request: Request) -> Any: ...

    async def create(self, request: Request) -> Any: ...

    async def update(self, request: Request) -> Any: ...

    async def patch(self, request: Request) -> Any: ...

    async def delete(self, request: Request) -> Any: ...

    async def options(self, request: Request) -> Any: ...

    async def head(self, request: Request) -> Any: ...

    async def batch_create(self, request: Request) -> Any: ...

    async def batch_delete(self, request: Request) -> Any: ...


def _not_implemented(action: str) -> APIError:
    return APIError(ErrorType.NOT_IMPLEMENTED, f"{action} is not implemented for this resource")


def allow_headers(request: Request) -> dict[str, str]:
    methods = ", ".join(ITEM_METHODS if request.path_params.get("id") else COLLECTION_METHODS)
    return {"Allow": methods, "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Request-ID"}


class BaseResourceController:
    """Answers 501 ``NOT_IMPLEMENTED`` for every action but OPTIONS (204 + ``Allow``) and HEAD (200); subclass
    and override what the resource supports."""

    async def index(self, request: Request) -> Any:
        raise _not_implemented("index")

    async def show(self, request: Request) -> Any:
        raise _not_implemented("show")

    async def create(self, request: Request) -> Any:
        raise _not_implemented("create")

    async def update(self, request: Request) -> Any:
        raise _not_implemented("update")

    async def patch(self, request: Request) -> Any:
        raise _not_implemented("patch")

    async def delete(self, request: Request) -> Any:
        raise _not_implemented("delete")

    async def batch_create(self, request: Request) -> Any:
        raise _not_implemented("batch create")

    async def batch_delete(self, request: Request) -> Any:
        raise _not_implemented("batch delete")

    async def options(self, request: Request) -> Response:
        return Response(b"", 204, headers=allow_headers(request))

    async def head(self, request: Request) -> Response:
        return Response(b"", 200)


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """Which optional routes to register (all on by default, like Go's ``DefaultRouteOptions``)."""

    batch: bool = True
    head: bool = True
    options: bool = True


def register_resource_routes(router: Router | RouteGroup, prefix: str, controller: ResourceController, *,
                             name: str = "", options: RouteOptions = RouteOptions()) -> list[RouteInfo]:
    """Register the resource routes under ``prefix``; ``name`` (default: the last prefix segment) names them
    ``<name>.index``, ``<name>.show``, ... The 12 routes (all options on)::

        GET/POST/HEAD/OPTIONS  prefix            POST/DELETE  prefix/batch
        GET/PUT/PATCH/DELETE/HEAD/OPTIONS  prefix/:id
    """
    prefix = "/" + prefix.strip("/")
    base = name or prefix.rsplit("/", 1)[-1] or "resource"
    item = prefix + "/:id"
    table: list[tuple[str, str, str, Any]] = [
        ("GET", prefix, "index", controller.index),
        ("POST", prefix, "create", controller.create),
        ("GET", item, "show", controller.show),
        ("PUT", item, "update", controller.update),
        ("PATCH", item, "patch", controller.patch),
        ("DELETE", item, "delete", controller.delete),
    ]
    if options.batch:
        table += [("POST", prefix + "/batch", "batch_create", controller.batch_create),
                  ("DELETE", prefix + "/batch", "batch_delete", controller.batch_delete)]
    if options.head:
        table += [("HEAD", prefix, "head", controller.head), ("HEAD", item, "head_item", controller.head)]
    if options.options:
        table += [("OPTIONS", prefix, "options", controller.options),
                  ("OPTIONS", item, "options_item", controller.options)]
    return [router.add_route(method, path, handler, name=f"{base}.{action}", tags=(base,))
            for method, path, action, handler in table]
