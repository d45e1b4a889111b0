"""with_gateway: a reverse proxy in front of one backend (Go's with-gateway).

``python -m examples.with_gateway [--host H] [--port P] [--backend URL]``: ANY /proxy/*path is forwarded to
``--backend`` (default http://localhost:9090, or ``APP_BACKEND``) with the ``/proxy`` prefix stripped, streaming
both ways; GET /healthz answers while the process runs and GET /readyz says whether the backend answers. The
gateway API is used only in ``adapters/proxy.py``, behind the app's own ``Upstream`` protocol.
"""
