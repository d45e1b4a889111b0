"""Property test: the trie (with backtracking) agrees with a brute-force reference matcher.

Reference rule: among all routes matching the path, pick the one whose segment kinds are smallest
left-to-right with static < param < catch-all (that is the precedence the router documents).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from plumego.contract import PlainTextResponse, Request, Response
from plumego.router import RouteError, Router

ALPHABET = ["a", "b", "c"]
KIND = {"static": 0, "param": 1, "wild": 2}


async def _handler(request: Request) -> Response:
    return PlainTextResponse("")


segment = st.one_of(
    st.sampled_from(ALPHABET).map(lambda s: ("static", s)),
    st.just(("param", "")),
)
pattern = st.tuples(
    st.lists(segment, min_size=0, max_size=3), st.booleans()
).map(lambda t: t[0] + ([("wild", "")] if t[1] else []))


def to_path(segs: list[tuple[str, str]]) -> str:
    parts = []
    for i, (kind, value) in enumerate(segs):
        parts.append(value if kind == "static" else (f":p{i}" if kind == "param" else f"*w{i}"))
    return "/" + "/".join(parts)


def reference(routes: list[list[tuple[str, str]]], path_segs: list[str]) -> tuple[int, ...] | None:
    best: tuple[tuple[int, ...], int] | None = None
    for index, segs in enumerate(routes):
        if not _matches(segs, path_segs):
            continue
        key = tuple(KIND[k] for k, _ in segs)
        if best is None or key < best[0]:
            best = (key, index)
    return None if best is None else (best[1],)


def _matches(segs: list[tuple[str, str]], path: list[str]) -> bool:
    if segs and segs[-1][0] == "wild":
        head = segs[:-1]
        if len(path) <= len(head):
            return False
    else:
        head = segs
        if len(path) != len(head):
            return False
    return all(kind == "param" or value == part for (kind, value), part in zip(head, path))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(pattern, min_size=1, max_size=8),
    st.lists(st.lists(st.sampled_from(ALPHABET + ["d"]), min_size=0, max_size=5), min_size=1, max_size=10),
)
def test_trie_matches_reference(patterns: list[list[tuple[str, str]]], paths: list[list[str]]) -> None:
    router = Router()
    kept: list[list[tuple[str, str]]] = []
    for segs in patterns:
        try:
            router.get(to_path(segs), _handler, name=f"r{len(kept)}")
        except RouteError:
            continue  # duplicate shape: the first registration wins
        kept.append(segs)
    for path_segs in paths:
        path = "/" + "/".join(path_segs)
        expected = reference(kept, path_segs)
        found = router.match("GET", path)
        if expected is None:
            assert found is None, (path, found)
        else:
            assert found is not None, (path, kept[expected[0]])
            assert found[0].name == f"r{expected[0]}", (path, found[0].path, to_path(kept[expected[0]]))
