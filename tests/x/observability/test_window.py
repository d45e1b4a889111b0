"""Window metrics and the record buffer with a fake clock."""

from __future__ import annotations

import math

import pytest

from plumego.x.observability import RecordBuffer, WindowMetrics


def test_window_percentiles_and_expiry() -> None:
    now = [1000.0]
    window = WindowMetrics(10.0, clock=lambda: now[0])
    for value in range(1, 101):
        window.observe(float(value))
    stats = window.stats()
    assert (stats.count, stats.sum, stats.min, stats.max) == (100, 5050.0, 1.0, 100.0)
    assert (stats.p50, stats.p95, stats.p99) == (50.0, 95.0, 99.0)
    assert stats.mean == 50.5
    now[0] += 5
    window.observe(7.0)
    now[0] += 6                                   # the first hundred are now 11 s old
    assert window.stats().to_dict() == {"count": 1, "sum": 7.0, "mean": 7.0, "min": 7.0, "max": 7.0,
                                        "p50": 7.0, "p95": 7.0, "p99": 7.0}
    now[0] += 60
    assert window.stats().count == 0 and window.stats().p99 == 0.0


def test_window_bounds_and_bad_input() -> None:
    window = WindowMetrics(60.0, max_samples=3, clock=lambda: 0.0)
    for value in (1.0, 2.0, 3.0, 4.0):
        window.observe(value)
    assert window.stats().min == 2.0
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError):
            window.observe(bad)
    with pytest.raises(ValueError):
        WindowMetrics(0)


def test_record_buffer() -> None:
    buffer: RecordBuffer[int] = RecordBuffer(3)
    for i in range(5):
        buffer.add(i)
    assert buffer.snapshot() == [2, 3, 4]
    assert buffer.snapshot(2) == [3, 4] and buffer.snapshot(0) == []
    assert (buffer.total, buffer.dropped, len(buffer)) == (5, 2, 3)
    buffer.clear()
    assert buffer.snapshot() == []
    with pytest.raises(ValueError):
        RecordBuffer(0)
