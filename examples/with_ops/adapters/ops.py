"""The app's operational surface on plumego.x.observability.ops and .devtools (experimental, so it stays here).

Owns ``mount_ops`` (ops routes over the app's work queue, fail closed without a token) and ``mount_dev`` (devtools,
refused in production). Imports plumego's x/observability only in this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from plumego.core import App
from plumego.x.observability.devtools import mount_devtools
from plumego.x.observability.ops import OpsHooks, OpsOptions, register_ops_routes


class QueueView(Protocol):
    def names(self) -> list[str]: ...
    def stats(self, queue: str) -> Mapping[str, int]: ...
    def replay(self, queue: str, limit: int) -> int: ...


def mount_ops(app: App, token: str, queues: QueueView, extra: Mapping[str, Any]) -> None:
    hooks = OpsHooks(queue_list=queues.names, queue_stats=queues.stats, queue_replay=queues.replay,
                     readiness=lambda: True)
    register_ops_routes(app, OpsOptions(token=token, hooks=hooks, extra=dict(extra)))


def mount_dev(app: App, environment: str, config: Any) -> None:
    mount_devtools(app, environment=environment, config=config)
