"""/healthz and /metrics over real HTTP: from a running `monitor run`, and in-process for the failure answers
(a stuck scheduler, an unreachable database)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.health import HealthServer, parse_listen
from monitor.runtime import build_runtime
from monitor.store.db import make_engine, sessionmaker
from tests.daemon_proc import DaemonProc, write_config
from tests.servers.pages import PageServer, Route

RSS = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><item><title>Встреча ОИС'
       '</title><link>http://example.org/1</link><description>Делегации ОИС.</description></item></channel></rss>')


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_and_health_from_a_running_daemon(tmp_path: Path) -> None:
    with PageServer() as pages:
        pages.routes["/feed"] = Route(RSS.encode(), headers={"Content-Type": "application/rss+xml"})
        pages.routes["/broken"] = Route(b"down", status=500)
        body = "".join(f'[[sources]]\nname = "{n}"\nkind = "rss"\nurl = "{pages.url("/" + n)}"\njitter = "0s"\n'
                       for n in ("feed", "broken"))
        body += '[[rules]]\nname = "oic"\nkeyword = "ОИС"\n[[recipients]]\nname = "desk"\nconsole = true\n'
        config = write_config(tmp_path / "c.toml", f"sqlite:///{tmp_path / 'm.db'}", body,
                              daemon_extra='http = "127.0.0.1:0"')
        daemon = DaemonProc(config)
        try:
            port = int(daemon.wait_for(r"health listening http=127\.0\.0\.1:(\d+)").group(1))
            daemon.wait_for(r"recipient=desk channel=console delivered alerts=1")
            daemon.wait_for(r"source=broken poll failed")
            base = f"http://127.0.0.1:{port}"
            status, raw = get(base + "/healthz")
            health = json.loads(raw)
            assert status == 200 and health["status"] == "ok" and health["database"] == "ok"
            assert health["node"].split(":")[1] == str(daemon.pid)
            status, raw = get(base + "/metrics")
            assert status == 200
            m = samples(raw.decode())
            assert m[("monitor_polls_total", (("result", "ok"), ("source", "feed")))] >= 1
            assert m[("monitor_polls_total", (("result", "failed"), ("source", "broken")))] >= 1
            assert m[("monitor_items_total", (("source", "feed"),))] == 1
            assert m[("monitor_matches_total", (("source", "feed"),))] >= 1
            assert m[("monitor_deliveries_total", (("channel", "console"), ("result", "ok")))] == 1
            assert m[("monitor_delivery_alerts_total", (("channel", "console"), ("result", "ok")))] == 1
            assert m[("monitor_deliveries_total", (("channel", "console"), ("result", "failed")))] == 0
            assert m[("monitor_outbox_backlog", ())] == 0
            assert m[("monitor_outbox_rows", (("status", "delivered"),))] == 1
            assert m[("monitor_outbox_oldest_age_seconds", ())] == 0
            assert m[("monitor_source_consecutive_failures", (("source", "broken"),))] >= 1
            assert ("monitor_poll_lag_seconds", (("source", "feed"),)) in m
            assert m[("monitor_scheduler_heartbeat_age_seconds", ())] < 60
            assert get(base + "/nope")[0] == 404
            assert daemon.stop() == 0
        finally:
            daemon.stop()


async def test_healthz_503_when_the_scheduler_is_stuck(tmp_path: Path) -> None:
    config = parse_config(f'[daemon]\ndatabase = "sqlite:///{tmp_path / "m.db"}"\n', "t.toml")
    daemon = Daemon(tmp_path / "t.toml", config)
    daemon.rt = await build_runtime(config)
    server = HealthServer(daemon)
    host, port = await server.start("127.0.0.1:0")
    try:
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            await daemon.heartbeat()
            ok = await client.get("/healthz")
            assert ok.status_code == 200 and ok.json()["scheduler"] == "ok"
            daemon._last_beat = time.monotonic() - 4 * daemon.heartbeat_s  # no beat for 4 intervals
            stuck = await client.get("/healthz")
            assert stuck.status_code == 503 and stuck.json()["scheduler"].startswith("stuck")
            # a dead database: an engine pointing at a closed port
            await daemon.heartbeat()
            dead: Any = make_engine("postgresql+asyncpg://monitor:secret-pw@127.0.0.1:1/nowhere")
            alive = daemon.rt.sessions
            daemon.rt.sessions = sessionmaker(dead)
            down = await client.get("/healthz")
            assert down.status_code == 503 and down.json()["database"].startswith("unreachable")
            assert "secret-pw" not in down.text
            metrics = await client.get("/metrics")  # still served: counters, and the failed read counted
            assert metrics.status_code == 200 and "monitor_metrics_scrape_errors_total 1.0" in metrics.text
            await dead.dispose()
            daemon.rt.sessions = alive
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.post("/healthz")).status_code == 405
    finally:
        await server.aclose()
        await daemon.rt.aclose()


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:9310") == ("127.0.0.1", 9310)
    assert parse_listen("[::1]:9310") == ("::1", 9310)


def test_a_bad_listen_address_is_a_config_error() -> None:
    import pytest

    from monitor.errors import ConfigError

    with pytest.raises(ConfigError, match=r'daemon\.http: "9310" is not host:port'):
        parse_config('[daemon]\nhttp = "9310"\n', "c.toml")
