"""plumego.core: the ASGI application kernel.

App (http, websocket, lifespan), explicit route/middleware/mount wiring, AppConfig with documented
defaults, lifecycle components run by the ASGI lifespan, graceful drain, the ``plumego serve`` CLI and an
in-process TestClient.
Stable root (ga). Imports only the standard library and plumego.contract, plumego.router (may also use
plumego.middleware, plumego.health, plumego.log, plumego.metrics); never plumego.x, the reference app or tooling.
"""

from ._app import App, AppStateError, Lifespan, LoggerLike
from ._config import AppConfig, ConfigError, TLSConfig, default_config
from ._lifecycle import Component, LifecycleError, LifecycleGroup, ReadyChecker, Starter, Stopper
from ._serve import ServerUnavailable, serve
from ._testclient import TestClient, TestResponse

__all__ = [
    "App",
    "AppConfig",
    "AppStateError",
    "Component",
    "ConfigError",
    "Lifespan",
    "LifecycleError",
    "LifecycleGroup",
    "LoggerLike",
    "ReadyChecker",
    "ServerUnavailable",
    "Starter",
    "Stopper",
    "TLSConfig",
    "TestClient",
    "TestResponse",
    "default_config",
    "serve",
]
