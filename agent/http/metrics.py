"""Prometheus metrics of one server process, on a registry of its own (one per app).

Counters are derived from each finished execution record (subagent records included), gauges are
read at scrape time from the service and the kernel pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from agent.records import ActionStep, ExecutionRecord, SubagentStep

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Gauges(Collector):
    def __init__(self, read: Callable[[], dict[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        helps = {
            "agent_queue_depth": "Tasks waiting to run: this process's queue, or with the shared"
            " queue (PostgreSQL) its todo jobs as read within the last second.",
            "agent_tasks_running": "Tasks running in this process.",
            "agent_kernels_live": "Live session kernels.",
            "agent_kernels_pooled": "Warm kernels waiting for a session.",
        }
        values = self._read()
        for name, text in helps.items():
            yield GaugeMetricFamily(name, text, value=float(values.get(name, 0.0)))


class Metrics:
    def __init__(self, gauges: Callable[[], dict[str, float]]) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.registry.register(_Gauges(gauges))
        self.tasks = Counter(
            "agent_tasks_total", "Finished tasks.", ["status"], registry=self.registry
        )
        self.duration = Histogram(
            "agent_task_duration_seconds",
            "Task duration, queued to finished.",
            ["status"],
            buckets=TASK_BUCKETS,
            registry=self.registry,
        )
        self.llm_calls = Counter(
            "agent_llm_calls_total", "LLM calls.", ["provider", "model"], registry=self.registry
        )
        self.llm_tokens = Counter(
            "agent_llm_tokens_total",
            "LLM tokens.",
            ["provider", "model", "direction"],
            registry=self.registry,
        )
        self.kernel_runs = Counter(
            "agent_kernel_runs_total",
            "Programs run in kernels.",
            ["status"],
            registry=self.registry,
        )
        self.kernel_run_seconds = Histogram(
            "agent_kernel_run_duration_seconds",
            "Duration of one program run in a kernel.",
            buckets=RUN_BUCKETS,
            registry=self.registry,
        )
        self.skill_calls = Counter(
            "agent_skill_calls_total", "Skill calls.", ["skill", "ok"], registry=self.registry
        )
        self.requests = Counter(
            "agent_http_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def observe(self, record: ExecutionRecord) -> None:
        """Count a finished top-level record (its subagents' steps are counted inside it)."""
        self.tasks.labels(record.status).inc()
        if record.finished_at is not None:
            seconds = (record.finished_at - record.created_at).total_seconds()
            self.duration.labels(record.status).observe(max(seconds, 0.0))
        labels = (record.provider or "none", record.model or "none")
        self.llm_calls.labels(*labels).inc(record.usage.llm_calls)
        self.llm_tokens.labels(*labels, "input").inc(record.usage.input_tokens)
        self.llm_tokens.labels(*labels, "output").inc(record.usage.output_tokens)
        self._steps(record)

    def _steps(self, record: ExecutionRecord) -> None:
        for call in record.skill_calls:
            self.skill_calls.labels(call.skill, "true" if call.ok else "false").inc()
        for step in record.steps:
            if isinstance(step, ActionStep) and step.code is not None:
                self.kernel_runs.labels(step.status).inc()
                self.kernel_run_seconds.observe(step.run_ms / 1000.0)
            elif isinstance(step, SubagentStep) and step.record is not None:
                self._steps(step.record)

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def request(self, method: str, route: str, status: int) -> None:
        self.requests.labels(method, route, str(status)).inc()
