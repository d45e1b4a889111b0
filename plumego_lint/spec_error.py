"""``SpecError``: a spec or configuration file that cannot be used at all (PLG902, exit 2).

Lives alone so that the config loader and the CLI can raise and catch it without importing the
specs package (and PyYAML): the warm "nothing changed" path never loads a spec. Imports nothing.
"""

from __future__ import annotations


class SpecError(Exception):
    """A spec or configuration file that cannot be used at all (PLG902; the CLI exits 2)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message
