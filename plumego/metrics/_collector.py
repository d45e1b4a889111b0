"""Counter, gauge and histogram contracts and the thread-safe in-process collector behind them.

Owns metric families, label validation and point-in-time snapshots. Imports only the standard library;
exporters (Prometheus, OpenTelemetry) live in plumego.x.observability and read snapshots.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

MetricKind = Literal["counter", "gauge", "histogram"]
Labels = Mapping[str, str]

# Prometheus' default buckets (seconds): a sensible default for request durations.
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

_LabelKey = tuple[str, ...]


@runtime_checkable
class Counter(Protocol):
    """A monotonically increasing value per label set."""

    def inc(self, amount: float = 1.0, labels: Labels | None = None) -> None:
        """Add ``amount`` (must be >= 0) to the series selected by ``labels``."""
        ...

    def value(self, labels: Labels | None = None) -> float: ...


@runtime_checkable
class Gauge(Protocol):
    """A value per label set that can go up and down."""

    def set(self, value: float, labels: Labels | None = None) -> None: ...

    def inc(self, amount: float = 1.0, labels: Labels | None = None) -> None: ...

    def dec(self, amount: float = 1.0, labels: Labels | None = None) -> None: ...

    def value(self, labels: Labels | None = None) -> float: ...


@runtime_checkable
class Histogram(Protocol):
    """Observations counted into cumulative ``le`` buckets, with their count and sum, per label set."""

    def observe(self, value: float, labels: Labels | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of a family at snapshot time. Histograms fill ``count``, ``sum`` and ``buckets``."""

    labels: Mapping[str, str]
    value: float = 0.0
    count: int = 0
    sum: float = 0.0
    buckets: tuple[tuple[float, int], ...] = ()

    def to_dict(self, kind: MetricKind) -> dict[str, object]:
        if kind != "histogram":
            return {"labels": dict(self.labels), "value": self.value}
        return {
            "labels": dict(self.labels),
            "count": self.count,
            "sum": self.sum,
            "buckets": [{"le": "+Inf" if math.isinf(le) else le, "count": n} for le, n in self.buckets],
        }


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """All series of one named metric, as captured by :meth:`MetricsCollector.snapshot`."""

    name: str
    kind: MetricKind
    help: str
    label_names: tuple[str, ...]
    samples: tuple[Sample, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "help": self.help,
            "label_names": list(self.label_names),
            "samples": [sample.to_dict(self.kind) for sample in self.samples],
        }


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """A consistent-per-family copy of every metric; ``to_dict`` is JSON-serialisable."""

    taken_at: float
    families: tuple[MetricFamily, ...]

    def family(self, name: str) -> MetricFamily | None:
        for family in self.families:
            if family.name == name:
                return family
        return None

    def to_dict(self) -> dict[str, object]:
        return {"taken_at": self.taken_at, "families": [family.to_dict() for family in self.families]}


class _Metric:
    """Shared label handling: series are keyed by label values in declared order."""

    __slots__ = ("name", "help", "label_names", "_lock")

    kind: MetricKind

    def __init__(self, name: str, help: str, label_names: tuple[str, ...]) -> None:
        self.name = name
        self.help = help
        self.label_names = label_names
        self._lock = threading.Lock()

    def _key(self, labels: Labels | None) -> _LabelKey:
        if not labels:
            if self.label_names:
                raise ValueError(f"metric {self.name!r} needs labels {list(self.label_names)}")
            return ()
        if len(labels) != len(self.label_names):
            raise ValueError(f"metric {self.name!r} takes labels {list(self.label_names)}, got {sorted(labels)}")
        try:
            return tuple(labels[name] for name in self.label_names)
        except KeyError:
            raise ValueError(
                f"metric {self.name!r} takes labels {list(self.label_names)}, got {sorted(labels)}"
            ) from None

    def _labels(self, key: _LabelKey) -> dict[str, str]:
        return dict(zip(self.label_names, key))

    def samples(self) -> tuple[Sample, ...]:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError


class _ValueMetric(_Metric):
    __slots__ = ("_values",)

    def __init__(self, name: str, help: str, label_names: tuple[str, ...]) -> None:
        super().__init__(name, help, label_names)
        self._values: dict[_LabelKey, float] = {}

    def _add(self, amount: float, labels: Labels | None) -> None:
        self.add_by_key(self._key(labels), amount)

    def add_by_key(self, key: tuple[str, ...], amount: float) -> None:
        """Hot-path add for callers that already hold label values in declared order (no validation)."""
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, labels: Labels | None = None) -> float:
        key = self._key(labels)
        with self._lock:
            return self._values.get(key, 0.0)

    def samples(self) -> tuple[Sample, ...]:
        with self._lock:
            items = sorted(self._values.items())
        return tuple(Sample(labels=self._labels(key), value=value) for key, value in items)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class CounterMetric(_ValueMetric):
    """In-process :class:`Counter`. Negative increments raise ValueError."""

    __slots__ = ()
    kind: MetricKind = "counter"

    def inc(self, amount: float = 1.0, labels: Labels | None = None) -> None:
        if amount < 0:
            raise ValueError(f"counter {self.name!r} cannot decrease (amount={amount})")
        self._add(amount, labels)


class GaugeMetric(_ValueMetric):
    """In-process :class:`Gauge`."""

    __slots__ = ()
    kind: MetricKind = "gauge"

    def set(self, value: float, labels: Labels | None = None) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def inc(self, amount: float = 1.0, labels: Labels | None = None) -> None:
        self._add(amount, labels)

    def dec(self, amount: float = 1.0, labels: Labels | None = None) -> None:
        self._add(-amount, labels)


class _HistogramSeries:
    __slots__ = ("counts", "count", "sum")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.count = 0
        self.sum = 0.0


class HistogramMetric(_Metric):
    """In-process :class:`Histogram` with fixed upper bounds (``+Inf`` is always the last bucket)."""

    __slots__ = ("bounds", "_series")
    kind: MetricKind = "histogram"

    def __init__(self, name: str, help: str, label_names: tuple[str, ...], buckets: Sequence[float]) -> None:
        super().__init__(name, help, label_names)
        bounds = sorted(float(b) for b in buckets if not math.isinf(b))
        if len(set(bounds)) != len(bounds):
            raise ValueError(f"histogram {name!r} has duplicate bucket bounds")
        self.bounds: tuple[float, ...] = (*bounds, math.inf)
        self._series: dict[_LabelKey, _HistogramSeries] = {}

    def observe(self, value: float, labels: Labels | None = None) -> None:
        self.observe_by_key(self._key(labels), value)

    def observe_by_key(self, key: tuple[str, ...], value: float) -> None:
        """Hot-path observe for callers that already hold label values in declared order (no validation)."""
        index = bisect.bisect_left(self.bounds, value)  # first bound >= value; NaN lands in +Inf
        if index >= len(self.bounds):
            index = len(self.bounds) - 1
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _HistogramSeries(len(self.bounds))
            series.counts[index] += 1
            series.count += 1
            series.sum += value

    def samples(self) -> tuple[Sample, ...]:
        with self._lock:
            items = [(key, list(s.counts), s.count, s.sum) for key, s in sorted(self._series.items())]
        samples = []
        for key, counts, count, total in items:
            cumulative, running = [], 0
            for bound, n in zip(self.bounds, counts):
                running += n
                cumulative.append((bound, running))
            samples.append(Sample(labels=self._labels(key), count=count, sum=total, buckets=tuple(cumulative)))
        return tuple(samples)

    def clear(self) -> None:
        with self._lock:
            self._series.clear()


class MetricsCollector:
    """Thread-safe registry of metric families; ``counter``/``gauge``/``histogram`` get or create by name.

    Asking again for an existing name returns the same metric when kind and label names match and raises
    ValueError otherwise, so two components cannot silently disagree about one series.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metrics: dict[str, _Metric] = {}

    def counter(self, name: str, help: str = "", label_names: Sequence[str] = ()) -> CounterMetric:
        names = tuple(label_names)
        metric = self._get_or_create(name, "counter", names, lambda: CounterMetric(name, help, names))
        assert isinstance(metric, CounterMetric)
        return metric

    def gauge(self, name: str, help: str = "", label_names: Sequence[str] = ()) -> GaugeMetric:
        names = tuple(label_names)
        metric = self._get_or_create(name, "gauge", names, lambda: GaugeMetric(name, help, names))
        assert isinstance(metric, GaugeMetric)
        return metric

    def histogram(
        self,
        name: str,
        help: str = "",
        label_names: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> HistogramMetric:
        metric = self._get_or_create(
            name, "histogram", tuple(label_names), lambda: HistogramMetric(name, help, tuple(label_names), buckets)
        )
        assert isinstance(metric, HistogramMetric)
        return metric

    def snapshot(self) -> MetricsSnapshot:
        """Copy every family (sorted by name); each family is read under its own lock."""
        with self._lock:
            metrics = sorted(self._metrics.values(), key=lambda m: m.name)
        families = tuple(
            MetricFamily(m.name, m.kind, m.help, m.label_names, m.samples()) for m in metrics
        )
        return MetricsSnapshot(taken_at=time.time(), families=families)

    def clear(self) -> None:
        """Drop every recorded series but keep the registered families."""
        with self._lock:
            metrics = list(self._metrics.values())
        for metric in metrics:
            metric.clear()

    def _get_or_create(self, name: str, kind: MetricKind, label_names: tuple[str, ...], make: _Factory) -> _Metric:
        with self._lock:
            existing = self._metrics.get(name)
            if existing is not None:
                if existing.kind != kind or existing.label_names != label_names:
                    raise ValueError(
                        f"metric {name!r} already registered as {existing.kind} with labels "
                        f"{list(existing.label_names)}"
                    )
                return existing
            if not _NAME_RE.match(name):
                raise ValueError(f"invalid metric name {name!r}")
            for label in label_names:
                if not _LABEL_RE.match(label) or label.startswith("__"):
                    raise ValueError(f"invalid label name {label!r} for metric {name!r}")
            if len(set(label_names)) != len(label_names):
                raise ValueError(f"duplicate label names for metric {name!r}")
            metric = make()
            self._metrics[name] = metric
            return metric


class _Factory(Protocol):
    def __call__(self) -> _Metric: ...
