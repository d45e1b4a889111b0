"""RemoteJWKS: an identity provider's JWK Set fetched over HTTPS, cached, refreshed when a token names an unknown
``kid`` (rate limited), and served stale while the provider is unreachable.

A :class:`~plumego.security.RemoteKeySource` for ``JWTManager(key_source=...)``. Fetching uses ``urllib`` from the
standard library, blocks the calling thread and is meant to run off the event loop (``JWTManager.averify`` does
that). Imports only the standard library (``cryptography`` lazily, through ``_jwk``); never store, core or plumego.x.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ._jwk import JWKError, keys_from_jwks
from ._jwt import SigningKey

__all__ = ["JWKSFetchError", "JWKSStatus", "RemoteJWKS"]


class JWKSFetchError(Exception):
    """One fetch of a JWKS failed (network, TLS, HTTP status, size, or content)."""


@dataclass(frozen=True, slots=True)
class JWKSStatus:
    """What the cache holds: key ids, age of the last good fetch (None: never), and the last fetch error."""

    kids: tuple[str, ...]
    age: float | None
    fresh: bool
    usable: bool
    last_error: str | None


class _NoDowngradeRedirect(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to https (an http hop would let anyone on the path swap the keys)."""

    def __init__(self, allow_http: bool) -> None:
        self._allow_http = allow_http

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme != "https" and not self._allow_http:
            raise JWKSFetchError(f"refusing to follow a redirect from {req.full_url} to non-https {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class RemoteJWKS:
    """A JWKS at ``url``, cached for ``cache_ttl`` seconds.

    * A token whose ``kid`` is not in the cache triggers a refresh, at most once per ``min_refresh_interval``
      (so a flood of tokens with made-up ``kid`` values cannot make the service hammer the provider).
    * When a refresh fails, the previous keys stay in use (stale-while-error) for up to ``max_stale`` seconds
      beyond ``cache_ttl``; after that, or before any successful fetch, no key is known and tokens fail to verify.
    * Only ``https`` URLs unless ``allow_http=True`` (for loopback tests and sidecars); redirects never downgrade.
      ``ssl_context`` replaces the default certificate verification (a private CA, say). Responses larger than
      ``max_bytes`` are refused. Keys the JWKS holds that plumego cannot use (``enc`` keys, PS256, ...) are skipped.

    Thread-safe; one fetch at a time. ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_ttl: float = 300.0,
        min_refresh_interval: float = 30.0,
        max_stale: float = 24 * 3600.0,
        timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        allow_http: bool = False,
        max_bytes: int = 1 << 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme != "https" and not (allow_http and scheme == "http"):
            raise ValueError(f"JWKS URL must be https (got {url!r}); allow_http=True permits http for tests")
        if cache_ttl <= 0 or min_refresh_interval < 0 or max_stale < 0 or timeout <= 0 or max_bytes <= 0:
            raise ValueError("cache_ttl and timeout must be > 0, min_refresh_interval and max_stale >= 0")
        self.url = url
        self.cache_ttl = cache_ttl
        self.min_refresh_interval = min_refresh_interval
        self.max_stale = max_stale
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._clock = clock
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ssl_context or ssl.create_default_context()),
            _NoDowngradeRedirect(allow_http),
        )
        self._lock = threading.Lock()  # guards the cache fields
        self._fetch_lock = threading.Lock()  # one fetch at a time
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_error: str | None = None
        self.fetches = 0

    # -- RemoteKeySource ------------------------------------------------------------------------------------------

    def get(self, kid: str) -> SigningKey | None:
        """The cached key for ``kid``; None when unknown or when the cache is older than ``cache_ttl + max_stale``."""
        with self._lock:
            if not self._usable(self._clock()):
                return None
            return self._keys.get(kid)

    def keys(self) -> list[SigningKey]:
        with self._lock:
            return list(self._keys.values()) if self._usable(self._clock()) else []

    def refresh_due(self, kid: str | None) -> bool:
        """True when a fetch would help (nothing cached, cache expired, or ``kid`` unknown) and the rate limit
        allows one now."""
        with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self.min_refresh_interval:
                return False
            if self._fetched_at is None or now - self._fetched_at >= self.cache_ttl:
                return True
            return kid is not None and kid not in self._keys

    def refresh(self) -> None:
        """Fetch the JWKS now (rate limited: a call within ``min_refresh_interval`` of the last attempt does
        nothing). A failure keeps the cached keys and is recorded in :meth:`status`; it is never raised."""
        with self._fetch_lock:
            with self._lock:
                now = self._clock()
                if self._attempted_at is not None and now - self._attempted_at < self.min_refresh_interval:
                    return
                self._attempted_at = now
            try:
                keys = self._fetch()
            except JWKSFetchError as exc:
                with self._lock:
                    self._last_error = str(exc)
                return
            with self._lock:
                self._keys = {key.kid: key for key in keys}
                self._fetched_at = self._clock()
                self._last_error = None

    # -- inspection -----------------------------------------------------------------------------------------------

    def status(self) -> JWKSStatus:
        with self._lock:
            now = self._clock()
            age = None if self._fetched_at is None else now - self._fetched_at
            return JWKSStatus(
                kids=tuple(sorted(self._keys)),
                age=age,
                fresh=age is not None and age < self.cache_ttl,
                usable=self._usable(now),
                last_error=self._last_error,
            )

    # -- internals --------------------------------------------------------------------------------------------

    def _usable(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at <= self.cache_ttl + self.max_stale

    def _fetch(self) -> list[SigningKey]:
        self.fetches += 1
        request = urllib.request.Request(
            self.url, headers={"Accept": "application/jwk-set+json, application/json", "User-Agent": "plumego-jwks"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = getattr(response, "status", 200)
                if status != 200:
                    raise JWKSFetchError(f"JWKS {self.url} answered HTTP {status}")
                body = response.read(self.max_bytes + 1)
        except JWKSFetchError:
            raise
        except urllib.error.HTTPError as exc:
            raise JWKSFetchError(f"JWKS {self.url} answered HTTP {exc.code}") from exc
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, TLS, timeouts, resets, bad HTTP
            raise JWKSFetchError(f"JWKS {self.url} could not be fetched: {exc}") from exc
        if len(body) > self.max_bytes:
            raise JWKSFetchError(f"JWKS {self.url} is larger than {self.max_bytes} bytes")
        try:
            keys = keys_from_jwks(body)
        except JWKError as exc:
            raise JWKSFetchError(f"JWKS {self.url} is not usable: {exc}") from exc
        if not keys:
            raise JWKSFetchError(f"JWKS {self.url} holds no usable signing key")
        return keys
