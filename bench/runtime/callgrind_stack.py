"""Callgrind driver for the transport stack: instructions per request, deterministic on a loaded box.

Run twice per variant, N = 0 and N = 2000, and divide the difference of the totals by N:
  PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
      python bench/runtime/callgrind_stack.py VARIANT N
(``callgrind_annotate FILE | head`` prints the total). Variants: bare, rid, sec, rid_sec, gen (the request-id
generator alone, N ids). The request-id clock is faked (a C callable, as time.time_ns is) to advance 50 µs per
call (20 ids per millisecond, as at 20k rps): under callgrind every id would otherwise start a new millisecond.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import types
from typing import Any


sys.path.insert(0, "bench")

import stack_bench  # noqa: E402

from plumego.middleware import _requestid, request_id, security_headers  # noqa: E402

def _patch_clock() -> None:
    # A C-level callable, like the real time.time_ns (a Python function would add its own ~1k instructions).
    fake_ns = itertools.count(1_780_000_000_000_000_000, 50_000).__next__
    _requestid.time = types.SimpleNamespace(time_ns=fake_ns)  # type: ignore[assignment]


async def _requests(app: Any, n: int) -> None:
    for _ in range(n):
        await app(stack_bench._scope(), stack_bench._receive, stack_bench._send)


def main(variant: str, n: int) -> None:
    _patch_clock()
    if variant == "gen":
        generate = _requestid.RequestIDGenerator()
        for _ in range(300):
            generate()
        for _ in range(n):
            generate()
        return
    layers = {
        "bare": (),
        "rid": (request_id(),),
        "sec": (security_headers(),),
        "rid_sec": (request_id(), security_headers()),
    }[variant]
    app = stack_bench._app(*layers)
    asyncio.run(_requests_all(app, n))


async def _requests_all(app: Any, n: int) -> None:
    await _requests(app, 300)
    await _requests(app, n)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
