"""What the CLI does differently on a terminal: colour, the one-line summary of a clean run, a progress line.

Colour follows the usual switches: ``NO_COLOR`` (any non-empty value) turns it off, else ``FORCE_COLOR``
(non-empty, not ``0``) turns it on even into a pipe, else it is on when the stream is a terminal whose
``TERM`` is not ``dumb``. The summary line and the progress line appear only on a terminal, whatever
``FORCE_COLOR`` says: pipes and files get exactly the text they always did. Standard library only (the
replay path imports it); must not import the engine, rules or reporters.
"""

from __future__ import annotations

import os
import sys
import time

# not typing.TYPE_CHECKING: importing typing costs the replayed run ~8 ms (mypy reads it the same)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

RESET = "\033[0m"
BOLD = "\033[1m"
RED = "\033[31m"
GREEN = "\033[32m"
YELLOW = "\033[33m"
CYAN = "\033[36m"
SEVERITY_STYLE = {"error": BOLD + RED, "warning": BOLD + YELLOW, "info": BOLD + CYAN}
# Runs that parse at least this many files show a progress line (the engine parses that many in parallel).
PROGRESS_MIN_FILES = 300


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):    # replaced or closed streams
        return False


def wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force != "0":
        return True
    return is_terminal(stream) and os.environ.get("TERM") != "dumb"


def paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{RESET}" if colour and style else text


def clean_summary(files: int, colour: bool) -> str:
    """The line a clean run prints on a terminal (a clean run into a pipe prints nothing, as before)."""
    noun = "file" if files == 1 else "files"
    return paint(f"checked {files} {noun}, no findings", GREEN, colour) + "\n"


def write_report(stream: TextIO, text: str, coloured: str | None, summary: str | None) -> None:
    """A text report on ``stream``: the coloured form when colour is wanted, then the clean-run ``summary``
    line when the stream is a terminal (the CLI, and replay, which re-decides both where it replays to)."""
    colour = coloured is not None and wants_colour(stream)
    stream.write(coloured if colour and coloured is not None else text)
    if summary and is_terminal(stream):
        stream.write(paint(summary.rstrip("\n"), GREEN, colour) + "\n")


class Progress:
    """``plumego-lint: parsed 1,200/8,851 files`` on one line of a terminal, rewritten as the engine reports
    (in the main process, as each chunk of parsed files arrives), erased by ``close``. Small runs show nothing."""

    def __init__(self, stream: TextIO, min_files: int = PROGRESS_MIN_FILES) -> None:
        self.stream = stream
        self.min_files = min_files
        self.shown = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_files:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return          # at most ten repaints a second
        self._last = now
        tail = ", checking rules" if done >= total else ""
        self.stream.write(f"\r\033[Kplumego-lint: parsed {done:,}/{total:,} files{tail}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def progress_for(stream: TextIO | None = None) -> Progress | None:
    """A progress line on ``stream`` (default stderr) when it is a terminal; None otherwise."""
    err = sys.stderr if stream is None else stream
    return Progress(err) if is_terminal(err) else None
