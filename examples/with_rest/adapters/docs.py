"""The app's API description, on plumego.x.openapi (experimental, so here).

Owns ``APIDocs`` (what the app needs: serve a document of its routes) and ``OpenAPIDocs`` (OpenAPI 3.1 at
``/openapi.json`` and ``/openapi.yaml``, Swagger UI at ``/docs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from plumego.router import Router
from plumego.x.openapi import register_openapi


class APIDocs(Protocol):
    def serve(self, router: Router, hints: Mapping[str, Mapping[str, Any]]) -> None: ...


class OpenAPIDocs:
    def __init__(self, title: str, version: str) -> None:
        self.title = title
        self.version = version

    def serve(self, router: Router, hints: Mapping[str, Mapping[str, Any]]) -> None:
        register_openapi(router, title=self.title, version=self.version, hints=hints)
