"""Serving and writing the document: JSON and YAML text, the spec routes and an optional docs page.

Owns :func:`to_json`, :func:`to_yaml` (PyYAML, which plumego already depends on) and :func:`register_openapi`,
which adds ``GET /openapi.json``, ``GET /openapi.yaml`` and (optionally) ``GET /docs``: a Swagger UI page loaded
from a CDN, so no assets ship with plumego (a strict Content-Security-Policy must allow that CDN). The document is
built on the first request, after every route exists, and kept. Imports the standard library, plumego.contract,
plumego.router and PyYAML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from plumego.contract import Request, Response
from plumego.router import RouteGroup, Router

from ._generate import Hint, generate

__all__ = ["register_openapi", "to_json", "to_yaml"]


def to_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_yaml(document: Mapping[str, Any]) -> str:
    import yaml  # PyYAML is a plumego dependency (the linter reads YAML specs)

    text: str = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=120)
    return text


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" crossorigin></script>
<script>window.ui = SwaggerUIBundle({{url: {spec_url}, dom_id: "#swagger-ui"}});</script>
</body>
</html>
"""


def register_openapi(
    router: Router | RouteGroup,
    *,
    title: str = "Plumego API",
    version: str = "0.0.0",
    description: str = "",
    hints: Mapping[str, Hint | Mapping[str, Any]] | None = None,
    path: str = "/openapi.json",
    yaml_path: str | None = "/openapi.yaml",
    docs_path: str | None = "/docs",
    source: Router | None = None,
) -> None:
    """Serve the document of ``source`` (default: ``router`` itself) at ``path`` (and ``yaml_path``), plus the
    docs page at ``docs_path`` (None turns either off). These routes are left out of the document."""
    described = source if source is not None else router if isinstance(router, Router) else None
    if described is None:
        raise TypeError("register_openapi on a RouteGroup needs source=<the Router to describe>")
    prefix = router.prefix if isinstance(router, RouteGroup) else ""
    own = tuple(prefix + p for p in (path, yaml_path, docs_path) if p)
    cache: dict[str, str] = {}

    def document_text(kind: str) -> str:
        text = cache.get(kind)
        if text is None:
            if "doc" not in cache:
                cache["doc"] = json.dumps(generate(described, title=title, version=version, description=description,
                                                   hints=hints, exclude=own))
            document = json.loads(cache["doc"])
            text = cache[kind] = to_json(document) if kind == "json" else to_yaml(document)
        return text

    async def spec_json(request: Request) -> Response:
        return Response(document_text("json").encode("utf-8"), media_type="application/json")

    async def spec_yaml(request: Request) -> Response:
        return Response(document_text("yaml").encode("utf-8"), media_type="application/yaml")

    page = _DOCS_PAGE.format(title=html.escape(title), spec_url=json.dumps(prefix + path).replace("<", "\\u003c"))

    async def docs(request: Request) -> Response:
        return Response(page.encode("utf-8"), media_type="text/html; charset=utf-8")

    router.get(path, spec_json, name="openapi.json")
    if yaml_path:
        router.get(yaml_path, spec_yaml, name="openapi.yaml")
    if docs_path:
        router.get(docs_path, docs, name="openapi.docs")
