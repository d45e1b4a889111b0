from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from plumego.core import App, AppConfig, ServerUnavailable, serve
from plumego.core.cli import load_app, main


def write_module(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))


def test_load_app_resolves_module_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_module(tmp_path, "svc_ok", """
        from plumego.core import App
        app = App()
        class holder:
            inner = app
    """)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert isinstance(load_app("svc_ok:app"), App)
    assert load_app("svc_ok:holder.inner") is load_app("svc_ok:app")


@pytest.mark.parametrize(
    ("target", "message"),
    [("nocolon", "expected 'module:app'"), ("missing_mod_xyz:app", "cannot import module"),
     ("svc_bad:nope", "has no attribute"), ("svc_bad:value", "not an ASGI application")],
)
def test_main_reports_load_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], target: str, message: str) -> None:
    write_module(tmp_path, "svc_bad", "value = 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["serve", target]) == 2
    assert message in capsys.readouterr().err


def test_missing_uvicorn_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_module(tmp_path, "svc_uv", "from plumego.core import App\napp = App()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` raise ImportError
    assert main(["serve", "svc_uv:app", "--port", "9999"]) == 2
    assert "pip install 'plumego[server]'" in capsys.readouterr().err
    with pytest.raises(ServerUnavailable):
        serve(App(), AppConfig())


def test_invalid_config_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    write_module(tmp_path, "svc_cfg", "from plumego.core import App\napp = App()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["serve", "svc_cfg:app", "--port", "70000"]) == 2
    assert "port 70000 out of range" in capsys.readouterr().err


def test_version_flag_prints_the_installed_version_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "plumego.core.cli", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"plumego {importlib.metadata.version('plumego')}"
