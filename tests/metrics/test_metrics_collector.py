"""The in-process collector: counters, gauges, histograms, labels, snapshots and thread safety."""

from __future__ import annotations

import json
import math
import threading

import pytest

from plumego.metrics import Counter, Gauge, Histogram, MetricsCollector


def test_counter_counts_per_label_set() -> None:
    c = MetricsCollector()
    counter = c.counter("jobs_total", "jobs", ["queue"])
    counter.inc(labels={"queue": "a"})
    counter.inc(2.5, {"queue": "a"})
    counter.inc(labels={"queue": "b"})
    assert counter.value({"queue": "a"}) == 3.5
    assert counter.value({"queue": "b"}) == 1.0
    assert counter.value({"queue": "c"}) == 0.0
    assert isinstance(counter, Counter)


def test_counter_rejects_negative_and_wrong_labels() -> None:
    counter = MetricsCollector().counter("x_total", label_names=("a",))
    with pytest.raises(ValueError):
        counter.inc(-1, {"a": "1"})
    with pytest.raises(ValueError):
        counter.inc()
    with pytest.raises(ValueError):
        counter.inc(labels={"b": "1"})
    with pytest.raises(ValueError):
        counter.inc(labels={"a": "1", "b": "2"})


def test_gauge_goes_up_and_down() -> None:
    gauge = MetricsCollector().gauge("in_flight")
    gauge.inc()
    gauge.inc(4)
    gauge.dec(2)
    assert gauge.value() == 3.0
    gauge.set(-7)
    assert gauge.value() == -7.0
    assert isinstance(gauge, Gauge)


def test_histogram_buckets_are_cumulative_with_inf() -> None:
    c = MetricsCollector()
    hist = c.histogram("latency_seconds", buckets=[0.1, 1.0])
    for value in (0.05, 0.1, 0.5, 3.0):
        hist.observe(value)
    assert isinstance(hist, Histogram)
    family = c.snapshot().family("latency_seconds")
    assert family is not None and family.kind == "histogram"
    (sample,) = family.samples
    assert sample.count == 4 and sample.sum == pytest.approx(3.65)
    assert sample.buckets == ((0.1, 2), (1.0, 3), (math.inf, 4))


def test_get_or_create_returns_same_metric_and_rejects_conflicts() -> None:
    c = MetricsCollector()
    assert c.counter("a_total", label_names=["x"]) is c.counter("a_total", label_names=["x"])
    with pytest.raises(ValueError):
        c.gauge("a_total", label_names=["x"])
    with pytest.raises(ValueError):
        c.counter("a_total", label_names=["y"])
    with pytest.raises(ValueError):
        c.counter("bad name")
    with pytest.raises(ValueError):
        c.counter("ok_total", label_names=["__reserved"])
    with pytest.raises(ValueError):
        c.counter("dup_total", label_names=["a", "a"])


def test_snapshot_is_sorted_copy_and_json_serialisable() -> None:
    c = MetricsCollector()
    c.gauge("b_gauge").set(1)
    counter = c.counter("a_total", "help a", ["k"])
    counter.inc(labels={"k": "v2"})
    counter.inc(labels={"k": "v1"})
    c.histogram("h", buckets=[1]).observe(0.5)
    snap = c.snapshot()
    counter.inc(labels={"k": "v1"})
    assert [f.name for f in snap.families] == ["a_total", "b_gauge", "h"]
    a = snap.family("a_total")
    assert a is not None
    assert [(s.labels, s.value) for s in a.samples] == [({"k": "v1"}, 1.0), ({"k": "v2"}, 1.0)]
    encoded = json.loads(json.dumps(snap.to_dict()))
    h = encoded["families"][2]
    assert h["samples"][0]["buckets"] == [{"le": 1.0, "count": 1}, {"le": "+Inf", "count": 1}]
    assert encoded["families"][0]["help"] == "help a"
    assert snap.family("missing") is None


def test_clear_drops_series_but_keeps_families() -> None:
    c = MetricsCollector()
    counter = c.counter("a_total")
    counter.inc()
    c.clear()
    assert counter.value() == 0.0
    family = c.snapshot().family("a_total")
    assert family is not None and family.samples == ()


def test_concurrent_increments_are_not_lost() -> None:
    c = MetricsCollector()
    counter = c.counter("hits_total", label_names=["t"])
    hist = c.histogram("h", buckets=[1])

    def work() -> None:
        for _ in range(2000):
            counter.inc(labels={"t": "x"})
            hist.observe(0.5)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.value({"t": "x"}) == 16000
    family = c.snapshot().family("h")
    assert family is not None and family.samples[0].count == 16000
