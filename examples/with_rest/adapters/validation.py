"""The app's request-body binding and the item models it checks, on plumego.x.validate (experimental, so here).

Owns ``BodyBinder`` (what handlers need: a typed body or query, or a 400/413/422 error envelope), ``TypedBodies`` (its
implementation) and the item models, whose field rules use x/validate's ``Rule``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Protocol, TypeVar

from plumego.contract import Request
from plumego.x.validate import Rule, bind, bind_query

T = TypeVar("T")


@dataclass
class NewItem:
    """An item to price: every field is checked, and every failing field is reported."""

    name: Annotated[str, Rule(min_length=1, max_length=80)]
    sku: Annotated[str, Rule(pattern=r"[A-Z]{3}-[0-9]{4}")]
    quantity: Annotated[int, Rule(ge=1, le=1000)]
    unit_price: Annotated[float, Rule(ge=0, le=1_000_000)]
    currency: Literal["EUR", "USD", "CNY"] = "EUR"
    tags: Annotated[list[Annotated[str, Rule(min_length=1, max_length=20)]], Rule(max_length=10)] = field(
        default_factory=list)


@dataclass
class Quote:
    """A price question in the query string: ``?sku=ABC-1234&quantity=3&currency=USD``."""

    sku: Annotated[str, Rule(pattern=r"[A-Z]{3}-[0-9]{4}")]
    quantity: Annotated[int, Rule(ge=1, le=1000)] = 1
    currency: Literal["EUR", "USD", "CNY"] = "EUR"


@dataclass
class PricedItem:
    name: str
    sku: str
    quantity: int
    currency: str
    total: float
    tags: list[str]


class BodyBinder(Protocol):
    async def bind(self, request: Request, target: type[T]) -> T: ...
    def query(self, request: Request, target: type[T]) -> T: ...


class TypedBodies:
    """Binds JSON bodies to dataclasses with x/validate (bodies over 64 KiB are refused with 413)."""

    async def bind(self, request: Request, target: type[T]) -> T:
        return await bind(request, target, max_body=64 * 1024)

    def query(self, request: Request, target: type[T]) -> T:
        return bind_query(request, target)
