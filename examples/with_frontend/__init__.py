"""with_frontend: a single-page app and its JSON API in one process (Go's with-frontend).

``python -m examples.with_frontend [--host H] [--port P]``; environment ``API_PREFIX`` (default ``/api``),
``UI_PREFIX`` (default: the site root) and ``ASSETS_DIR`` (default: this example's ``static/`` build). The API
routes are registered before the frontend mount; the index is served ``no-cache``, the content-hashed assets
``immutable`` (with their precompressed ``.gz``), and extension-less paths that accept HTML fall back to the index.
"""
