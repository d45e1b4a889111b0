"""Configuration of the reference service: defaults < .env file < process environment < flags.

Owns the ``Config`` dataclass, the small ``.env`` parser and validation. Imports only the standard
library; handlers never import this module (main -> config -> app -> handlers -> domain).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_MAX_BODY_BYTES = 1 << 20
ALL_INTERFACES = "0.0.0.0"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """Configuration that cannot start the service; the message names the offending setting."""


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".data")
    env_file: str = ".env"
    service_name: str = "plumego-reference"
    version: str = "dev"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # 0 disables the limit
    write_key: str = ""
    request_timeout: float = 30.0
    shutdown_timeout: float = 15.0
    cors_allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100
    http: str = "auto"  # uvicorn's HTTP implementation: auto, h11 or httptools
    read_header_timeout: float = 5.0
    max_header_bytes: int = 1 << 20
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)  # X-Forwarded-For is ignored unless set
    trusted_proxy_hops: int = 0
    tls_enabled: bool = False
    tls_cert_file: str = ""
    tls_key_file: str = ""

    @property
    def scheme(self) -> str:
        return "https" if self.tls_enabled else "http"

    def validate(self) -> Config:
        if not self.host:
            raise ConfigError("host must not be empty")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is outside 0-65535")
        if self.max_body_bytes < 0:
            raise ConfigError("APP_MAX_BODY_BYTES must be >= 0 (0 disables the limit)")
        if self.request_timeout <= 0 or self.shutdown_timeout <= 0:
            raise ConfigError("timeouts must be positive")
        if self.rate_limit_per_second <= 0 or self.rate_limit_burst < 1:
            raise ConfigError("rate limits must be positive")
        if self.tls_enabled:
            if not (self.tls_cert_file and self.tls_key_file):
                raise ConfigError("APP_TLS_ENABLED needs APP_TLS_CERT_FILE and APP_TLS_KEY_FILE")
            for name, path in (("APP_TLS_CERT_FILE", self.tls_cert_file), ("APP_TLS_KEY_FILE", self.tls_key_file)):
                if not Path(path).is_file():
                    raise ConfigError(f"{name}={path!r} is not a readable file")
        elif self.tls_cert_file or self.tls_key_file:
            # Go ignores the files unless TLS is enabled; a half-configured TLS setup is refused here instead.
            raise ConfigError("APP_TLS_CERT_FILE/APP_TLS_KEY_FILE are set but APP_TLS_ENABLED is not true")
        if self.http not in ("auto", "h11", "httptools"):
            raise ConfigError("APP_HTTP must be auto, h11 or httptools")
        if self.read_header_timeout < 0 or self.max_header_bytes < 0 or self.trusted_proxy_hops < 0:
            raise ConfigError("APP_READ_HEADER_TIMEOUT, APP_MAX_HEADER_BYTES and APP_TRUSTED_PROXY_HOPS must be >= 0")
        if self.trusted_proxy_hops > 32:
            raise ConfigError("APP_TRUSTED_PROXY_HOPS must be at most 32")
        if self.trusted_proxies and self.trusted_proxy_hops:
            raise ConfigError("set APP_TRUSTED_PROXIES or APP_TRUSTED_PROXY_HOPS, not both")
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(f"APP_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR") from None
        return self


def parse_addr(value: str, setting: str) -> tuple[str, int]:
    """Go's ``host:port``: ``:9000`` binds every interface (as ``net.Listen`` does), ``[::1]:9000`` an IPv6 host.

    Only the bare ``:port`` form means all interfaces; without any address the service stays on loopback.
    """
    host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or len(port) > 5:
        raise ConfigError(f"{setting}={value!r} must be host:port or :port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ConfigError(f"{setting}={value!r}: write an IPv6 host in brackets, e.g. [::1]:8080")
    number = int(port)
    if number > 65535:
        raise ConfigError(f"{setting}={value!r}: port is outside 0-65535")
    return host or ALL_INTERFACES, number


def _bool(name: str, value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (true/false)")


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, blank lines, optional ``export`` and matching quotes."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def _apply_env(cfg: Config, env: Mapping[str, str]) -> Config:
    def number(name: str, kind: type[int] | type[float]) -> int | float | None:
        if name not in env:
            return None
        try:
            return kind(env[name])
        except ValueError:
            raise ConfigError(f"{name}={env[name]!r} is not a valid {kind.__name__}") from None

    changes: dict[str, object] = {}
    if "APP_ADDR" in env:
        changes["host"], changes["port"] = parse_addr(env["APP_ADDR"], "APP_ADDR")
    if "APP_TLS_ENABLED" in env:
        changes["tls_enabled"] = _bool("APP_TLS_ENABLED", env["APP_TLS_ENABLED"])
    for name, attr in (("APP_HOST", "host"), ("APP_SERVICE_NAME", "service_name"), ("APP_VERSION", "version"),
                       ("APP_TLS_CERT_FILE", "tls_cert_file"), ("APP_TLS_KEY_FILE", "tls_key_file")):
        if name in env:
            changes[attr] = env[name]
    if "APP_WRITE_KEY" in env:  # an empty value explicitly clears a key set earlier
        changes["write_key"] = env["APP_WRITE_KEY"]
    if "APP_DATA_DIR" in env:
        changes["data_dir"] = Path(env["APP_DATA_DIR"])
    if "APP_CORS_ALLOWED_ORIGINS" in env:
        origins = env["APP_CORS_ALLOWED_ORIGINS"].split(",")
        changes["cors_allowed_origins"] = tuple(o.strip() for o in origins if o.strip())
    if "APP_TRUSTED_PROXIES" in env:
        proxies = env["APP_TRUSTED_PROXIES"].split(",")
        changes["trusted_proxies"] = tuple(p.strip() for p in proxies if p.strip())
    if "APP_HTTP" in env:
        changes["http"] = env["APP_HTTP"].strip().lower()
    for name, attr, kind in (("APP_READ_HEADER_TIMEOUT", "read_header_timeout", float),
                             ("APP_MAX_HEADER_BYTES", "max_header_bytes", int),
                             ("APP_TRUSTED_PROXY_HOPS", "trusted_proxy_hops", int)):
        value = number(name, kind)
        if value is not None:
            changes[attr] = value
    for name, attr, kind in (("APP_PORT", "port", int), ("APP_MAX_BODY_BYTES", "max_body_bytes", int),
                             ("APP_REQUEST_TIMEOUT", "request_timeout", float),
                             ("APP_RATE_LIMIT_PER_SECOND", "rate_limit_per_second", float),
                             ("APP_RATE_LIMIT_BURST", "rate_limit_burst", int)):
        value = number(name, kind)
        if value is not None:
            changes[attr] = value
    return replace(cfg, **changes)  # type: ignore[arg-type]


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reference_app", description="The Plumego reference service.")
    parser.add_argument("--addr", help="host:port to bind, as in Go (':9000' = every interface); --host/--port win")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default 8080; 0 picks a free port)")
    parser.add_argument("--data-dir", type=Path, help="directory for the embedded SQLite database (default ./.data)")
    parser.add_argument("--env-file", help="dotenv file read before the environment (default .env)")
    parser.add_argument("--write-key", help="require this X-Write-Key on writes")
    return parser


def load(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from every source, lowest precedence first, and validate it."""
    env = dict(os.environ if environ is None else environ)
    args = build_arg_parser().parse_args(argv)
    cfg = Config()
    env_file = args.env_file or env.get("APP_ENV_FILE") or cfg.env_file
    path = Path(env_file)
    if path.is_file():
        try:
            cfg = _apply_env(cfg, parse_env_file(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"cannot read env file {env_file}: {exc}") from None
    elif args.env_file:
        raise ConfigError(f"env file {env_file} does not exist")
    cfg = replace(_apply_env(cfg, env), env_file=env_file)
    flags: dict[str, object] = {}
    if args.addr is not None:
        flags["host"], flags["port"] = parse_addr(args.addr, "--addr")
    for attr in ("host", "port", "data_dir", "write_key"):
        value = getattr(args, attr)
        if value is not None:
            flags[attr] = value
    return replace(cfg, **flags).validate()  # type: ignore[arg-type]
