"""The long-running service: APScheduler jobs per source and per digest schedule, signals, reload, drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.botstore import start_bot
from monitor.channels import Channel, build_channel, close_channels
from monitor.config import Config, load_config
from monitor.digest import deliver_due, timezone_of
from monitor.errors import ConfigError
from monitor.pipeline import run_source
from monitor.prune import prune
from monitor.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
DELIVERY_TICK_S = 5.0
CONFIG_WATCH_S = 2.0


class Daemon:
    def __init__(self, config_path: Path, config: Config, *, drain_timeout_s: float = 30.0) -> None:
        self.config_path = config_path
        self.config = config
        self.drain_timeout_s = drain_timeout_s
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.stopping = asyncio.Event()
        self.inflight: set[asyncio.Task[Any]] = set()
        self.channels: dict[str, Channel] = {}
        self.rt: Runtime | None = None
        self._config_mtime = self._mtime()
        self._deliver_lock = asyncio.Lock()
        self.on_ready: list[Callable[[], None]] = []
        self.on_reload: list[Callable[[Config | None, ConfigError | None], Awaitable[None]]] = []

    def _mtime(self) -> float:
        try:
            return self.config_path.stat().st_mtime
        except OSError:
            return 0.0

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
        finally:
            self.inflight.discard(task)

    async def poll(self, name: str) -> None:
        await self._tracked(self._poll(name))

    async def _poll(self, name: str) -> None:
        assert self.rt is not None
        result = await run_source(self.rt, name)
        if result.enqueued:
            await self._deliver(None)

    async def deliver(self, scheduled_only: str | None = None) -> None:
        await self._tracked(self._deliver(scheduled_only))

    async def _deliver(self, scheduled_only: str | None) -> None:
        """Immediate recipients (scheduled_only=None) or one scheduled recipient by name."""
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
            self.scheduler.add_job(self.poll, IntervalTrigger(seconds=cfg.interval, jitter=int(cfg.jitter)),
                                   args=[name], id=f"source:{name}", next_run_time=now,
                                   max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.deliver, IntervalTrigger(seconds=DELIVERY_TICK_S), id="deliver",
                               max_instances=1, coalesce=True)
        for r in self.config.recipients:
            if r.schedule != "immediate":
                trigger = CronTrigger.from_crontab(r.schedule, timezone=timezone_of(self.rt, r))
                self.scheduler.add_job(self.deliver, trigger, args=[r.name], id=f"digest:{r.name}",
                                       max_instances=1, coalesce=True, misfire_grace_time=3600)
        self.scheduler.add_job(self.watch_config, IntervalTrigger(seconds=CONFIG_WATCH_S), id="watch",
                               max_instances=1, coalesce=True)
        self.scheduler.add_job(prune, CronTrigger(hour=3, minute=30, timezone=self.config.daemon.timezone),
                               args=[self.rt], id="prune", max_instances=1, coalesce=True)  # daily, batched

    async def watch_config(self) -> None:
        mtime = self._mtime()
        if mtime != self._config_mtime:
            self._config_mtime = mtime
            await self.reload("config file changed")

    async def reload(self, why: str) -> bool:
        """Apply a new config; an invalid one is rejected and the old one stays in force."""
        assert self.rt is not None
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            log.error("reload rejected (%s), keeping the running config:\n%s", why, exc)
            for hook in self.on_reload:
                await hook(None, exc)
            return False
        self.config = new
        self.rt.apply_config(new)
        async with self._deliver_lock:  # never close a channel under a send in flight
            old_channels, self.channels = self.channels, {r.name: build_channel(r, new) for r in new.recipients}
            await close_channels(old_channels.values())
        await self.rt.sync_rows()
        self.schedule_jobs()
        log.info("reloaded (%s): sources=%d rules=%d recipients=%d", why, len(new.sources), len(new.rules),
                 len(new.recipients))
        for hook in self.on_reload:
            await hook(new, None)
        return True

    async def run(self) -> int:
        self.rt = await build_runtime(self.config)
        self.channels = {r.name: build_channel(r, self.config) for r in self.config.recipients}
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload("SIGHUP")))
        self.schedule_jobs()
        self.scheduler.start()
        bot = start_bot(self.rt)
        log.info("started: sources=%d rules=%d recipients=%d database=%s", len(self.rt.sources),
                 len(self.config.rules), len(self.config.recipients), _safe_db(self.config.daemon.database))
        for hook in self.on_ready:
            hook()
        await self.stopping.wait()
        log.info("stopping: draining %d in-flight job(s)", len(self.inflight))
        self.scheduler.shutdown(wait=False)
        if bot is not None:
            bot[0].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot[0]
            await bot[1].aclose()
        if self.inflight:
            _done, pending = await asyncio.wait(set(self.inflight), timeout=self.drain_timeout_s)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await close_channels(self.channels.values())
        await self.rt.aclose()
        log.info("stopped")
        return 0


def _safe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
