"""Input safety guards: header injection, path traversal, open redirects, and URL/e-mail shape checks.

Pure functions on strings and paths; they validate or refuse, they never "sanitize" markup or SQL (Go's
best-effort sanitizers invite misuse; use escaping and parameterised queries). Imports only the standard library.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "InputError",
    "HeaderInjectionError",
    "PathTraversalError",
    "is_token",
    "is_header_name",
    "is_header_value",
    "check_header_value",
    "safe_join",
    "is_safe_redirect",
    "safe_redirect_target",
    "validate_url",
    "validate_public_url",
    "validate_email",
    "strip_control_chars",
]

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_BLOCKED_SCHEMES = frozenset({"javascript", "data", "file", "vbscript"})
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_HOSTPORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]@]+)(?::([0-9]{1,5}))?")
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


class InputError(ValueError):
    """Base of input-safety refusals."""


class HeaderInjectionError(InputError):
    """A header name or value would split or smuggle headers (CR, LF, NUL or other controls)."""


class PathTraversalError(InputError):
    """A user-supplied path would leave its root (``..``, absolute path, drive, NUL or a symlink out)."""


def _has_controls(value: str, *, allow_tab: bool = False) -> bool:
    return any((ord(c) < 0x20 and not (allow_tab and c == "\t")) or ord(c) == 0x7F for c in value)


def is_token(value: str) -> bool:
    """RFC 9110 ``token`` (tchar+): header names, methods, cookie names."""
    return bool(value) and all(c in _TCHAR for c in value)


def is_header_name(value: str) -> bool:
    return is_token(value)


def is_header_value(value: str) -> bool:
    """No control characters except horizontal tab (so no CR/LF response splitting, no NUL)."""
    return not _has_controls(value, allow_tab=True)


def check_header_value(value: str, name: str = "header") -> str:
    """Return ``value`` if it is a safe header value, else raise :class:`HeaderInjectionError`."""
    if not is_header_value(value):
        raise HeaderInjectionError(f"{name} contains control characters")
    return value


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join user-supplied ``parts`` under ``root`` and prove the result stays inside it, following symlinks.

    Refuses absolute parts, Windows drives and UNC names, backslashes, NUL and anything that resolves outside the
    real ``root`` (including through a symlink). The returned path need not exist.
    """
    real_root = os.path.realpath(root)
    for part in parts:
        if "\x00" in part or "\\" in part or part.startswith("/") or (len(part) >= 2 and part[1] == ":"):
            raise PathTraversalError(f"unsafe path part {part!r}")
    candidate = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, candidate]) != real_root:
        raise PathTraversalError("path escapes its root")
    return Path(candidate)


def is_safe_redirect(url: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """True for a same-site path (``/x``, not ``//x`` or ``/\\x``) or an http(s) URL whose host is allowed.

    Browsers drop tabs and newlines inside URLs and treat ``\\`` as ``/``, so any control character or backslash
    makes the target unsafe.
    """
    if not url or _has_controls(url) or "\\" in url or url != url.strip():
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    del port
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    hosts = {h.lower().rstrip(".") for h in allowed_hosts}
    return parts.hostname.lower().rstrip(".") in hosts


def safe_redirect_target(url: str | None, allowed_hosts: Iterable[str] = (), fallback: str = "/") -> str:
    """``url`` if :func:`is_safe_redirect` accepts it, else ``fallback``."""
    return url if url is not None and is_safe_redirect(url, allowed_hosts) else fallback


def validate_url(url: str) -> bool:
    """Go's ``ValidateURL``: ≤2048 chars; absolute http(s) with a host, no userinfo and a decimal port; or a safe
    relative ``/path``; never javascript:, data:, file: or vbscript:."""
    if not url or len(url) > 2048 or _has_controls(url) or "\\" in url:
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme in _BLOCKED_SCHEMES or scheme not in ("http", "https"):
        return False
    if not parts.hostname or "@" in parts.netloc:
        return False
    hostport = _HOSTPORT.fullmatch(parts.netloc)
    if hostport is None:
        return False
    port = hostport.group(2)
    return port is None or 0 < int(port) < 65536


def validate_public_url(url: str) -> bool:
    """:func:`validate_url` for an absolute URL that does not name localhost, a metadata host or a private,
    loopback, link-local, multicast, reserved or unspecified IP literal (an SSRF pre-check; DNS is not resolved)."""
    if not validate_url(url) or url.startswith("/"):
        return False
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or host in _METADATA_HOSTS:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def validate_email(address: str) -> bool:
    """Go's ``ValidateEmail`` shape: ≤254 chars, local part ≤64 (dot-atom), domain of ≥2 DNS labels."""
    if not address or len(address) > 254 or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def strip_control_chars(value: str) -> str:
    """Remove control characters except newline and tab."""
    return "".join(c for c in value if c in "\n\t" or not (ord(c) < 0x20 or ord(c) == 0x7F))
