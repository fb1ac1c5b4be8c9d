"""Prometheus metrics in their own registry: counters fed by the pipeline's Events hooks, gauges read from the
database at scrape time (so every node of a cluster reports the shared outbox and source state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy import select

from monitor.events import Events
from monitor.runtime import Runtime
from monitor.store.queries import oldest_pending, outbox_counts
from monitor.store.tables import SourceRow

OUTBOX_STATUSES = ("pending", "sending", "delivered", "failed")


class Metrics(Events):
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.polls = Counter("monitor_polls", "Source polls by result (ok, failed)", ["source", "result"], registry=r)
        self.items = Counter("monitor_items", "New items stored", ["source"], registry=r)
        self.matches = Counter("monitor_matches", "Rule matches found in new items", ["source"], registry=r)
        self.deliveries = Counter("monitor_deliveries", "Digests sent, by channel and result (ok, failed)",
                                  ["channel", "result"], registry=r)
        self.alerts = Counter("monitor_delivery_alerts", "Outbox rows in those digests, by channel and result",
                              ["channel", "result"], registry=r)
        self.outbox = Gauge("monitor_outbox_rows", "Outbox rows by status (shared by all nodes)", ["status"],
                            registry=r)
        self.backlog = Gauge("monitor_outbox_backlog", "Alerts waiting to be delivered (pending or sending)",
                             registry=r)
        self.oldest = Gauge("monitor_outbox_oldest_age_seconds", "Age of the oldest undelivered alert (0: none)",
                            registry=r)
        self.lag = Gauge("monitor_poll_lag_seconds", "How far past its due time a source's next poll is (0: on time)",
                         ["source"], registry=r)
        self.since_success = Gauge("monitor_source_last_success_age_seconds",
                                   "Seconds since the source's last successful poll (-1: never)", ["source"],
                                   registry=r)
        self.failures = Gauge("monitor_source_consecutive_failures", "Failed polls in a row", ["source"],
                              registry=r)
        self.heartbeat = Gauge("monitor_scheduler_heartbeat_age_seconds", "Seconds since the scheduler last ran "
                               "its heartbeat job", registry=r)
        self.scrape_errors = Counter("monitor_metrics_scrape_errors", "Scrapes whose database read failed",
                                     registry=r)

    def polled(self, source: str, *, ok: bool, new_items: int = 0, matches: int = 0) -> None:
        self.polls.labels(source, "ok" if ok else "failed").inc()
        if new_items:
            self.items.labels(source).inc(new_items)
        if matches:
            self.matches.labels(source).inc(matches)

    def delivered(self, channel: str, *, ok: bool, count: int = 0) -> None:
        result = "ok" if ok else "failed"
        self.deliveries.labels(channel, result).inc()
        self.alerts.labels(channel, result).inc(count)

    def declare(self, sources: list[str], channels: list[str]) -> None:
        """Zero-valued series for what is configured, so dashboards and alerts see them before any event."""
        for s in sources:
            for result in ("ok", "failed"):
                self.polls.labels(s, result)
            self.items.labels(s)
            self.matches.labels(s)
        for c in channels:
            for result in ("ok", "failed"):
                self.deliveries.labels(c, result)
                self.alerts.labels(c, result)

    async def refresh(self, rt: Runtime, heartbeat_age_s: float) -> None:
        """Read the shared state. Raises on a database error (the caller counts it and serves the counters)."""
        self.heartbeat.set(heartbeat_age_s)
        now = rt.clock()
        async with rt.sessions() as session:
            counts = await outbox_counts(session)
            oldest = await oldest_pending(session)
            rows = {row.name: row for row in await session.scalars(select(SourceRow))}
        for status in {*OUTBOX_STATUSES, *counts}:
            self.outbox.labels(status).set(counts.get(status, 0))
        self.backlog.set(counts.get("pending", 0) + counts.get("sending", 0))
        self.oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        for gauge in (self.lag, self.since_success, self.failures):
            gauge.clear()  # sources removed by a reload disappear
        for name in rt.sources:
            row = rows.get(name)
            due = row.next_poll_at if row is not None else None
            self.lag.labels(name).set(max(0.0, (now - due).total_seconds()) if due is not None else 0.0)
            last = row.last_success_at if row is not None else None
            self.since_success.labels(name).set((now - last).total_seconds() if last is not None else -1)
            self.failures.labels(name).set(row.consecutive_failures if row is not None else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
