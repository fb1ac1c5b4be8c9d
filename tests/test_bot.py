from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest_asyncio

from monitor.bot import TelegramBot
from monitor.channels.ratelimit import RateLimiter
from monitor.config import TelegramConfig
from monitor.models import Alert
from tests.helpers_channels import EVIL_TITLE, alert, check_html
from tests.servers.fixtures import telegram_api  # noqa: F401
from tests.servers.telegram_api import TelegramApiServer

ALLOWED, STRANGER = 111, 999


@dataclass
class FakeBackend:
    """An in-memory BotBackend with async methods, as the store-backed one will have."""

    alerts: list[Alert] = field(default_factory=list)
    muted: dict[int, float] = field(default_factory=dict)

    async def rules(self) -> list[str]:
        return ["Словения", "ОИС <x>"]

    async def recent(self, n: int) -> Sequence[Alert]:
        return self.alerts[:n]

    async def mute(self, chat_id: int, seconds: float) -> None:
        self.muted[chat_id] = seconds

    async def unmute(self, chat_id: int) -> None:
        self.muted.pop(chat_id, None)

    def status(self) -> str:  # a plain method works too
        return "mfa: ok\nkt-kz: 3 ошибки подряд <timeout>"


@pytest_asyncio.fixture
async def bot(telegram_api: TelegramApiServer) -> AsyncIterator[TelegramBot]:  # noqa: F811
    b = TelegramBot(TelegramConfig(token=telegram_api.token, api_url=telegram_api.api_url,
                                   allowed_chats=(ALLOWED,)),
                    FakeBackend(alerts=[alert(n, hours_ago=n, title=EVIL_TITLE if n == 1 else None)
                                        for n in range(1, 30)]),
                    poll_timeout_s=1, limiter=RateLimiter(per_chat_s=0.01))
    yield b
    await b.aclose()


async def test_start_gives_chat_id_and_allow_status(bot: TelegramBot) -> None:
    [reply] = await bot.handle(ALLOWED, "/start")
    assert "<code>111</code>" in reply and "разрешённых: да" in reply
    check_html(reply)


async def test_stranger_gets_one_refusal_then_silence(bot: TelegramBot) -> None:
    [refusal] = await bot.handle(STRANGER, "/start")
    assert "<code>999</code>" in refusal and "только разрешённым" in refusal
    assert await bot.handle(STRANGER, "/rules") == []
    assert await bot.handle(STRANGER, "/start") == []
    assert isinstance(bot.backend, FakeBackend) and bot.backend.muted == {}


async def test_rules_status_escaped(bot: TelegramBot) -> None:
    [rules] = await bot.handle(ALLOWED, "/rules")
    assert "• Словения" in rules and "ОИС &lt;x&gt;" in rules
    [status] = await bot.handle(ALLOWED, "/status@monitor_test_bot")
    assert status.startswith("<pre>") and "&lt;timeout&gt;" in status
    check_html(rules), check_html(status)


async def test_recent_default_n_and_cap(bot: TelegramBot) -> None:
    replies = await bot.handle(ALLOWED, "/recent")
    text = "".join(check_html(r) for r in replies)
    assert text.count("Новость") == 4 and EVIL_TITLE in text  # 5 alerts: one has the hostile title
    replies = await bot.handle(ALLOWED, "/recent 500")
    assert "".join(replies).count("<a href") == 20
    assert "число" in (await bot.handle(ALLOWED, "/recent abc"))[0]


async def test_mute_and_unmute(bot: TelegramBot) -> None:
    [reply] = await bot.handle(ALLOWED, "/mute 2h")
    assert "приостановлены до" in reply
    assert isinstance(bot.backend, FakeBackend) and bot.backend.muted == {ALLOWED: 7200.0}
    assert "Укажите срок" in (await bot.handle(ALLOWED, "/mute soon"))[0]
    assert "возобновлены" in (await bot.handle(ALLOWED, "/unmute"))[0]
    assert bot.backend.muted == {}


async def test_unknown_command_helps_and_chatter_is_ignored(bot: TelegramBot) -> None:
    assert "/recent" in (await bot.handle(ALLOWED, "/what"))[0]
    assert await bot.handle(ALLOWED, "привет") == []
    bot._username = "monitor_test_bot"
    assert await bot.handle(ALLOWED, "/rules@other_bot") == []
    assert await bot.handle(ALLOWED, "/rules@monitor_test_bot") != []


async def test_failing_backend_gets_an_apology(bot: TelegramBot) -> None:
    async def broken() -> list[str]:
        raise RuntimeError("db is gone")

    bot.backend.rules = broken  # type: ignore[method-assign]
    [reply] = await bot.handle(ALLOWED, "/rules")
    assert "Не удалось" in reply


async def test_long_polling_runs_in_the_loop_and_answers(bot: TelegramBot,
                                                        telegram_api: TelegramApiServer) -> None:  # noqa: F811
    task = asyncio.create_task(bot.run())
    await asyncio.sleep(0.2)  # the bot is now parked in a long poll; the loop stays free
    telegram_api.push_update(ALLOWED, "/start")
    telegram_api.push_update(STRANGER, "/rules")
    telegram_api.push_update(STRANGER, "/rules")

    def offsets() -> list[object]:
        return [p.get("offset") for method, p in telegram_api.requests if method == "getUpdates"]

    for _ in range(100):  # until the replies are out and the next poll has confirmed the updates
        if len(telegram_api.messages) >= 2 and "1003" in offsets():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [m.chat_id for m in telegram_api.messages] == [ALLOWED, STRANGER]
    assert all(m.parse_mode == "HTML" for m in telegram_api.messages)
    assert offsets()[0] is None and "1003" in offsets()  # every update is confirmed


async def test_polling_survives_server_outage(bot: TelegramBot, telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("getUpdates", "drop")
    telegram_api.push_update(ALLOWED, "/unmute")
    task = asyncio.create_task(bot.run())
    for _ in range(100):
        if telegram_api.messages:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert telegram_api.texts(ALLOWED) == ["Уведомления возобновлены."]
