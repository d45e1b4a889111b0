"""Plumbing the example apps share: configuration precedence (defaults < .env < environment < flags) and serving
with uvicorn on a socket bound first, so ``--port 0`` can print the address. Not part of plumego's API; an app of
your own would have its own ``main``. Imports the standard library and the plumego stable roots only.
"""

from .config import ConfigError, ExampleConfig, load_config
from .serve import run, serve_example

__all__ = ["ConfigError", "ExampleConfig", "load_config", "run", "serve_example"]
