"""``python -m examples.with_tenant``: load the configuration, pick the state backend, serve until SIGTERM.

``--backend`` is ``memory`` (per process), ``sqlite`` (a file in ``--data-dir``, shared by the processes on this
machine), ``redis`` (127.0.0.1:6379) or a full ``sqlite:///...`` / ``redis://...`` URL. ``TENANT_QUOTA_PER_MINUTE``,
``TENANT_RATE_PER_SECOND`` and ``TENANT_BURST`` size the demo tenants' limits.
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger

from examples._shared import ConfigError, ExampleConfig, serve_example

from .app import build_app, demo_tenants

SETTINGS = ("TENANT_QUOTA_PER_MINUTE", "TENANT_RATE_PER_SECOND", "TENANT_BURST")


def state_url(cfg: ExampleConfig) -> str:
    backend = cfg.backend or "memory"
    if backend == "memory":
        return "memory"
    if backend == "sqlite":
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{cfg.data_dir.resolve() / 'tenant-state.db'}"
    if backend == "redis":
        return "redis://127.0.0.1:6379/0?prefix=with_tenant"
    if backend.startswith(("sqlite:///", "redis://", "rediss://")):
        return backend
    raise ConfigError(f"--backend {backend!r}: use memory, sqlite, redis or a sqlite:/// or redis:// URL")


def _number(cfg: ExampleConfig, name: str, default: float) -> float:
    raw = cfg.extra.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a number") from None
    if not value > 0:
        raise ConfigError(f"{name} must be > 0")
    return value


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    tenants = demo_tenants(int(_number(cfg, "TENANT_QUOTA_PER_MINUTE", 100)),
                           _number(cfg, "TENANT_RATE_PER_SECOND", 5), int(_number(cfg, "TENANT_BURST", 10)))
    return build_app(state_url(cfg), logger, tenants=tenants, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_tenant", "GET /api/models behind the x/tenant chain.", port=8085,
                         data_dir=".data/with_tenant", build=build, extra=SETTINGS)


if __name__ == "__main__":
    sys.exit(main())
