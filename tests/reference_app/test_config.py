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
