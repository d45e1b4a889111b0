"""plumego-lint: the boundary and architecture linter for Plumego and the services built on it.

Reads the control plane (specs/*.yaml and every module.yaml) and enforces it on import facts
parsed with libcst. Must not import the plumego runtime (it reads plumego's manifests as data).
"""

__version__ = "0.1.0"
