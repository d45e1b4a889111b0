"""plumego.x.frontend (beta): serve a built frontend — static files, SPA fallback, precompressed variants, cache
headers, ETag and Range — from a directory whose canonical root symlinks cannot escape.

::

    app.get("/api/health", health)                                 # API routes: they beat the mount's catch-all
    register_from_dir(app, "dist", cache_control="public, max-age=31536000, immutable", precompressed=True)

Imports only the standard library and plumego.contract/router; never plumego.core or the reference app.
"""

from ._mount import Mount, RouteRegistrar, register_from_dir

__all__ = ["Mount", "RouteRegistrar", "register_from_dir"]
