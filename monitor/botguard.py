"""Runs the Telegram bot on exactly one node of a cluster: Telegram allows one getUpdates poller per token, so
the node holding a cluster-wide SingletonLock runs it, and another takes over when that node goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from monitor.botstore import start_bot
from monitor.leases import SingletonLock
from monitor.runtime import Runtime

if TYPE_CHECKING:
    from monitor.bot import TelegramBot

log = logging.getLogger(__name__)
BOT_LOCK_KEY = 7316002


class BotGuard:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.lock = SingletonLock(rt.engine, BOT_LOCK_KEY)
        self.bot: tuple[asyncio.Task[None], TelegramBot] | None = None

    async def tick(self) -> None:
        """Start the bot if this node may run it, stop it if it may no more (called every few seconds)."""
        telegram = self.rt.config.telegram
        if telegram is None or not telegram.token:
            await self.stop()
            await self.lock.release()
            return
        if await self.lock.held():
            if self.bot is None:
                self.bot = start_bot(self.rt)
                log.info("bot: this node runs the Telegram bot node=%s", self.rt.leases.node_id)
        elif self.bot is not None:
            log.warning("bot: lost the cluster lock, stopping the bot on this node")
            await self.stop()

    async def stop(self) -> None:
        bot, self.bot = self.bot, None
        if bot is not None:
            bot[0].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bot[0]
            await bot[1].aclose()

    async def aclose(self) -> None:
        await self.stop()
        await self.lock.release()
