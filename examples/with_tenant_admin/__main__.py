"""``python -m examples.with_tenant_admin``: the tenant admin plane. ``ADMIN_TOKEN`` (at least 16 characters) is
required. Tenant configs live in ``--data-dir``/tenants.db unless ``--backend postgresql://...``; usage counters
in ``--data-dir``/tenant-state.db unless ``TENANT_STATE_URL`` (``memory``, ``sqlite:///...``, ``redis://...``).
"""

from __future__ import annotations

import sys

from plumego.core import App
from plumego.log import StructuredLogger
from plumego.x.tenant import ConfigManager, open_config_manager, open_state_store

from examples._shared import ConfigError, ExampleConfig, serve_example

from .app import build_app

SETTINGS = ("ADMIN_TOKEN", "TENANT_STATE_URL")


def build(cfg: ExampleConfig, logger: StructuredLogger) -> App:
    token = cfg.extra.get("ADMIN_TOKEN", "")
    if len(token) < 16:
        raise ConfigError("ADMIN_TOKEN must be set to at least 16 characters")
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    url = cfg.backend or f"sqlite:///{cfg.data_dir.resolve()}/tenants.db"
    if not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ConfigError(f"--backend {cfg.backend!r}: use a postgresql:// URL (default: SQLite in --data-dir)")

    async def open_configs() -> ConfigManager:
        return await open_config_manager(url, cache_ttl=0)
    state = open_state_store(cfg.extra.get("TENANT_STATE_URL") or f"sqlite:///{cfg.data_dir.resolve()}/tenant-state.db")
    return build_app(open_configs, state, token, logger, host=cfg.host, port=cfg.port)


def main() -> int:
    return serve_example("python -m examples.with_tenant_admin", "The x/tenant admin plane.", port=8086,
                         data_dir=".data/with_tenant_admin", build=build, extra=SETTINGS)


if __name__ == "__main__":
    sys.exit(main())
