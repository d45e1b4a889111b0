"""Pattern grammar tables: Go's filepath.Match cases (with '/' as the separator) and the MQTT spec's examples."""

from __future__ import annotations

import pytest

from plumego.x.messaging.pubsub import compile_glob, compile_mqtt, validate_topic

GLOB = [  # (pattern, topic, matches) - from Go's path/filepath match_test.go where they apply
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("orders.*", "orders.created", True),
]
BAD_GLOBS = ["[]a]", "[-]", "[x-]", "[a-b-c]", "[", "[^", "[^bc", "a[", "a\\", "[z-a]"]

MQTT = [  # (filter, topic, matches) - MQTT 3.1.1 section 4.7
    ("sport/tennis/player1/#", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),
    ("#", "sport/tennis", True),
    ("sport/tennis/+", "sport/tennis/player1", True),
    ("sport/tennis/+", "sport/tennis/player1/ranking", False),
    ("sport/+", "sport", False),
    ("sport/+", "sport/", True),
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("+", "/finance", False),
    ("#", "$SYS/broker/clients", False),
    ("+/monitor/Clients", "$SYS/monitor/Clients", False),
    ("$SYS/#", "$SYS/broker/clients", True),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
    ("a/b", "a/b", True),
    ("a/b", "a/B", False),
]
BAD_MQTT = ["", "sport/tennis#", "sport/tennis/#/ranking", "sport+", "a/#/b", "+a"]


@pytest.mark.parametrize(("pattern", "topic", "expected"), GLOB)
def test_glob(pattern: str, topic: str, expected: bool) -> None:
    assert compile_glob(pattern)(topic) is expected


@pytest.mark.parametrize("pattern", BAD_GLOBS)
def test_bad_glob_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        compile_glob(pattern)


@pytest.mark.parametrize(("filter_", "topic", "expected"), MQTT)
def test_mqtt(filter_: str, topic: str, expected: bool) -> None:
    assert compile_mqtt(filter_)(topic) is expected


@pytest.mark.parametrize("filter_", BAD_MQTT)
def test_bad_mqtt_filter_is_refused(filter_: str) -> None:
    with pytest.raises(ValueError):
        compile_mqtt(filter_)


@pytest.mark.parametrize("topic", ["", "a/+", "a/#", "a*", "a?", "a[b", "a\nb", "a\x00"])
def test_published_topics_have_no_wildcards(topic: str) -> None:
    with pytest.raises(ValueError):
        validate_topic(topic)
