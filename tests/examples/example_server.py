"""Helpers for the example-app tests: run ``python -m examples.<name>`` as a user would, and call it over HTTP.

Imported by name (``from example_server import ...``): pytest puts this folder on sys.path.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serve(module: str, *args: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start the example on a free port, yield its base URL, then SIGTERM it and check it exits 0."""
    log = tempfile.TemporaryFile()      # the access log goes to stderr: a pipe nobody reads would fill and block
    proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=log, text=True, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            log.seek(0)
            raise AssertionError(f"{line!r}: {log.read().decode(errors='replace')}")
        yield line.split()[-1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def call(url: str, body: Any = None, *, raw: bytes | None = None,
         headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
