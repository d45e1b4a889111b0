"""Topic patterns: Go's glob (``filepath.Match`` with ``/`` as the separator) and MQTT filters (``+`` and ``#``).

Owns compiling a pattern into a matcher and validating it; a malformed pattern is a ValueError at subscribe time,
never a silent non-match. Imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["compile_glob", "compile_mqtt", "validate_topic"]

Matcher = Callable[[str], bool]


_BAD_TOPIC = re.compile(r"[+#*?\[\x00-\x1f\x7f]")


def validate_topic(topic: str) -> str:
    """A published topic is non-empty, has no wildcard characters and no control characters."""
    if not topic:
        raise ValueError("topic must not be empty")
    if _BAD_TOPIC.search(topic):
        raise ValueError(f"topic {topic!r} may not contain wildcards (+ # * ? [) or control characters")
    return topic


def compile_glob(pattern: str) -> Matcher:
    """Go's ``filepath.Match``: ``*`` any run of non-``/`` characters, ``?`` one non-``/`` character, ``[...]`` a
    class (``[^...]`` negated, ``a-z`` ranges), ``\\`` escapes the next character. ``ValueError`` on a bad pattern
    (Go's ``ErrBadPattern``: an unclosed class, an empty range, a trailing backslash)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= n:
                raise ValueError(f"bad pattern {pattern!r}: trailing backslash")
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            negate = i < n and pattern[i] == "^"
            if negate:
                i += 1
            parts: list[str] = []
            first = True
            while True:
                if i >= n:
                    raise ValueError(f"bad pattern {pattern!r}: unclosed character class")
                if pattern[i] == "]" and not first:
                    break
                lo, i = _class_char(pattern, i)
                if i < n and pattern[i] == "-":
                    hi, i = _class_char(pattern, i + 1)
                    if hi < lo:
                        raise ValueError(f"bad pattern {pattern!r}: empty range {lo}-{hi}")
                    parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
                else:
                    parts.append(re.escape(lo))
                first = False
            cls = "".join(parts)
            out.append(f"[^/{cls}]" if negate else f"(?:(?!/)[{cls}])")
        else:
            out.append(re.escape(c))
        i += 1
    regex = re.compile("".join(out), re.DOTALL)
    return lambda topic: regex.fullmatch(topic) is not None


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern):
        raise ValueError(f"bad pattern {pattern!r}: unclosed character class")
    c = pattern[i]
    if c == "\\":
        if i + 1 >= len(pattern):
            raise ValueError(f"bad pattern {pattern!r}: trailing backslash")
        return pattern[i + 1], i + 2
    if c in "-]":
        raise ValueError(f"bad pattern {pattern!r}: {c!r} where a class character was expected")
    return c, i + 1


def compile_mqtt(filter_: str) -> Matcher:
    """An MQTT 3.1.1/5 topic filter: levels split by ``/``; ``+`` matches exactly one level, ``#`` (last level
    only) matches the parent level and everything below it. Wildcards do not match topics starting with ``$``
    at the first level (MQTT 4.7.2). ``ValueError`` on a filter the broker would reject."""
    if not filter_:
        raise ValueError("an MQTT filter must not be empty")
    levels = filter_.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise ValueError(f"bad MQTT filter {filter_!r}: '#' must be a whole level and the last one")
        if "+" in level and level != "+":
            raise ValueError(f"bad MQTT filter {filter_!r}: '+' must be a whole level")
    wild_first = levels[0] in ("+", "#")

    def match(topic: str) -> bool:
        if wild_first and topic.startswith("$"):
            return False
        parts = topic.split("/")
        for index, level in enumerate(levels):
            if level == "#":
                return True
            if index >= len(parts):
                return False
            if level != "+" and level != parts[index]:
                return False
        return len(parts) == len(levels)

    return match
