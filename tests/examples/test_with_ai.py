"""examples/with_ai as a user runs it: offline chat (JSON and SSE) with sessions, the status page, a client that
hangs up mid-stream, bad input, a real OpenAI-compatible server (the local wire server in its own process) behind
--provider-url, an unreachable provider, and plumego-lint in service mode."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from example_server import REPO, call
from example_server import serve as serve_example

EXAMPLE = REPO / "examples" / "with_ai"
WIRE = REPO / "tests" / "x" / "ai" / "wire_server.py"


def serve(*args: str):  # type: ignore[no-untyped-def]
    return serve_example("examples.with_ai", *args)


def sse_events(url: str, body: dict[str, object], *, stop_after: int | None = None
               ) -> tuple[int, dict[str, str], list[tuple[str, object]]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", "/api/chat", json.dumps(body), {"Accept": "text/event-stream",
                                                         "Content-Type": "application/json"})
    resp = conn.getresponse()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    events: list[tuple[str, object]] = []
    name = ""
    while True:
        line = resp.readline().decode()
        if not line:
            break
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
            if stop_after is not None and len(events) >= stop_after:
                conn.sock.shutdown(socket.SHUT_RDWR)      # hang up mid-stream
                break
    conn.close()
    return resp.status, headers, events


@contextmanager
def wire_server(tokens: int = 5) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(WIRE), "--port", "0", "--tokens", str(tokens)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().split()[-1]
    finally:
        proc.terminate()
        proc.wait(10)


def test_offline_chat_json_and_sse_with_sessions(tmp_path: Path) -> None:
    with serve("--data-dir", str(tmp_path)) as url:
        status, first = call(url + "/api/chat", {"message": "hello"})
        assert status == 200 and first["reply"].startswith("You said: hello. This is turn 1")
        status, second = call(url + "/api/chat", {"message": "again", "session_id": first["session_id"]})
        assert "turn 2" in second["reply"] and second["session_id"] == first["session_id"]
        code, headers, events = sse_events(url, {"message": "stream it", "session_id": first["session_id"]})
        assert code == 200 and headers["content-type"] == "text/event-stream"
        assert headers["cache-control"] == "no-cache" and headers["x-accel-buffering"] == "no"
        assert events[0] == ("session", {"session_id": first["session_id"]})
        text = "".join(e[1]["text"] for e in events if e[0] == "delta")  # type: ignore[index]
        assert text.startswith("You said: stream it. This is turn 3") and events[-1][0] == "done"
        _, st = call(url + "/api/ai/status")
        assert st["models"] == ["scripted-1"] and st["session_storage"] == "sqlite"
        assert st["counters"]["chat"] == 2 and st["counters"]["stream"] == 1
    assert (tmp_path / "sessions.db").exists()


def test_a_client_hanging_up_mid_stream_cancels_the_work(tmp_path: Path) -> None:
    with serve("--data-dir", str(tmp_path)) as url:
        _, _, events = sse_events(url, {"message": "a long answer please"}, stop_after=3)
        assert [e[0] for e in events] == ["session", "delta", "delta"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, st = call(url + "/api/ai/status")
            if st["counters"]["stream_disconnects"] == 1:
                break
            time.sleep(0.05)
        assert st["counters"]["stream_disconnects"] == 1
        assert call(url + "/api/chat", {"message": "still fine"})[0] == 200


def test_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    with serve("--data-dir", str(tmp_path)) as url:
        assert call(url + "/api/chat", raw=b"{nope")[1]["error"]["code"] == "INVALID_JSON"
        status, body = call(url + "/api/chat", {"message": "  "})
        assert status == 400 and body["error"]["details"] == {"field": "message"}
        assert call(url + "/api/chat", {"message": "x" * 32_001})[0] == 400
        assert call(url + "/api/chat", {"message": "x", "session_id": "../etc"})[0] == 400
        assert call(url + "/api/chat", {"message": "x", "session_id": "deadbeef"})[0] == 404
    bad = subprocess.run([sys.executable, "-m", "examples.with_ai", "--provider-url", "ftp://x", "--port", "0"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--provider-url" in bad.stderr


def test_a_real_openai_compatible_server_behind_provider_url(tmp_path: Path) -> None:
    with wire_server(tokens=5) as provider, serve("--data-dir", str(tmp_path), "--provider-url",
                                                  provider + "/v1", "--model", "local-1") as url:
        status, body = call(url + "/api/chat", {"message": "hi"})
        assert status == 200 and body["reply"] == "tok0 tok1 tok2 tok3 tok4 " and body["usage"]["output_tokens"] == 5
        _, _, events = sse_events(url, {"message": "stream"})
        deltas = [e[1]["text"] for e in events if e[0] == "delta"]  # type: ignore[index]
        assert "".join(deltas) == "tok0 tok1 tok2 tok3 tok4 "
        _, st = call(url + "/api/ai/status")
        assert st["models"] == ["local-1"] and st["provider"] == "openai-compatible"


def test_an_unreachable_provider_is_a_503_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with serve("--data-dir", str(tmp_path), "--provider-url", dead) as url:
        status, body = call(url + "/api/chat", {"message": "hi"})
        assert status == 503 and body["error"]["type"] == "service_unavailable"
        status, body = call(url + "/api/chat", {"message": "hi"}, headers={"Accept": "text/event-stream"})
        assert status == 503
        _, st = call(url + "/api/ai/status")
        assert st["models"].startswith("unavailable")


def test_plumego_lint_service_mode(tmp_path: Path) -> None:
    lint = [sys.executable, "-m", "plumego_lint", "check"]
    ok = subprocess.run(lint, cwd=EXAMPLE, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "with_ai"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".plumego-lint-cache"))
    app = copy / "app.py"
    planted = ("from .adapters.chat import ChatBackend, UnknownSession, UpstreamError\n"
               "from plumego.x.ai import tokenizer")
    app.write_text(app.read_text().replace("from .adapters.chat import ChatBackend, UnknownSession, UpstreamError",
                                           planted))
    bad = subprocess.run(lint, cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1 and "PLG301" in bad.stdout
