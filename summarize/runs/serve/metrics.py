"""The server's Prometheus metrics, in a registry of its own per app (tests run several apps in one
process; prometheus-client's default registry would refuse the second)."""

from __future__ import annotations

from summarize.runs.serve.batching import Watcher

GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
STAGES = ("queue", "fetch", "pipeline")  # waiting for a group; downloading a url; the group's run


class ServeMetrics(Watcher):
    """Requests by endpoint and status, errors by reason, the queue's depth, group sizes, and the
    seconds each stage takes."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("summarize_requests", "HTTP requests answered, by endpoint and status.", ["endpoint", "status"], registry=self.registry)
        self.errors = Counter("summarize_errors", "Requests answered with an error, by reason.", ["reason"], registry=self.registry)
        self.documents = Counter("summarize_documents", "Documents summarised, by outcome (ok, failed).", ["outcome"], registry=self.registry)
        self.dropped_documents = Counter(
            "summarize_dropped_documents", "Documents dropped before their turn (client_gone, deadline).", ["reason"], registry=self.registry
        )
        self.queue_depth = Gauge("summarize_queue_depth", "Documents waiting for the models.", registry=self.registry)
        self.group_size = Histogram("summarize_group_documents", "Documents per pipeline group.", buckets=GROUP_BUCKETS, registry=self.registry)
        self.stage_seconds = Histogram("summarize_stage_seconds", "Seconds per stage.", ["stage"], buckets=SECONDS_BUCKETS, registry=self.registry)
        for stage in STAGES:
            self.stage_seconds.labels(stage)  # every stage is shown from the start, at zero

    def answered(self, endpoint: str, status: int, reason: str | None) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        if reason is not None:
            self.errors.labels(reason).inc()

    def finished(self, failed: bool) -> None:
        self.documents.labels("failed" if failed else "ok").inc()

    def fetched(self, seconds: float) -> None:
        self.stage_seconds.labels("fetch").observe(seconds)

    # Watcher: what the batcher tells

    def depth(self, waiting: int) -> None:
        self.queue_depth.set(waiting)

    def grouped(self, size: int, waits: list[float]) -> None:
        self.group_size.observe(size)
        for wait in waits:
            self.stage_seconds.labels("queue").observe(wait)

    def dropped(self, reason: str) -> None:
        self.dropped_documents.labels(reason).inc()

    def ran(self, seconds: float) -> None:
        self.stage_seconds.labels("pipeline").observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
