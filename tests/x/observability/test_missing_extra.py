"""Without the optional extras, the lazy names fail with an ImportError that says what to install (checked in a
fresh interpreter where the third-party package cannot be imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = """
import sys
sys.modules[{missing!r}] = None
import {module} as package
from plumego.x.observability import RecordBuffer
assert len(RecordBuffer(1)) == 0          # the standard-library helpers still work
try:
    getattr(package, {name!r})
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("no ImportError")
"""


@pytest.mark.parametrize(("missing", "module", "name", "extra"), [
    ("prometheus_client", "plumego.x.observability", "PrometheusCollector", "pip install 'plumego[observability]'"),
    ("opentelemetry", "plumego.x.observability", "OTelTracing", "pip install 'plumego[observability]'"),
    ("grpc", "plumego.x.rpc", "GrpcServer", "pip install 'plumego[rpc]'"),
])
def test_missing_extra_is_named(missing: str, module: str, name: str, extra: str) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(missing=missing, module=module, name=name)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert extra in done.stdout
