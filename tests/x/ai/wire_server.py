"""A local HTTP/1.1 server that speaks the providers' real wire formats, for the x/ai tests and the benchmark.

Raw asyncio sockets (not an in-process mock of our client): real status lines, headers, JSON bodies, chunked SSE
streams, error bodies, 429 with Retry-After, a truncated stream (connection dropped mid-body), a provider that
hangs. Scripted replies are queued per path; without one, an OpenAI-compatible default answers
``/v1/chat/completions`` (JSON or SSE, ``tokens`` words) and ``/v1/models``.

Run alone for the benchmark: ``python tests/x/ai/wire_server.py --port 0 --tokens 200`` prints ``listening on URL``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    raw: bytes | None = None
    events: list[bytes] | None = None          # SSE frames, sent as chunks
    delay: float = 0.0                          # seconds before each SSE frame
    hang: bool = False                          # send nothing until the client goes away
    hang_after: int = -1                        # stream this many frames, then hang
    truncate: bool = False                      # drop the connection after the frames, mid-body


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def sse(data: Any, event: str = "") -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


def openai_chunks(texts: list[str], *, tool_calls: list[tuple[str, str, list[str]]] = (),  # type: ignore[assignment]
                  finish: str = "stop", usage: tuple[int, int] = (5, 7), model: str = "gpt-test") -> list[bytes]:
    """Chat Completions chunks: a role delta, text deltas, tool-call deltas (id and name first, then argument
    fragments, as OpenAI sends them), the finish reason, a usage chunk and ``[DONE]``."""
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})

    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": t}) for t in texts]
    for index, (call_id, name, fragments) in enumerate(tool_calls):
        frames.append(chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                             "function": {"name": name, "arguments": ""}}]}))
        frames += [chunk({"tool_calls": [{"index": index, "function": {"arguments": f}}]}) for f in fragments]
    frames.append(chunk({}, finish))
    frames.append(sse({**base, "choices": [], "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                                                         "total_tokens": sum(usage)}}))
    frames.append(sse("[DONE]"))
    return frames


def anthropic_events(texts: list[str], *, tools: list[tuple[str, str, list[str]]] = (),  # type: ignore[assignment]
                     stop: str = "end_turn", usage: tuple[int, int] = (11, 9)) -> list[bytes]:
    frames = [sse({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                         "model": "claude-test", "content": [], "stop_reason": None,
                                                         "usage": {"input_tokens": usage[0], "output_tokens": 1}}},
                  "message_start")]
    index = 0
    if texts:
        frames.append(sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                          "content_block_start"))
        frames.append(sse({"type": "ping"}, "ping"))
        frames += [sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
                       "content_block_delta") for t in texts]
        frames.append(sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        index = 1
    for offset, (tool_id, name, fragments) in enumerate(tools):
        i = index + offset
        frames.append(sse({"type": "content_block_start", "index": i,
                           "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}}},
                          "content_block_start"))
        frames += [sse({"type": "content_block_delta", "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": f}}, "content_block_delta")
                   for f in fragments]
        frames.append(sse({"type": "content_block_stop", "index": i}, "content_block_stop"))
    frames.append(sse({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                       "usage": {"output_tokens": usage[1]}}, "message_delta"))
    frames.append(sse({"type": "message_stop"}, "message_stop"))
    return frames


class WireServer:
    def __init__(self, tokens: int = 20, token_delay: float = 0.0) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.seen: list[Seen] = []
        self.tokens = tokens
        self.token_delay = token_delay
        self.open_connections = 0
        self.aborted_streams = 0        # streams whose client went away before the end
        self._server: asyncio.Server | None = None
        self.url = ""

    def push(self, path: str, *replies: Reply) -> None:
        self.replies[path].extend(replies)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._connection, host, port)
        bound = self._server.sockets[0].getsockname()
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_idle(self, timeout: float = 2.0) -> bool:
        """True once no client connection is open (the client closed or pooled nothing)."""
        deadline = time.monotonic() + timeout
        while self.open_connections and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self.open_connections == 0

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                parsed = json.loads(body) if body else None
                self.seen.append(Seen(method, target, headers, parsed))
                path = target.split("?", 1)[0]
                reply = self.replies[path].popleft() if self.replies[path] else self._default(path, parsed)
                if not await self._answer(reply, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    def _default(self, path: str, body: Any) -> Reply:
        if path.endswith("/models"):
            return Reply(json={"object": "list", "data": [{"id": "local-1", "object": "model", "created": 1,
                                                            "owned_by": "wire"}]})
        if path.endswith("/chat/completions"):
            words = [f"tok{i} " for i in range(self.tokens)]
            if isinstance(body, dict) and body.get("stream"):
                return Reply(events=openai_chunks(words, usage=(3, self.tokens)), delay=self.token_delay)
            return Reply(json={"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "local-1",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(words)},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 3, "completion_tokens": self.tokens,
                                         "total_tokens": 3 + self.tokens}})
        return Reply(404, json={"error": {"message": f"no route {path}", "type": "not_found"}})

    async def _answer(self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if reply.hang:
            await reader.read()          # until the client gives up and closes
            return False
        status_line = f"HTTP/1.1 {reply.status} {'OK' if reply.status < 400 else 'Error'}\r\n"
        headers = dict(reply.headers)
        if reply.events is None:
            body = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
            headers.setdefault("content-type", "application/json")
            headers["content-length"] = str(len(body))
            writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
                         + body)
            await writer.drain()
            return True
        headers.setdefault("content-type", "text/event-stream")
        headers["cache-control"] = "no-cache"
        headers["transfer-encoding"] = "chunked"
        headers["connection"] = "close"           # one stream per connection: EOF on the socket means "gone"
        writer.write((status_line + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        await writer.drain()
        gone = asyncio.ensure_future(reader.read())     # EOF when the client closes mid-stream
        try:
            for n, frame in enumerate(reply.events):
                if n == reply.hang_after:
                    await gone
                    self.aborted_streams += 1
                    return False
                if reply.delay:
                    await asyncio.wait({gone}, timeout=reply.delay)
                if gone.done():
                    self.aborted_streams += 1
                    return False
                writer.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                await writer.drain()
            if reply.truncate:
                writer.transport.abort()
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return False
        except ConnectionError:
            self.aborted_streams += 1
            return False
        finally:
            if not gone.done():
                gone.cancel()


async def _main(port: int, tokens: int, delay: float) -> None:
    server = WireServer(tokens, delay)
    print(f"listening on {await server.start(port=port)}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    try:
        asyncio.run(_main(args.port, args.tokens, args.delay))
    except KeyboardInterrupt:
        pass
