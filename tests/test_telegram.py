from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from monitor.channels import build_channel
from monitor.channels.ratelimit import RateLimiter
from monitor.channels.telegram import TelegramChannel
from monitor.config import Config, RecipientConfig, TelegramConfig
from monitor.errors import DeliveryError
from monitor.htmlsplit import strip_tags, utf16_len
from tests.helpers_channels import EVIL_TITLE, alert, check_html, digest
from tests.servers.fixtures import telegram_api  # noqa: F401
from tests.servers.telegram_api import TelegramApiServer

CHAT = 4242


@pytest_asyncio.fixture
async def channel(telegram_api: TelegramApiServer) -> AsyncIterator[TelegramChannel]:  # noqa: F811
    ch = TelegramChannel(TelegramConfig(token=telegram_api.token, api_url=telegram_api.api_url), CHAT,
                         limiter=RateLimiter(per_chat_s=0.05))
    yield ch
    await ch.aclose()


async def test_sends_html_without_preview_and_escapes(channel: TelegramChannel,
                                                      telegram_api: TelegramApiServer) -> None:  # noqa: F811
    receipt = await channel.send(digest(alert(1, title=EVIL_TITLE)))
    [msg] = telegram_api.messages
    assert msg.chat_id == CHAT and msg.parse_mode == "HTML"
    assert msg.link_preview_options == {"is_disabled": True}
    assert "&lt;script&gt;" in msg.text and "<script>" not in msg.text
    assert EVIL_TITLE in check_html(msg.text)
    assert receipt.channel == "telegram" and receipt.message_ids == ("1",)


async def test_long_digest_arrives_in_order_within_limits(channel: TelegramChannel,
                                                          telegram_api: TelegramApiServer) -> None:  # noqa: F811
    d = digest(*(alert(n, hours_ago=n) for n in range(1, 80)))
    receipt = await channel.send(d)
    texts = telegram_api.texts(CHAT)
    assert len(texts) == len(receipt.message_ids) > 1
    assert all(utf16_len(t) <= 4096 for t in texts)
    joined = "".join(check_html(t) for t in texts)
    assert [joined.count(f"Новость {n}\n") for n in range(1, 80)] == [1] * 79


async def test_429_waits_retry_after_then_succeeds(channel: TelegramChannel,
                                                   telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "429", retry_after=1)
    started = time.monotonic()
    receipt = await channel.send(digest(alert(1)))
    assert time.monotonic() - started >= 0.95
    assert len(telegram_api.messages) == 1 and receipt.message_ids


async def test_long_flood_wait_goes_back_to_the_outbox_with_retry_after(
        channel: TelegramChannel, telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "429", retry_after=45)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert time.monotonic() - started < 1.0  # did not sit on the outbox lease
    assert err.value.transient is True and err.value.retry_after_s == 45
    assert telegram_api.messages == []


async def test_403_blocked_is_permanent(channel: TelegramChannel,
                                        telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "blocked")
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is False and "blocked" in str(err.value)


async def test_chat_not_found_is_permanent(channel: TelegramChannel,
                                           telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "not_found")
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is False and "chat not found" in str(err.value).lower()


async def test_migrated_chat_unknown_token_and_5xx(channel: TelegramChannel,
                                                   telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "migrated")
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is False and "-1001234" in str(err.value)
    telegram_api.fail_next("sendMessage", "unauthorized")
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is False and "token" in str(err.value)
    telegram_api.fail_next("sendMessage", "server")
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is True
    assert telegram_api.messages == []


async def test_parse_error_falls_back_to_plain_text(channel: TelegramChannel,
                                                    telegram_api: TelegramApiServer) -> None:  # noqa: F811
    telegram_api.fail_next("sendMessage", "parse")
    await channel.send(digest(alert(1, title=EVIL_TITLE)))
    [msg] = telegram_api.messages
    assert msg.parse_mode is None
    assert EVIL_TITLE in msg.text and "<b>" not in msg.text
    assert msg.text == strip_tags(msg.text) or "<script>" in msg.text


async def test_server_down_is_transient(telegram_api: TelegramApiServer) -> None:  # noqa: F811
    ch = TelegramChannel(TelegramConfig(token=telegram_api.token, api_url=telegram_api.api_url), CHAT)
    await telegram_api.stop()
    with pytest.raises(DeliveryError) as err:
        await ch.send(digest(alert(1)))
    assert err.value.transient is True
    await ch.aclose()


async def test_dropped_connection_is_transient_and_retry_resumes_without_repeats(
        channel: TelegramChannel, telegram_api: TelegramApiServer) -> None:  # noqa: F811
    d = digest(*(alert(n, hours_ago=n) for n in range(1, 80)))
    telegram_api.fail_next("sendMessage", "drop", after=1)  # part 1 arrives, part 2 is cut off
    with pytest.raises(DeliveryError) as err:
        await channel.send(d)
    assert err.value.transient is True
    assert len(telegram_api.messages) == 1
    receipt = await channel.send(d)  # the outbox retries the same digest
    texts = telegram_api.texts()
    assert len(texts) == len(set(texts)) == len(receipt.message_ids) > 2, "a part was lost or sent twice"
    assert "".join(texts).count("Новость 1<") == 1


def test_limiter_paces_per_chat_and_overall() -> None:
    lim = RateLimiter()
    now = 100.0
    same_chat = [lim.reserve(1, now) for _ in range(3)]
    assert same_chat == [100.0, 101.0, 102.0]
    lim2 = RateLimiter()
    slots = sorted(lim2.reserve(chat, now) for chat in range(90))
    for i in range(len(slots) - 30):  # never more than 30 in any one-second window
        assert slots[i + 30] - slots[i] >= 1.0 - 1e-9
    assert slots[-1] - now < 3.5  # 90 sends at ~27/s


async def test_limiter_sleeps_for_real() -> None:
    lim = RateLimiter(per_chat_s=0.2)
    started = time.monotonic()
    await asyncio.gather(*(lim.wait(7) for _ in range(4)))
    assert time.monotonic() - started >= 0.59


async def test_build_channel_picks_by_recipient_keys(telegram_api: TelegramApiServer) -> None:  # noqa: F811
    config = Config.model_validate({"telegram": {"token": "123:TEST", "api_url": telegram_api.api_url},
                                    "smtp": {"host": "127.0.0.1", "from": "m@example.org"}})
    tg = build_channel(RecipientConfig(name="a", telegram_chat=5), config)
    assert tg.kind == "telegram"
    assert build_channel(RecipientConfig(name="b", email="x@example.org"), config).kind == "email"
    assert build_channel(RecipientConfig(name="c", console=True), config).kind == "console"
    assert isinstance(tg, TelegramChannel)
    await tg.aclose()
