"""The with_events service: orders, idempotent creation, the outbox and its consumer. Imports plumego's stable
roots and this app's adapters only."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plumego.contract import APIError, ErrorType, JSONResponse, Request
from plumego.core import App, AppConfig
from plumego.log import StructuredLogger
from plumego.middleware import access_log, recovery, request_id
from plumego.store import (
    IdempotencyConflictError,
    IdempotencyInProgressError,
    SQLiteIdempotencyStore,
    SQLiteKVStore,
    request_fingerprint,
)

from .adapters.outbox import Outbox


class Orders:
    """Orders in SQLite (plumego.store's KV store); processing is idempotent on the order's state."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.kv = SQLiteKVStore(data_dir / "orders.db")

    async def get(self, order_id: str) -> dict[str, Any] | None:
        raw = await self.kv.get(f"order:{order_id}")
        return None if raw is None else dict(json.loads(raw))

    async def put(self, order: dict[str, Any]) -> None:
        await self.kv.set(f"order:{order['id']}", json.dumps(order).encode())

    async def unprocessed(self) -> list[str]:
        return [json.loads(v)["id"] for _, v in await self.kv.scan("order:") if not json.loads(v)["processed"]]


def build_app(data_dir: Path, make_outbox: Callable[[Callable[[str, int], Any]], Outbox], logger: StructuredLogger,
              *, host: str = "127.0.0.1", port: int = 8083) -> App:
    orders = Orders(data_dir)
    idempotency = SQLiteIdempotencyStore(data_dir / "idempotency.db")

    async def process(order_id: str, attempt: int) -> None:
        order = await orders.get(order_id)
        if order is None or order["processed"]:
            return                              # idempotent: a redelivered task changes nothing
        if order["item"] == "flaky" and attempt < 2:
            raise RuntimeError("the consumer failed (on purpose): it will be retried")
        await outbox.publish("orders.created", {"id": order_id, "item": order["item"], "qty": order["qty"]})
        order.update(processed=True, processed_at=time.time(), attempts=attempt)
        await orders.put(order)

    outbox = make_outbox(process)

    class Recovery:
        async def start(self) -> None:
            for order_id in await orders.unprocessed():    # accepted before a crash: hand it over again
                await outbox.submit(order_id)

    app = App(AppConfig(host=host, port=port))
    app.use(request_id())
    app.use(recovery(logger))
    app.use(access_log(logger))
    app.add_component("outbox", outbox)
    app.add_component("outbox-recovery", Recovery())

    async def create(request: Request) -> JSONResponse:
        body = await request.body()
        key = request.headers.get("idempotency-key")
        token = None
        if key:
            try:
                claim = await idempotency.begin(key, request_fingerprint("POST", "/orders", body))
            except IdempotencyConflictError:
                raise APIError(ErrorType.CONFLICT, "this Idempotency-Key was used with another request") from None
            except IdempotencyInProgressError:
                raise APIError(ErrorType.CONFLICT, "a request with this Idempotency-Key is in progress") from None
            if not claim.acquired:
                return JSONResponse(json.loads(claim.response or b"{}"), status=201,
                                    headers={"Idempotent-Replayed": "true"})
            token = claim.token
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("item"), str) or not data["item"] or \
                    type(data.get("qty")) is not int or not 0 < data["qty"] <= 1000:
                raise APIError(ErrorType.VALIDATION, 'the body must be {"item": non-empty string, "qty": 1-1000}')
            order = {"id": uuid.uuid4().hex, "item": data["item"], "qty": data["qty"], "processed": False,
                     "created_at": time.time()}
            await orders.put(order)
            await outbox.submit(order["id"])
        except BaseException:
            if key and token:
                await idempotency.release(key, token)
            raise
        if key and token:
            await idempotency.complete(key, token, json.dumps(order).encode())
        return JSONResponse(order, status=201)

    async def show(request: Request) -> dict[str, Any]:
        order = await orders.get(request.param("id"))
        if order is None:
            raise APIError(ErrorType.NOT_FOUND, "order not found")
        return order

    async def healthz(request: Request) -> dict[str, Any]:
        return {"status": "ok", "published": outbox.subscribe_count("orders.created")}

    app.post("/orders", create)
    app.get("/orders/:id", show)
    app.get("/healthz", healthz)
    return app
