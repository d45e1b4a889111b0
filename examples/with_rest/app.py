"""The with_rest service: routes and wiring. Imports plumego's stable roots, x/rest (beta) and this app's adapters."""

from __future__ import annotations

from typing import Any

from plumego.contract import JSONResponse, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, body_limit, recovery, request_id
from plumego.x.rest import DBResourceController, ResourceHooks, ResourceSpec, SortField, register_resource_routes

from .adapters.docs import APIDocs
from .adapters.validation import BodyBinder, NewItem, PricedItem, Quote
from .users import UsersRepository


class LowercaseEmails(ResourceHooks):
    """Stores e-mail addresses lower-cased, so the unique index sees one address one way."""

    async def before_create(self, request: Request, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "email": str(values["email"]).lower()}

    async def before_update(self, request: Request, record_id: int, values: dict[str, Any]) -> dict[str, Any]:
        if "email" in values:
            values = {**values, "email": str(values["email"]).lower()}
        return values


def build_app(users: UsersRepository, bodies: BodyBinder, docs: APIDocs, logger: StructuredLogger, *,
              host: str = "127.0.0.1", port: int = 8084) -> App:
    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.use(body_limit(1 << 20, logger=logger))     # batches included: no body over 1 MiB is read at all
    app.add_component("users", users)

    spec = ResourceSpec("users", sorts=("id", "name", "age", "created_at"), filters=("email", "age", "admin"),
                        default_sort=(SortField("id"),), hooks=LowercaseEmails(), max_batch=50)
    controller = DBResourceController(spec, users, logger=logger)
    register_resource_routes(app.router, "/api/users", controller, name="users")

    async def create_item(request: Request) -> JSONResponse:
        """Price an item: the body is checked field by field."""
        item = await bodies.bind(request, NewItem)
        total = round(item.quantity * item.unit_price, 2)
        priced = PricedItem(item.name, item.sku, item.quantity, item.currency, total, item.tags)
        return JSONResponse(priced, status=201)

    async def quote(request: Request) -> PricedItem:
        """Price a quantity of one SKU (every SKU costs 2.50 here): the query string is typed and checked."""
        asked = bodies.query(request, Quote)
        return PricedItem("quote", asked.sku, asked.quantity, asked.currency, round(asked.quantity * 2.5, 2), [])

    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok"}

    app.post("/api/items", create_item, name="items.create")
    app.get("/api/quote", quote, name="items.quote")
    app.get("/healthz", healthz, name="healthz")
    docs.serve(app.router, {
        **controller.openapi_hints("users"),
        "items.create": {"request": NewItem, "responses": {201: PricedItem}},
        "items.quote": {"query": Quote},
    })
    return app
