"""plumego.x.ai.sse (experimental): the SSE primitives under Go Plumego's package name. They live in
plumego.x.ai.streaming (beta), which this re-exports; new code should import from there.

Imports x/ai only.
"""

from ..streaming import SSE_HEADERS, Event, EventStream, encode_event

__all__ = ["SSE_HEADERS", "Event", "EventStream", "encode_event"]
