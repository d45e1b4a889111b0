"""Plumego for Python: an ASGI HTTP toolkit with a small stable kernel and optional x/* extensions.

There is deliberately no facade here: import from the owning root (``plumego.core``,
``plumego.router``, ...). Library code must never import this package itself (PLG104).
"""

__version__ = "0.1.0"
