"""The bot backed by the real store: /mute holds a chat's alerts, /unmute releases them, /recent and /status."""

from __future__ import annotations

from typing import Any

from monitor.bot import TelegramBot
from monitor.botstore import StoreBotBackend
from monitor.digest import DeliveryResult, deliver_due
from monitor.pipeline import run_source
from tests.servers.pages import PageServer, Route
from tests.test_digest import RecordingChannel
from tests.test_pipeline import rss


async def test_mute_recent_status_through_the_store(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/a"] = Route(rss(("Встреча <ОИС> & партнёры", "http://a/1", "<p>Совещание ОИС в Джидде.</p>")))
    rt = await runtime_factory(f"""
[[sources]]
name = "a"
kind = "rss"
url = "{pages.url('/a')}"

[[rules]]
name = "ОИС"
keyword = "ОИС"

[[recipients]]
name = "desk"
telegram_chat = 42
[telegram]
token = "123:test"
allowed_chats = [42]
api_url = "http://127.0.0.1:9"
""")
    await run_source(rt, "a", force=True)
    bot = TelegramBot(rt.config.telegram, StoreBotBackend(rt))
    try:
        assert "до " in (await bot.handle(42, "/mute 2h"))[0]
        channel = RecordingChannel()
        desk = rt.config.recipient("desk")
        assert await deliver_due(rt, channel, desk) == DeliveryResult("desk", held="muted")
        recent = "".join(await bot.handle(42, "/recent 3"))
        assert "Встреча &lt;ОИС&gt; &amp; партнёры" in recent and "<b>ОИС</b>" in recent
        status = (await bot.handle(42, "/status"))[0]
        assert "Источников: 1, с ошибками: 0" in status and "ожидают 1" in status
        assert "ОИС: keyword = ОИС" in (await bot.handle(42, "/rules"))[0]
        await bot.handle(42, "/unmute")
        assert await deliver_due(rt, channel, desk) == DeliveryResult("desk", sent=1)
        assert await bot.handle(7, "/status") != [] and await bot.handle(7, "/status") == []  # one refusal
    finally:
        await bot.aclose()
