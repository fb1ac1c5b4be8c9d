"""Hooks for counters (metrics). The default does nothing, so the pipeline needs no metrics to run;
monitor.metrics.Metrics overrides them with Prometheus counters when the daemon runs."""

from __future__ import annotations


class Events:
    def polled(self, source: str, *, ok: bool, new_items: int = 0, matches: int = 0) -> None:
        return None

    def delivered(self, channel: str, *, ok: bool, count: int = 0) -> None:
        return None
