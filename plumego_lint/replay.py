"""CLI replay: re-emit the last report of an identical ``plumego-lint check`` when none of its inputs changed.

The run cache already makes such a run cheap; replay also skips argparse, config, dataclasses and the
engine, which are most of what is left (interpreter start-up aside). A record, ``cli-<key>.marshal`` in
the project's ``.plumego-lint-cache/``, is keyed on the argument list, the working directory, the Python
version and plumego-lint's own source, and holds the report text (for text on standard output also its coloured
form and the clean-run line, chosen again for the terminal it replays to), the exit code and the identity of the
run-cache file whose snapshot it was made from. It is replayed only while that run-cache file is the
same one and its snapshot still matches the tree; runs with a baseline, ``--no-cache`` or help are never
recorded. Standard library, ``plumego_lint.snapshot`` and ``plumego_lint.terminal`` only: no engine, config,
specs or rules.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Sequence

from plumego_lint import __version__
from plumego_lint.snapshot import Snapshot, code_fingerprint

FORMAT = 2
CACHE_DIR = ".plumego-lint-cache"     # replay only looks for the default cache directory
_NEVER = ("--no-cache", "--baseline", "--write-baseline", "-h", "--help")


# What a replay that found a change leaves for the run that follows in the same process: (run-cache file, its
# stamp, the record read from it, how many of its directories and files were found unchanged before the first
# difference). ``take_handoff`` gives it to the engine once, and only for that very file version.
HANDOFF: tuple[str, object, dict[str, object], tuple[int, int]] | None = None


def take_handoff(run_file: str, stamp: object) -> tuple[dict[str, object], tuple[int, int]] | None:
    """The record and verified prefix a failed replay read from ``run_file`` at ``stamp``, else None."""
    global HANDOFF
    handed, HANDOFF = HANDOFF, None
    if handed is None or handed[0] != run_file or handed[1] != stamp:
        return None
    return handed[2], handed[3]


def eligible(argv: Sequence[str]) -> bool:
    return bool(argv) and argv[0] == "check" and not any(a.split("=", 1)[0] in _NEVER for a in argv)


def _key(argv: Sequence[str], cwd: str) -> str:
    payload = repr((FORMAT, __version__, sys.version, sys.prefix, sys.path[1:], list(argv), cwd, code_fingerprint()))
    return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def replay(argv: Sequence[str]) -> int | None:
    """The exit code after re-emitting the recorded report, or None (run normally)."""
    if not eligible(argv):
        return None
    try:
        cwd = os.getcwd()
        name = f"cli-{_key(argv, cwd)}.marshal"
        directory = cwd
        while not os.path.isfile(os.path.join(directory, CACHE_DIR, name)):
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent
        with open(os.path.join(directory, CACHE_DIR, name), "rb") as handle:
            record = marshal.loads(handle.read())
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        run_file, run_stamp, text, output, code = (record["run_file"], record["run_stamp"], record["text"],
                                                    record["output"], record["code"])
        coloured, summary, notes = record["coloured"], record["summary"], record["notes"]
        if not (isinstance(run_file, str) and isinstance(text, str) and isinstance(code, int)
                and all(v is None or isinstance(v, str) for v in (output, coloured, summary, notes))):
            return None
        if _stamp(run_file) != run_stamp:
            return None
        with open(run_file, "rb") as handle:
            run = marshal.loads(handle.read())
        dirs, files = run["dirs"], run["files"]
        if not (isinstance(dirs, dict) and isinstance(files, dict)):
            return None
        verified = Snapshot(dirs, files).first_change()
        if verified is not None:
            global HANDOFF      # the run that follows need not read this record or stat these entries again
            HANDOFF = (run_file, run_stamp, run, verified)
            return None
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        return None
    if notes:
        sys.stderr.write(notes)
    if output is None:
        if coloured is None and summary is None:
            sys.stdout.write(text)
        else:   # text on standard output: colour and the clean-run line, decided again for this stdout
            from plumego_lint.terminal import write_report

            write_report(sys.stdout, text, coloured, summary)
    else:
        try:
            os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
            with open(output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            return None
    return code


def record(argv: Sequence[str], root: str, run_file: str, run_stamp: tuple[int, int, int], text: str,
           output: str | None, code: int, coloured: str | None = None, summary: str | None = None,
           notes: str | None = None) -> None:
    """Remember this run's report for ``replay`` (atomically; a read-only tree just records nothing).

    ``coloured`` and ``summary`` are the text format's terminal forms (colour, the clean-run line): replay
    chooses between them by the terminal and environment it replays to, as the CLI does. ``notes`` is what
    the run wrote on standard error (configuration warnings), written again."""
    if not eligible(argv) or code not in (0, 1):
        return
    import tempfile

    directory = os.path.join(root, CACHE_DIR)
    target = os.path.join(directory, f"cli-{_key(argv, os.getcwd())}.marshal")
    data = {"format": FORMAT, "run_file": run_file, "run_stamp": run_stamp, "text": text, "output": output,
            "code": code, "coloured": coloured, "summary": summary, "notes": notes}
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cli-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(data, handle)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return
