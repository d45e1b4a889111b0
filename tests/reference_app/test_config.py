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
