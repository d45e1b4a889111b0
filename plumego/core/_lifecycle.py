"""Lifecycle components: started in registration order, stopped in reverse, readiness checked on demand.

A component is any object with optional ``start``/``stop``/``ready`` methods (sync or async), or a
:class:`Component` built from callables. Imports only the standard library.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Component", "LifecycleError", "LifecycleGroup", "ReadyChecker", "Starter", "Stopper"]

Hook = Callable[[], Awaitable[None] | None]


class LifecycleError(RuntimeError):
    """A component failed to start, stop, or is not ready; ``errors`` holds every underlying failure."""

    def __init__(self, message: str, errors: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@runtime_checkable
class Starter(Protocol):
    def start(self) -> Awaitable[None] | None: ...


@runtime_checkable
class Stopper(Protocol):
    def stop(self) -> Awaitable[None] | None: ...


@runtime_checkable
class ReadyChecker(Protocol):
    def ready(self) -> Awaitable[None] | None:
        """Return normally when ready; raise (with a reason) when not."""
        ...


@dataclass(frozen=True, slots=True)
class Component:
    """A component made of optional hooks (Go ``core.Component``); a missing hook is a no-op."""

    on_start: Hook | None = None
    on_stop: Hook | None = None
    on_ready: Hook | None = None

    async def start(self) -> None:
        await _call(self.on_start)

    async def stop(self) -> None:
        await _call(self.on_stop)

    async def ready(self) -> None:
        await _call(self.on_ready)


async def _call(hook: Callable[[], Any] | None) -> None:
    if hook is None:
        return
    result = hook()
    if inspect.isawaitable(result):
        await result


class LifecycleGroup:
    """Ordered named components. ``start`` is all-or-nothing: on failure the started ones are stopped."""

    def __init__(self) -> None:
        self._items: list[tuple[str, object]] = []
        self._started: list[tuple[str, object]] = []
        self._ran = False

    def add(self, name: str, component: object) -> None:
        if not name:
            raise ValueError("core: component name is required")
        if any(existing == name for existing, _ in self._items):
            raise ValueError(f"core: duplicate component {name!r}")
        if not any(callable(getattr(component, m, None)) for m in ("start", "stop", "ready")):
            raise TypeError(f"core: component {name!r} has none of start/stop/ready")
        if self._ran:
            raise RuntimeError(f"core: cannot add component {name!r} after start")
        self._items.append((name, component))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._items]

    async def start(self) -> None:
        if self._ran:
            raise LifecycleError("core: lifecycle already started")
        self._ran = True
        for name, component in self._items:
            try:
                await _call(getattr(component, "start", None))
            except Exception as exc:
                message = f'core: start "{name}": {exc}'
                try:
                    await self.stop()
                except LifecycleError as stop_error:
                    raise LifecycleError(f"{message}; {stop_error}", [exc, *stop_error.errors]) from exc
                raise LifecycleError(message, [exc]) from exc
            self._started.append((name, component))

    async def stop(self) -> None:
        """Stop started components in reverse order; every one is attempted, errors are joined."""
        errors: list[BaseException] = []
        messages: list[str] = []
        while self._started:
            name, component = self._started.pop()
            try:
                await _call(getattr(component, "stop", None))
            except Exception as exc:
                errors.append(exc)
                messages.append(f'core: stop "{name}": {exc}')
        if errors:
            raise LifecycleError("; ".join(messages), errors)

    async def ready(self) -> None:
        """Check every component; raise LifecycleError naming each one that is not ready."""
        errors: list[BaseException] = []
        messages: list[str] = []
        for name, component in self._items:
            try:
                await _call(getattr(component, "ready", None))
            except Exception as exc:
                errors.append(exc)
                messages.append(f'core: "{name}" not ready: {exc}')
        if errors:
            raise LifecycleError("; ".join(messages), errors)
