"""Streaming relay overhead of examples/with_ai: time to first token and tokens/s through the example app
(POST /api/chat with Accept: text/event-stream, provider = the local OpenAI-compatible wire server) against the
same wire server streaming directly, in the same run. Run by hand:

    .venv/bin/python bench/ai_stream_bench.py [--tokens 500] [--runs 30]

Both servers run in their own processes; the client is httpx. The example path includes what the app really does
per request: a SQLite session write before the stream (user message) and after it (assistant message).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"could not start {cmd}: {line!r}")
    return proc, line.split()[-1]


def one(client: httpx.Client, url: str, body: dict[str, object], headers: dict[str, str], direct: bool
        ) -> tuple[float, float, int]:
    """(seconds to the first token, seconds for the whole stream, tokens)."""
    t0 = time.perf_counter()
    first = 0.0
    tokens = 0
    with client.stream("POST", url, json=body, headers=headers) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if direct:
                if data == "[DONE]":
                    break
                choices = json.loads(data).get("choices") or []
                has = any((c.get("delta") or {}).get("content") for c in choices)
            else:
                has = '"text"' in data and not data.startswith('{"stop_reason"')
            if has:
                tokens += 1
                if not first:
                    first = time.perf_counter() - t0
    return first, time.perf_counter() - t0, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sessions", default="", help="session storage URL for the app (default: its SQLite file)")
    args = parser.parse_args()
    wire, wire_url = start([sys.executable, "tests/x/ai/wire_server.py", "--port", "0", "--tokens", str(args.tokens)])
    data = tempfile.mkdtemp()
    app, app_url = start([sys.executable, "-m", "examples.with_ai", "--port", "0", "--data-dir", data,
                          "--provider-url", wire_url + "/v1", "--model", "local-1"]
                         + (["--backend", args.sessions] if args.sessions else []))
    try:
        results: dict[str, list[tuple[float, float, int]]] = {"direct": [], "example": []}
        with httpx.Client(timeout=60) as client:
            direct_body = {"model": "local-1", "stream": True, "messages": [{"role": "user", "content": "go"}]}
            for i in range(args.runs + 3):                       # 3 warm-up rounds, interleaved
                d = one(client, wire_url + "/v1/chat/completions", direct_body, {}, True)
                e = one(client, app_url + "/api/chat", {"message": f"go {i}"}, {"Accept": "text/event-stream"}, False)
                if i >= 3:
                    results["direct"].append(d)
                    results["example"].append(e)
        print(f"tokens per stream: {args.tokens}, runs: {args.runs}, sessions: {args.sessions or 'sqlite'}, "
              f"load average: {os.getloadavg()[0]:.2f}")
        summary = {}
        for name, rows in results.items():
            ttft = statistics.median(r[0] for r in rows) * 1000
            tps = statistics.median(r[2] / r[1] for r in rows)
            summary[name] = (ttft, tps)
            assert all(r[2] == args.tokens for r in rows), f"{name}: lost tokens"
            print(f"{name:8s} TTFT median {ttft:7.2f} ms   tokens/s median {tps:9.0f}")
        print(f"example/direct: TTFT x{summary['example'][0] / summary['direct'][0]:.2f}, "
              f"tokens/s x{summary['example'][1] / summary['direct'][1]:.2f}")
    finally:
        for proc in (app, wire):
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


if __name__ == "__main__":
    main()
