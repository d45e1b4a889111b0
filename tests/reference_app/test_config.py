"""Configuration precedence: defaults < .env < environment < flags, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_app.config import Config, ConfigError, load, parse_env_file


def test_defaults_without_any_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load([], {})
    assert cfg == Config()
    assert (cfg.host, cfg.port, cfg.max_body_bytes) == ("127.0.0.1", 8080, 1 << 20)


def test_precedence(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text('# comment\nexport APP_PORT=9001\nAPP_SERVICE_NAME="from file"\nAPP_WRITE_KEY=filekey\n')
    cfg = load(["--env-file", str(env_file)], {"APP_PORT": "9002"})
    assert cfg.port == 9002 and cfg.service_name == "from file" and cfg.write_key == "filekey"
    cfg = load(["--env-file", str(env_file), "--port", "9003"], {"APP_PORT": "9002", "APP_WRITE_KEY": ""})
    assert cfg.port == 9003
    assert cfg.write_key == ""  # an empty environment value clears the key from the file


def test_env_parser_quotes_and_junk() -> None:
    assert parse_env_file("A='x y'\nB=\"z\"\nnot a pair\n=nokey\nC = 3 \n") == {"A": "x y", "B": "z", "C": "3"}


@pytest.mark.parametrize(("env", "message"), [
    ({"APP_PORT": "eighty"}, "APP_PORT"),
    ({"APP_MAX_BODY_BYTES": "-1"}, "APP_MAX_BODY_BYTES"),
    ({"APP_ADDR": "nohostport"}, "APP_ADDR"),
])
def test_bad_values_name_the_setting(env: dict[str, str], message: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        load([], env)


def test_missing_explicit_env_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(["--env-file", str(tmp_path / "nope.env")], {})


@pytest.mark.parametrize(("addr", "host", "port"), [
    (":9000", "0.0.0.0", 9000),  # Go: ":port" listens on every interface
    ("127.0.0.1:9001", "127.0.0.1", 9001),
    ("0.0.0.0:9002", "0.0.0.0", 9002),
    ("[::1]:9003", "::1", 9003),
    ("localhost:0", "localhost", 0),
])
def test_app_addr_and_addr_flag_follow_go(addr: str, host: str, port: int, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load([], {"APP_ADDR": addr})
    assert (cfg.host, cfg.port) == (host, port)
    cfg = load(["--addr", addr], {})
    assert (cfg.host, cfg.port) == (host, port)


def test_addr_flag_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load([], {}).host == "127.0.0.1"  # no configuration: loopback
    cfg = load(["--addr", ":7000"], {"APP_ADDR": "127.0.0.1:6000"})
    assert (cfg.host, cfg.port) == ("0.0.0.0", 7000)  # flags beat the environment
    cfg = load(["--addr", ":7000", "--port", "7001"], {})
    assert (cfg.host, cfg.port) == ("0.0.0.0", 7001)  # --host/--port refine --addr


@pytest.mark.parametrize("addr", ["9000", "host:", "host:port", "::1:9000", "h:99999", "h:\uff19\uff10"])
def test_bad_addr_is_refused(addr: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="APP_ADDR"):
        load([], {"APP_ADDR": addr})
    with pytest.raises(ConfigError, match="--addr"):
        load(["--addr", addr], {})


def test_tls_settings_are_read_or_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("y")
    cfg = load([], {"APP_TLS_ENABLED": "true", "APP_TLS_CERT_FILE": str(cert), "APP_TLS_KEY_FILE": str(key)})
    assert (cfg.tls_enabled, cfg.tls_cert_file, cfg.tls_key_file, cfg.scheme) == (True, str(cert), str(key), "https")
    with pytest.raises(ConfigError, match="APP_TLS_CERT_FILE and APP_TLS_KEY_FILE"):
        load([], {"APP_TLS_ENABLED": "1", "APP_TLS_CERT_FILE": str(cert)})
    with pytest.raises(ConfigError, match="APP_TLS_KEY_FILE"):
        load([], {"APP_TLS_ENABLED": "1", "APP_TLS_CERT_FILE": str(cert), "APP_TLS_KEY_FILE": str(tmp_path / "no")})
    with pytest.raises(ConfigError, match="APP_TLS_ENABLED"):
        load([], {"APP_TLS_ENABLED": "maybe"})
    with pytest.raises(ConfigError, match="APP_TLS_ENABLED is not true"):  # never silently ignored
        load([], {"APP_TLS_CERT_FILE": str(cert), "APP_TLS_KEY_FILE": str(key)})
def test_http_surface_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load([], {"APP_HTTP": "H11", "APP_READ_HEADER_TIMEOUT": "2.5", "APP_MAX_HEADER_BYTES": "65536",
                    "APP_TRUSTED_PROXIES": "10.0.0.0/8, ::1,"})
    assert (cfg.http, cfg.read_header_timeout, cfg.max_header_bytes) == ("h11", 2.5, 65536)
    assert cfg.trusted_proxies == ("10.0.0.0/8", "::1") and cfg.trusted_proxy_hops == 0
    assert load([], {"APP_TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    for env, message in (({"APP_HTTP": "hyper"}, "APP_HTTP"), ({"APP_TRUSTED_PROXIES": "10.0.0.0/33"}, "10.0.0.0/33"),
                         ({"APP_TRUSTED_PROXIES": "10.0.0.1", "APP_TRUSTED_PROXY_HOPS": "1"}, "not both"),
                         ({"APP_MAX_HEADER_BYTES": "-1"}, "APP_MAX_HEADER_BYTES"),
                         ({"APP_TRUSTED_PROXY_HOPS": "33"}, "at most 32")):
        with pytest.raises(ConfigError, match=message):
            load([], env)
