"""The long-running service: APScheduler jobs per source and per digest schedule, signals (SIGTERM drains,
SIGHUP reloads), config file watching, sd_notify (READY, RELOADING, STOPPING, WATCHDOG), /healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.botguard import BotGuard
from monitor.channels import Channel, build_channel, close_channels
from monitor.config import Config, load_config
from monitor.digest import deliver_due, timezone_of
from monitor.errors import ConfigError
from monitor.health import HealthServer
from monitor.logs import register_secrets
from monitor.metrics import Metrics
from monitor.notice import tell_admins
from monitor.pipeline import run_source
from monitor.prune import prune
from monitor.runtime import Runtime, build_runtime
from monitor.sdnotify import Notifier

log = logging.getLogger(__name__)
DELIVERY_TICK_S = 5.0
CONFIG_WATCH_S = 2.0
HEARTBEAT_S = 5.0
BOT_GUARD_S = 15.0  # how soon another node starts the bot after the one running it died
REJECTED_TITLE = "Новая конфигурация не принята, работает прежняя / config reload rejected"
# [daemon] keys a reload cannot change in a running process (the engine, the port, the shared HTTP client)
RESTART_ONLY = ("database", "http", "node_id", "fetch_timeout", "max_response", "host_concurrency", "host_gap",
                "fetch_retries")


class Daemon:
    def __init__(self, config_path: Path, config: Config, *, notifier: Notifier | None = None) -> None:
        self.config_path = config_path
        self.config = config
        register_secrets(config)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task[Any]] = set()
        self.channels: dict[str, Channel] = {}
        self.rt: Runtime | None = None
        self.metrics = Metrics()
        self.health: HealthServer | None = None
        self.bot: BotGuard | None = None
        self.notifier = notifier or Notifier()
        # the watchdog ping rides on the heartbeat job: if the scheduler stalls, systemd notices
        watchdog = self.notifier.watchdog_s
        self.heartbeat_s = min(HEARTBEAT_S, watchdog / 3) if watchdog else HEARTBEAT_S
        self._last_beat = time.monotonic()
        self._config_sig = self._signature()
        self._deliver_lock = asyncio.Lock()
        self._reload_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._deliveries: set[asyncio.Future[None]] = set()  # references only; each is tracked in inflight
        self.on_ready: list[Callable[[], None]] = []
        self.on_reload: list[Callable[[Config | None, ConfigError | None], Awaitable[None]]] = []

    # ------------------------------------------------------------------ jobs

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.config_path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)  # ino: editors that save by rename

    def heartbeat_age(self) -> float:
        return time.monotonic() - self._last_beat

    async def heartbeat(self) -> None:
        self._last_beat = time.monotonic()
        self.notifier.watchdog()

    async def _tracked(self, coro: Awaitable[Any]) -> Any:
        """Run a whole job as a tracked task, so that shutdown can wait for it (never nested)."""
        if self.stopping.is_set():
            if asyncio.iscoroutine(coro):
                coro.close()
            return None
        task = asyncio.current_task()
        assert task is not None
        self.inflight.add(task)
        try:
            return await coro
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            return None  # cancelled by the drain timeout: already logged, the job's transaction rolled back
        finally:
            self.inflight.discard(task)

    async def poll(self, name: str) -> None:
        await self._tracked(self._poll(name))

    async def _poll(self, name: str) -> None:
        assert self.rt is not None
        result = await run_source(self.rt, name)
        if result.enqueued:
            # Its own task (tracked, so drained on stop): awaited here, a paced Telegram send kept this poll job
            # running past its next run time, and APScheduler (max_instances=1) skipped that run (measured:
            # alerts 2-3 intervals late; bench/bench_latency.py).
            task = asyncio.ensure_future(self.deliver(None))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def deliver(self, scheduled_only: str | None = None) -> None:
        await self._tracked(self._deliver(scheduled_only))

    async def _deliver(self, scheduled_only: str | None) -> None:
        """Immediate recipients (scheduled_only=None) or one scheduled recipient by name. Holds the lock that a
        reload takes to swap recipients and channels, so a pass never sees half of each."""
        assert self.rt is not None
        async with self._deliver_lock:
            for recipient in self.config.recipients:
                if (recipient.schedule == "immediate") != (scheduled_only is None):
                    continue
                if scheduled_only is not None and recipient.name != scheduled_only:
                    continue
                channel = self.channels[recipient.name]
                while not self.stopping.is_set():
                    result = await deliver_due(self.rt, channel, recipient, scheduled=scheduled_only is not None)
                    # a full digest may leave more rows behind: keep going while whole digests go out
                    if getattr(result, "sent", 0) < recipient.max_digest:
                        break

    def schedule_jobs(self) -> None:
        assert self.rt is not None
        self.scheduler.remove_all_jobs()
        now = datetime.now(UTC)
        for name, cfg in self.rt.source_configs.items():
            # every node runs every source's job; run_source polls only when due and leased (leases.py)
            self.scheduler.add_job(self.poll, IntervalTrigger(seconds=cfg.interval, jitter=int(cfg.jitter)),
                                   args=[name], id=f"source:{name}", next_run_time=now,
                                   max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.deliver, IntervalTrigger(seconds=DELIVERY_TICK_S), id="deliver",
                               max_instances=1, coalesce=True)
        for r in self.config.recipients:
            if r.schedule != "immediate":
                trigger = CronTrigger.from_crontab(r.schedule, timezone=timezone_of(self.config, r))
                self.scheduler.add_job(self.deliver, trigger, args=[r.name], id=f"digest:{r.name}",
                                       max_instances=1, coalesce=True, misfire_grace_time=3600)
        self.scheduler.add_job(self.watch_config, IntervalTrigger(seconds=CONFIG_WATCH_S), id="watch",
                               max_instances=1, coalesce=True)
        self.scheduler.add_job(prune, CronTrigger(hour=3, minute=30, timezone=self.config.daemon.timezone),
                               args=[self.rt], id="prune", max_instances=1, coalesce=True)  # daily, batched
        if self.bot is not None:
            self.scheduler.add_job(self.bot.tick, IntervalTrigger(seconds=BOT_GUARD_S), id="bot", next_run_time=now,
                                   max_instances=1, coalesce=True)
        self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self.heartbeat_s), id="heartbeat",
                               next_run_time=now, max_instances=1, coalesce=True, misfire_grace_time=None)

    # ---------------------------------------------------------------- reload

    async def watch_config(self) -> None:
        sig = self._signature()
        if sig is None or sig == self._config_sig:
            return  # a missing file is an editor mid-save or a mistake: the running config stays
        for _ in range(10):  # let a non-atomic writer finish: wait until the file stops changing
            await asyncio.sleep(0.3)
            again = self._signature()
            if again == sig:
                break
            sig = again
        self._config_sig = sig
        await self.reload("config file changed")

    def _on_hup(self) -> None:
        task = asyncio.ensure_future(self.reload("SIGHUP"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reload(self, why: str) -> bool:
        """Apply a new config; an invalid one is rejected (logged, told to admin recipients), the old one stays."""
        if self.rt is None or self.stopping.is_set():
            log.warning("reload ignored reason=%s: not running", why)
            return False
        async with self._reload_lock:
            self.notifier.reloading()
            try:
                return await self._reload(why)
            except Exception:  # a bug must not kill the daemon from a signal handler's task
                log.exception("reload failed reason=%s", why)
                return False
            finally:
                self.notifier.ready(self._status())

    async def _reload(self, why: str) -> bool:
        assert self.rt is not None
        self._config_sig = self._signature()
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
            channels = {r.name: build_channel(r, new) for r in new.recipients}
        except ConfigError as exc:
            return await self._reject(why, exc)
        register_secrets(new)
        old = self.config
        async with self._deliver_lock:  # never swap or close a channel under a send in flight
            try:
                self.rt.apply_config(new)
            except Exception as exc:  # something `monitor check` could not foresee: keep the old config
                self.rt.apply_config(old)
                await close_channels(channels.values())
                return await self._reject(why, ConfigError([f"{self.config_path}: {type(exc).__name__}: {exc}"]))
            old_channels, self.config, self.channels = self.channels, new, channels
            await close_channels(old_channels.values())
        changed = [k for k in RESTART_ONLY if getattr(new.daemon, k) != getattr(old.daemon, k)]
        if changed:
            log.warning("reload: [daemon] %s take effect after a restart", ", ".join(changed))
        try:
            await self.rt.sync_rows()
        except Exception as exc:  # the rows are also created on first use; the new config is in force anyway
            log.warning("reload: could not register new sources/recipients in the database error=%s", exc)
        self.metrics.declare(list(self.rt.sources), sorted({c.kind for c in self.channels.values()}))
        self.schedule_jobs()
        log.info("reloaded reason=%s sources=%d rules=%d recipients=%d", why, len(new.sources), len(new.rules),
                 len(new.recipients))
        for hook in self.on_reload:
            await hook(new, None)
        return True

    async def _reject(self, why: str, exc: ConfigError) -> bool:
        log.error("reload rejected reason=%s, the running config stays in force: %s", why, "; ".join(exc.problems))
        await tell_admins(self.config, self.channels, REJECTED_TITLE, "\n".join(exc.problems))
        for hook in self.on_reload:
            await hook(None, exc)
        return False

    # ------------------------------------------------------------ lifecycle

    def _status(self) -> str:
        return (f"sources={len(self.rt.sources) if self.rt else 0} rules={len(self.config.rules)} "
                f"recipients={len(self.config.recipients)}")

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._on_hup)
        self.notifier.status("starting: database upgrade")
        try:
            self.rt = await build_runtime(self.config)
            self.rt.events = self.metrics
            self.channels = {r.name: build_channel(r, self.config) for r in self.config.recipients}
            self.bot = BotGuard(self.rt)
            if self.config.daemon.http:
                self.health = HealthServer(self)
                await self.health.start(self.config.daemon.http)
        except Exception as exc:  # database down, port taken, ...: exit 1 and let systemd restart us
            log.error("start failed: %s: %s", type(exc).__name__, exc)
            if self.rt is not None:
                await self.rt.aclose()
            return 1
        self.metrics.declare(list(self.rt.sources), sorted({c.kind for c in self.channels.values()}))
        self.schedule_jobs()
        self.scheduler.start()
        log.info("started node=%s %s database=%s pid=%d", self.rt.leases.node_id, self._status(),
                 _safe_db(self.config.daemon.database), os.getpid())
        self.notifier.ready(self._status())
        for hook in self.on_ready:
            hook()
        await self.stopping.wait()
        return await self._shutdown()

    async def _shutdown(self) -> int:
        """Stop taking work, give in-flight polls and deliveries drain_timeout to finish, cancel the rest (their
        transactions roll back and their source leases are given back), close everything, exit 0."""
        assert self.rt is not None
        self.notifier.stopping()
        log.info("stopping: draining jobs=%d timeout=%gs", len(self.inflight), self.config.daemon.drain_timeout)
        # pause, not shutdown: APScheduler's asyncio executor cancels running jobs on shutdown
        self.scheduler.pause()
        for task in list(self._background):
            task.cancel()
        if self.bot is not None:
            await self.bot.aclose()
        if self.inflight:
            _done, pending = await asyncio.wait(set(self.inflight), timeout=self.config.daemon.drain_timeout)
            if pending:
                log.warning("stopping: cancelling jobs=%d still running after the drain timeout", len(pending))
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.scheduler.shutdown(wait=False)
        await close_channels(self.channels.values())
        if self.health is not None:
            await self.health.aclose()
        await self.rt.aclose()
        log.info("stopped")
        return 0


def _safe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
