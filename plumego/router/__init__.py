"""plumego.router: segment-trie HTTP router with params, catch-alls, groups, mounts, named routes and reverse URLs.

Canonical pattern syntax is Go's (``/users/:id``, ``/static/*filepath``); ``{id}`` / ``{filepath...}`` are
accepted aliases. Misses answer the canonical JSON envelope (404, or 405 with a sorted ``Allow``).
Stable root (ga). Imports only the standard library and plumego.contract; never plumego.x, the reference app or tooling.
"""

from ._pattern import PatternError
from ._router import (
    METHOD_ANY,
    METHOD_WEBSOCKET,
    RouteError,
    RouteGroup,
    RouteInfo,
    Router,
    URLBuildError,
)

__all__ = [
    "METHOD_ANY",
    "METHOD_WEBSOCKET",
    "PatternError",
    "RouteError",
    "RouteGroup",
    "RouteInfo",
    "Router",
    "URLBuildError",
]
