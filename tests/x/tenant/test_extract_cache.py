"""Tenant extractors (header, query, cookie, subdomain, JWT claim, chain) and the tenant-prefixed cache."""

from __future__ import annotations

from typing import Any

import pytest

from plumego.middleware import Principal, with_principal
from plumego.store import MemoryCache
from plumego.x.tenant import (
    InvalidTenantIDError,
    TenantCache,
    chain,
    from_claim,
    from_cookie,
    from_header,
    from_query,
    from_subdomain,
    validate_tenant_id,
)


def scope(headers: dict[str, str] | None = None, query: str = "") -> dict[str, Any]:
    return {"type": "http", "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "query_string": query.encode()}


def test_extractors() -> None:
    assert from_header("X-Org")(scope({"X-Org": " acme "})) == "acme"
    assert from_header("X-Org")(scope()) is None
    assert from_query("tenant")(scope(query="a=1&tenant=acme")) == "acme"
    assert from_query("tenant")(scope(query="tenant=")) is None
    assert from_cookie("tid")(scope({"Cookie": "a=b; tid=acme"})) == "acme"
    assert from_cookie("tid")(scope({"Cookie": "garbage;;=\x7f"})) is None
    sub = from_subdomain()
    assert sub(scope({"Host": "acme.api.example.com:8443"})) == "acme"
    assert sub(scope({"Host": "localhost:8000"})) is None
    assert sub(scope({"Host": "127.0.0.1:8000"})) is None
    assert sub(scope({"Host": "[::1]:8000"})) is None
    s = scope()
    with_principal(s, Principal(subject="u", token_claims={"tenant_id": "claimed", "org": 5}))
    assert from_claim()(s) == "claimed" and from_claim("org")(s) is None
    assert from_claim()(scope()) is None

    def broken(_: Any) -> str:
        raise RuntimeError("boom")
    assert chain(broken, from_query("t"), from_header("X-T"))(scope({"X-T": "h"}, "t=q")) == "q"
    assert chain(broken, from_query("t"))(scope()) is None


def test_validate_tenant_id() -> None:
    assert validate_tenant_id("acme-1.eu_west") == "acme-1.eu_west"
    assert validate_tenant_id("x" * 255)
    for bad in ("", "x" * 256, "a/b", "a b", "ü", "a\x00", "a:b"):
        with pytest.raises(InvalidTenantIDError):
            validate_tenant_id(bad)


async def test_tenant_cache_keeps_tenants_apart() -> None:
    shared = MemoryCache()
    cache = TenantCache(shared)
    acme, beta = cache.for_tenant("acme"), cache.for_tenant("beta")
    await acme.set("k", b"a")
    await beta.set("k", b"b")
    assert (await acme.get("k"), await beta.get("k")) == (b"a", b"b")
    assert await shared.get("tenant:acme:k") == b"a"
    assert await acme.incr("n") == 1 and await beta.exists("n") is False
    assert await acme.delete("k") and await beta.get("k") == b"b"
    assert TenantCache(shared, prefix="t", separator="/").key("acme", "x") == "t/acme/x"
    with pytest.raises(InvalidTenantIDError):
        cache.for_tenant("../beta")
    with pytest.raises(ValueError):
        await acme.get("")
