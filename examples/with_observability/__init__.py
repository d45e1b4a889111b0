"""examples/with_observability: Prometheus /metrics (multiprocess when PROMETHEUS_MULTIPROC_DIR is set), OpenTelemetry
traces exported over OTLP/HTTP, request-duration window stats, and liveness/readiness."""
