"""plumego.x.observability.devtools (experimental): developer endpoints (routes, middleware, redacted config,
info, pprof-like profiling) that refuse to mount in production.

Imports the standard library and the stable roots its module.yaml allows; never the reference app or tooling.
"""

from plumego.x.observability.devtools._devtools import DevtoolsRefused, mount_devtools, redact

__all__ = ["DevtoolsRefused", "mount_devtools", "redact"]
