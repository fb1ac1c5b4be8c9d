"""The bot's data, from the store: rules, recent matches, mute state per chat, a short status."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from monitor.models import Alert
from monitor.store.queries import outbox_counts
from monitor.store.tables import ItemRow, MatchRow, RecipientRow, SourceRow

if TYPE_CHECKING:
    from monitor.bot import TelegramBot
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)


class StoreBotBackend:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def _recipients_of(self, chat_id: int) -> list[str]:
        return [r.name for r in self.rt.config.recipients if r.telegram_chat == chat_id]

    def rules(self) -> list[str]:
        out = []
        for spec in self.rt.config.rules:
            keys = ", ".join(f"{k} = {v}" for k, v in spec.model_dump(exclude_defaults=True).items() if k != "name")
            out.append(f"{spec.name}: {keys}")
        return out

    async def recent(self, n: int) -> list[Alert]:
        async with self.rt.sessions() as session:
            rows = (await session.execute(
                select(MatchRow, ItemRow).join(ItemRow, ItemRow.id == MatchRow.item_id)
                .order_by(MatchRow.id.desc()).limit(n * 4))).all()
        alerts: dict[int, Alert] = {}
        for match, item in rows:
            if item.id in alerts:
                continue
            alerts[item.id] = Alert(
                outbox_ids=(), story_id=item.story_id or 0, item_id=item.id, title=item.title, url=item.url,
                source=item.source, published_at=item.published_at, rules=(match.rule,), snippet=match.snippet,
                spans=tuple((s[0], s[1]) for s in match.spans))
            if len(alerts) == n:
                break
        return list(alerts.values())

    async def mute(self, chat_id: int, seconds: float) -> None:
        until = self.rt.clock() + timedelta(seconds=seconds)
        await self._set_mute(chat_id, until)

    async def unmute(self, chat_id: int) -> None:
        await self._set_mute(chat_id, None)

    async def _set_mute(self, chat_id: int, until: object) -> None:
        names = self._recipients_of(chat_id)
        async with self.rt.sessions() as session, session.begin():
            await session.execute(update(RecipientRow).where(RecipientRow.name.in_(names)).values(muted_until=until))
        log.info("bot: chat=%s recipients=%s muted_until=%s", chat_id, ",".join(names), until)

    async def status(self) -> str:
        async with self.rt.sessions() as session:
            sources = list(await session.scalars(select(SourceRow).where(SourceRow.name.in_(self.rt.sources))))
            backlog = await outbox_counts(session)
        failing = [s for s in sources if s.consecutive_failures]
        lines = [f"Источников: {len(self.rt.sources)}, с ошибками: {len(failing)}"]
        lines += [f"  {s.name}: ошибка ×{s.consecutive_failures}: {(s.last_error or '')[:120]}" for s in failing]
        lines.append(f"Очередь: ожидают {backlog.get('pending', 0) + backlog.get('sending', 0)}, "
                     f"доставлено {backlog.get('delivered', 0)}, не доставлено {backlog.get('failed', 0)}")
        return "\n".join(lines)


def start_bot(rt: Runtime) -> tuple[asyncio.Task[None], TelegramBot] | None:
    """Run the Telegram bot in the daemon's loop when a token is configured."""
    telegram = rt.config.telegram
    if telegram is None or not telegram.token:
        return None
    from monitor.bot import TelegramBot

    bot = TelegramBot(telegram, StoreBotBackend(rt), timezone=rt.config.daemon.timezone)
    return asyncio.create_task(bot.run(), name="telegram-bot"), bot
