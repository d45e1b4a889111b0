"""Router-only micro-benchmark: lookups per second for N routes (not a test; no assertions).

Routes are ``GET /api/v1/res{i}/:item_id`` (i < N) plus one static ``GET /health``; targets are the
first, middle and last registered route with a random id per lookup, the static route and a miss.
Usage: PYTHONPATH=. python bench/router_bench.py [N ...]   (default: 100 1000)
"""

from __future__ import annotations

import random
import sys
import timeit

from plumego.contract import JSONResponse, Request, Response
from plumego.router import Router


async def handler(request: Request) -> Response:
    return JSONResponse({"id": request.param("item_id")})


def build(n: int) -> Router:
    router = Router()
    router.get("/health", handler)
    for i in range(n):
        router.get(f"/api/v1/res{i}/:item_id", handler, name=f"res{i}")
    router.freeze()
    return router


def yardstick(n: int) -> dict[str, object]:
    """The 20-line dict-of-segments trie from runtime-anchors.md, timed in the same run for scale."""
    root: dict[str, object] = {}
    for i in range(n):
        node = root
        for seg in ("api", "v1", f"res{i}"):
            node = node.setdefault(seg, {})  # type: ignore[assignment]
        node[":"] = {"#": handler}
    return root


def yard_match(root: dict[str, object], path: str) -> object:
    node = root
    params = []
    for seg in path.strip("/").split("/"):
        nxt = node.get(seg)
        if nxt is None:
            nxt = node.get(":")
            if nxt is None:
                return None
            params.append(seg)
        node = nxt  # type: ignore[assignment]
    return node.get("#"), params


def rate(router: Router, paths: list[str], repeat: int = 5) -> float:
    match = router.match
    number = len(paths)

    def run() -> None:
        for p in paths:
            match("GET", p)

    best = min(timeit.repeat(run, number=1, repeat=repeat))
    return number / best


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100, 1000]
    rng = random.Random(0)
    print(f"{'N':>6} {'first':>10} {'mid':>10} {'last':>10} {'static':>10} {'miss':>10} {'url(last)':>10}"
          f" {'yardstick(last)':>16}")
    for n in sizes:
        router = build(n)
        cells = []
        for i in (0, n // 2, n - 1):
            paths = [f"/api/v1/res{i}/{rng.randint(1, 10**6)}" for _ in range(100_000)]
            assert router.match("GET", paths[0]) is not None
            cells.append(rate(router, paths))
        cells.append(rate(router, ["/health"] * 100_000))
        miss = [f"/api/v1/nope/{rng.randint(1, 10**6)}" for _ in range(100_000)]
        assert router.match("GET", miss[0]) is None
        cells.append(rate(router, miss))
        url = router.url
        name = f"res{n - 1}"
        t = min(timeit.repeat(lambda: url(name, item_id="42"), number=100_000, repeat=3))
        cells.append(100_000 / t)
        root = yardstick(n)
        paths = [f"/api/v1/res{n - 1}/{rng.randint(1, 10**6)}" for _ in range(100_000)]

        def yard_run() -> None:
            for p in paths:
                yard_match(root, p)

        cells.append(100_000 / min(timeit.repeat(yard_run, number=1, repeat=5)))
        print(f"{n:>6} " + " ".join(f"{c / 1e3:>9.0f}k" for c in cells[:-1]) + f" {cells[-1] / 1e3:>15.0f}k")


if __name__ == "__main__":
    main(sys.argv[1:])
