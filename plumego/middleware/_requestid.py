"""Request-id middleware and the Go-compatible 12-character base62 request-id generator.

Owns accepting, generating and echoing ``X-Request-ID``: a header layer (see ``_headerlayers``), so the App runs
it without a layer of its own when it is outermost. Imports only the standard library and plumego.contract (the
id is stored with the contract's scope carrier).
"""

from __future__ import annotations

import itertools
import random
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from plumego.contract import SCOPE_REQUEST_ID, Middleware, Scope, valid_request_id, with_request_id
from plumego.middleware._headerlayers import HeaderLayer, Headers

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUES: Final = MappingProxyType({char: index for index, char in enumerate(_ALPHABET)})
# All 3844 two-digit base62 strings: encoding takes 6 divmods instead of 12 (immutable, built at import).
_PAIRS: Final = tuple(a + b for a in _ALPHABET for b in _ALPHABET)
_EPOCH_MS: Final = 1_577_836_800_000  # 2020-01-01T00:00:00Z, as in Go plumego
_TS_BITS: Final = 40
_RAND_BITS: Final = 14
_SEQ_BITS: Final = 10
_SEQ_MAX: Final = (1 << _SEQ_BITS) - 1
_RAND_MASK: Final = (1 << _RAND_BITS) - 1
_TS_MASK: Final = (1 << _TS_BITS) - 1
_ID_WIDTH: Final = 12
_P4: Final = 62**4  # 14_776_336 < 2**24: the last four digits
_HEADER: Final = b"x-request-id"
_HEADER_LEN: Final = len(_HEADER)


_State = tuple[int, int, int, Callable[[], int], int]


@dataclass(frozen=True, slots=True)
class DecodedRequestID:
    """The parts of a generated id: creation time (Unix ms), 14-bit random value, per-ms sequence."""

    unix_ms: int
    random: int
    sequence: int


class RequestIDGenerator:
    """Generates ids laid out like Go plumego: 40-bit ms since 2020-01-01, 14 random bits, 10-bit
    per-millisecond sequence, rendered as 12 fixed-width base62 characters. Sortable by time, not a secret.

    When 1024 ids were issued within one millisecond the generator borrows the next millisecond instead of
    blocking, and a clock that steps back keeps the last millisecond, so ids stay unique and never go back in
    time.

    Thread-safety: safe to share between threads and event loops, without a lock on the per-id path. Each
    millisecond has one immutable state (its number, the base62 work shared by its ids, and an
    ``itertools.count``) that is replaced whole; the sequence number is ``next(count)``, a single C call that
    the GIL makes atomic, so two callers never get the same number in the same millisecond. Replacing the
    state (once per millisecond, or when 1024 ids exhausted one) takes a lock and re-checks, so two threads
    that see a new millisecond at once share one state. Across threads, an id from a caller that read the
    clock just before another caller started a new millisecond can be issued after that caller's ids: ids
    are unique, and monotonic per thread. On a free-threaded build (no GIL) every call takes the lock.
    """

    __slots__ = ("_lock", "_state", "_random_bits", "_heads")

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entered on a free-threaded build (see the end of the module)
        # (end, q, r, count, Unix ms): end is the first Unix ns after the millisecond (so an id compares the clock
        # instead of dividing it), (delta << 24) = q * 62**4 + r with delta the ms since the epoch.
        self._state: _State = (-1, 0, 0, itertools.count(_SEQ_MAX + 1).__next__, -1)
        # Random.getrandbits is one C call (atomic under the GIL).
        self._random_bits = random.Random(secrets.randbits(64)).getrandbits
        # q + carry -> its 8 leading base62 digits. Consecutive milliseconds share most of them (q grows by
        # about 1.14 per ms), so a millisecond usually renders at most one new head; kept to a few entries.
        self._heads: dict[int, str] = {}

    def __call__(self) -> str:
        now_ns = time.time_ns()
        state = self._state
        if now_ns >= state[0]:
            state = self._new_state(now_ns // 1_000_000, state)
        _, head, tail, count, _ = state
        seq = count()
        while seq > _SEQ_MAX:  # 1024 ids in this millisecond: borrow the next one
            state = self._new_state(state[4] + 1, state)
            _, head, tail, count, _ = state
            seq = count()
        # value = delta * 2**24 + low, low < 2**24. With delta * 2**24 = q * 62**4 + r (once per ms), the
        # 8 leading base62 digits are those of q + carry and only the last 4 depend on low: one divmod per id.
        tail += (self._random_bits(_RAND_BITS) << _SEQ_BITS) | seq
        while tail >= _P4:  # at most twice: tail < 62**4 + 2**24 < 3 * 62**4
            tail -= _P4
            head += 1
        leading = self._heads.get(head) or self._new_head(head)
        high, low = divmod(tail, 3844)
        return leading + _PAIRS[high] + _PAIRS[low]

    def _new_state(self, now_ms: int, seen: _State) -> _State:
        """The state for ``now_ms``, unless another caller replaced ``seen`` meanwhile: then theirs."""
        with self._lock:
            state = self._state
            if state is not seen:
                return state  # another caller moved on first; a later millisecond is still unique and monotonic
            delta = now_ms - _EPOCH_MS
            q, r = divmod(((delta if delta > 0 else 0) & _TS_MASK) << (_RAND_BITS + _SEQ_BITS), _P4)
            state = self._state = ((now_ms + 1) * 1_000_000, q, r, itertools.count().__next__, now_ms)
            return state

    def _new_head(self, head: int) -> str:
        heads = self._heads
        if len(heads) >= 8:
            heads.clear()
        leading = heads[head] = _base62_8(head)
        return leading


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


if not _gil_enabled():  # pragma: no cover - free-threaded CPython only
    _generate_unlocked = RequestIDGenerator.__call__

    def _generate_locked(self: RequestIDGenerator) -> str:
        with self._lock:
            return _generate_unlocked(self)

    setattr(RequestIDGenerator, "__call__", _generate_locked)  # noqa: B010 - mypy refuses assigning a method


def _base62_8(value: int) -> str:
    """The 8 base62 digits of ``value`` (< 62**8)."""
    value, p4 = divmod(value, 3844)
    value, p3 = divmod(value, 3844)
    p1, p2 = divmod(value, 3844)
    return _PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3] + _PAIRS[p4]


def decode_request_id(request_id: str) -> DecodedRequestID:
    """Reverse a generated id; raise ValueError for anything that is not a 12-char base62 64-bit value."""
    if len(request_id) != _ID_WIDTH:
        raise ValueError("request id must be 12 base62 characters")
    value = 0
    for char in request_id:
        digit = _VALUES.get(char)
        if digit is None:
            raise ValueError("request id must be 12 base62 characters")
        value = value * 62 + digit
    if value >= 1 << 64:
        raise ValueError("request id out of range")
    return DecodedRequestID(
        unix_ms=((value >> (_RAND_BITS + _SEQ_BITS)) & _TS_MASK) + _EPOCH_MS,
        random=(value >> _SEQ_BITS) & _RAND_MASK,
        sequence=value & _SEQ_MAX,
    )


def request_id(
    *,
    generator: Callable[[], str] | None = None,
    set_request_header: bool = True,
) -> Middleware:
    """Give every HTTP/WebSocket request an id and echo it in the ``X-Request-ID`` response header.

    The id is, in order: one already in the scope, the incoming ``X-Request-ID`` if acceptable (trimmed,
    non-empty, at most 128 bytes, no control characters), else ``generator()`` (default:
    :class:`RequestIDGenerator`). It is stored with ``contract.with_request_id`` and, unless
    ``set_request_header`` is False, also written into the request headers seen by inner apps.
    """
    # The bound method: calling an instance goes through its type's __call__ slot, a bound method does not.
    generate = generator if generator is not None else RequestIDGenerator().__call__
    trusted = generator is None  # the built-in generator's ids need no validation on the hot path

    def prepare(scope: Scope) -> tuple[bytes, bytes] | None:
        """Choose and store the id (and rewrite the request header); the response header line for HTTP."""
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            return None
        rid = scope.get(SCOPE_REQUEST_ID)
        incoming: bytes | None = None
        headers = scope.get("headers") or []
        for key, value in headers:
            if key == _HEADER:
                incoming = value
                break
        if not rid or not isinstance(rid, str):
            rid = ""
            if incoming is not None:
                try:
                    rid = valid_request_id(incoming.decode("utf-8"))
                except UnicodeDecodeError:
                    rid = ""  # not text: treated like any other unacceptable id
        if rid and with_request_id(scope, rid):
            pass
        elif trusted:
            rid = generate()
            scope[SCOPE_REQUEST_ID] = rid
        else:
            rid = generate()
            if not with_request_id(scope, rid):
                # A custom generator produced an unusable id: fall back to the canonical format.
                rid = RequestIDGenerator()()
                with_request_id(scope, rid)
        encoded = rid.encode()  # UTF-8; no argument is the fast path
        if set_request_header and incoming != encoded:
            if incoming is None:
                scope["headers"] = [*headers, (_HEADER, encoded)]
            else:
                scope["headers"] = [(k, v) for k, v in headers if k != _HEADER] + [(_HEADER, encoded)]
        return (_HEADER, encoded) if kind == "http" else None

    return HeaderLayer("request_id", prepare, _add_request_id)


def _add_request_id(headers: Headers, line: tuple[bytes, bytes]) -> Headers:
    """The response headers with ``X-Request-ID`` added, unless the app set one itself (any case)."""
    for name, _ in headers:
        # ASGI says names are lowercase; compare exactly first, and case-fold only a name of the same length
        # starting with x/X ("content-type" has 12 bytes too).
        if name == _HEADER or (len(name) == _HEADER_LEN and name[0] | 0x20 == 0x78 and bytes(name).lower() == _HEADER):
            return headers
    headers.append(line)
    return headers
