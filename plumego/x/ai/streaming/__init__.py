"""plumego.x.ai.streaming (beta): Server-Sent Events responses (Go's headers, keep-alive comments, client
disconnect detected and the producing work cancelled), completions relayed as SSE, and workflow progress events.

Better than Go Plumego here: a disconnect cancels the producing task (which closes the upstream provider stream)
instead of waiting for the next failed write. Imports the standard library, plumego.contract and x/ai.
"""

from ._progress import ProgressUpdate, StreamManager, completion_events
from ._sse import SSE_HEADERS, Event, EventStream, encode_event

__all__ = ["SSE_HEADERS", "Event", "EventStream", "ProgressUpdate", "StreamManager", "completion_events",
           "encode_event"]
