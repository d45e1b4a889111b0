"""What discovery backends share: :class:`Instance`, the :class:`Discovery` protocol and
:class:`NotSupportedError` (Go ``ErrNotSupported``). Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Discovery", "Instance", "NotSupportedError", "instances_changed"]


class NotSupportedError(NotImplementedError):
    """The backend cannot do this (registering in DNS, say)."""


@dataclass(frozen=True)
class Instance:
    """One running instance of a service (Go ``Instance``). ``url`` and ``weight`` feed the gateway directly."""

    id: str
    name: str
    address: str
    port: int
    scheme: str = "http"
    metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[str] = ()
    weight: int = 1
    healthy: bool = True

    def __post_init__(self) -> None:
        if self.scheme not in ("http", "https"):
            raise ValueError(f"instance scheme must be http or https, got {self.scheme!r}")
        if not self.address or not 0 < self.port < 65536:
            raise ValueError(f"instance {self.id!r} needs an address and a port 1-65535")

    @property
    def url(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "address": self.address, "port": self.port,
                "scheme": self.scheme, "metadata": dict(self.metadata), "tags": list(self.tags),
                "weight": self.weight, "healthy": self.healthy}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Instance:
        return cls(id=str(data["id"]), name=str(data["name"]), address=str(data["address"]),
                   port=int(data["port"]), scheme=str(data.get("scheme", "http")),
                   metadata=dict(data.get("metadata") or {}), tags=tuple(data.get("tags") or ()),
                   weight=int(data.get("weight", 1)), healthy=bool(data.get("healthy", True)))


class Discovery(Protocol):
    async def resolve(self, service: str) -> list[Instance]:
        """The healthy instances of ``service`` now."""
        ...

    def watch(self, service: str) -> AsyncIterator[list[Instance]]:
        """The current instances, then again each time they change."""
        ...

    async def register(self, instance: Instance) -> None: ...
    async def deregister(self, service: str, instance_id: str) -> None: ...
    async def health(self) -> None:
        """Raise when the discovery backend is unreachable."""
        ...

    async def close(self) -> None: ...


def instances_changed(old: Sequence[Instance] | None, new: Sequence[Instance]) -> bool:
    return old is None or sorted(map(repr, old)) != sorted(map(repr, new))
