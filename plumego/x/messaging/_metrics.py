"""Metrics hooks of the notification service (Go's ``Metrics`` config and its ``sms_gateway_*`` series).

Owns the :class:`MessagingMetrics` protocol the service calls at each step (queued, refused, sent, failed, quota
exceeded) and :class:`CollectorMetrics`, which records them in a :class:`plumego.metrics.MetricsCollector` under
Go's prefix (``sms_gateway`` by default) so the existing Prometheus/JSON exporters show them. Imports the
standard library and plumego.metrics; never plumego.core.
"""

from __future__ import annotations

from typing import Protocol

from plumego.metrics import MetricsCollector

__all__ = ["CollectorMetrics", "MessagingMetrics", "NoMetrics"]


class MessagingMetrics(Protocol):
    def queued(self, channel: str, tenant_id: str) -> None: ...
    def refused(self, channel: str, code: str) -> None: ...
    def sent(self, channel: str, provider: str, seconds: float) -> None: ...
    def failed(self, channel: str, provider: str, code: str, final: bool) -> None: ...
    def quota_exceeded(self, channel: str, scope: str) -> None: ...


class NoMetrics:
    """The default: record nothing."""

    def queued(self, channel: str, tenant_id: str) -> None: ...
    def refused(self, channel: str, code: str) -> None: ...
    def sent(self, channel: str, provider: str, seconds: float) -> None: ...
    def failed(self, channel: str, provider: str, code: str, final: bool) -> None: ...
    def quota_exceeded(self, channel: str, scope: str) -> None: ...


class CollectorMetrics:
    """Counters and a latency histogram in a collector: ``<prefix>_queued_total{channel}``,
    ``<prefix>_refused_total{channel,code}``, ``<prefix>_sent_total{channel,provider}``,
    ``<prefix>_failed_total{channel,provider,code,final}``, ``<prefix>_quota_exceeded_total{channel,scope}`` and
    ``<prefix>_send_duration_seconds{channel,provider}``. Tenants are not a label (unbounded cardinality)."""

    def __init__(self, collector: MetricsCollector, *, prefix: str = "sms_gateway") -> None:
        self._queued = collector.counter(f"{prefix}_queued_total", "messages accepted and queued", ("channel",))
        self._refused = collector.counter(f"{prefix}_refused_total", "sends refused", ("channel", "code"))
        self._sent = collector.counter(f"{prefix}_sent_total", "messages a provider accepted",
                                       ("channel", "provider"))
        self._failed = collector.counter(f"{prefix}_failed_total", "provider failures",
                                         ("channel", "provider", "code", "final"))
        self._quota = collector.counter(f"{prefix}_quota_exceeded_total", "sends refused by a quota",
                                        ("channel", "scope"))
        self._latency = collector.histogram(f"{prefix}_send_duration_seconds", "provider call duration",
                                            ("channel", "provider"))

    def queued(self, channel: str, tenant_id: str) -> None:
        self._queued.inc(labels={"channel": channel})

    def refused(self, channel: str, code: str) -> None:
        self._refused.inc(labels={"channel": channel, "code": code})

    def sent(self, channel: str, provider: str, seconds: float) -> None:
        self._sent.inc(labels={"channel": channel, "provider": provider})
        self._latency.observe(seconds, labels={"channel": channel, "provider": provider})

    def failed(self, channel: str, provider: str, code: str, final: bool) -> None:
        self._failed.inc(labels={"channel": channel, "provider": provider, "code": code,
                                 "final": "true" if final else "false"})

    def quota_exceeded(self, channel: str, scope: str) -> None:
        self._quota.inc(labels={"channel": channel, "scope": scope})
