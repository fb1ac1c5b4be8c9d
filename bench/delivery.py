"""Delivery figures (JSON on stdout, never pass/fail): rendering speed, Telegram pacing against the test Bot
API server, SMTP sends per second against the test SMTP server. Run: `.venv/bin/python -m bench.delivery`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from monitor.channels.email import EmailChannel
from monitor.channels.ratelimit import RateLimiter
from monitor.channels.telegram import TelegramChannel
from monitor.config import SmtpConfig, TelegramConfig
from monitor.render import render_email, render_telegram
from tests.helpers_channels import alert, digest
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import TelegramApiServer


def _rate(fn: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - started)


def bench_render() -> dict[str, float]:
    one = digest(alert(1))
    fifty = digest(*(alert(n, hours_ago=n) for n in range(1, 51)))
    return {
        "render_telegram_1_alert_per_s": round(_rate(lambda: render_telegram(one), 2000)),
        "render_telegram_50_alerts_per_s": round(_rate(lambda: render_telegram(fifty), 100)),
        "telegram_messages_for_50_alerts": len(render_telegram(fifty)),
        "render_email_50_alerts_per_s": round(_rate(lambda: render_email(fifty), 100)),
    }


async def bench_telegram() -> dict[str, float]:
    server = await TelegramApiServer().start()
    config = TelegramConfig(token=server.token, api_url=server.api_url)
    limiter = RateLimiter()
    channels = [TelegramChannel(config, chat, limiter=limiter) for chat in range(90)]
    started = time.monotonic()
    await asyncio.gather(*(ch.send(digest(alert(1), key=f"k{ch.chat_id}")) for ch in channels))
    fanout_s = time.monotonic() - started
    times = sorted(m.at for m in server.messages)
    worst_window = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    server.messages.clear()
    started = time.monotonic()
    for n in range(5):
        await channels[0].send(digest(alert(n), key=f"same{n}"))
    one_chat_s = time.monotonic() - started
    for ch in channels:
        await ch.aclose()
    await server.stop()
    return {"telegram_90_chats_1_msg_s": round(fanout_s, 2), "telegram_max_msgs_in_any_1s": worst_window,
            "telegram_5_msgs_one_chat_s": round(one_chat_s, 2)}


async def bench_smtp() -> dict[str, float]:
    server = SmtpServer().start()
    cfg = SmtpConfig.model_validate({"host": "127.0.0.1", "port": server.port, "username": server.username,
                                     "password": server.password, "from": "m@example.org"})
    channel = EmailChannel(cfg, "to@example.org", tls_context=server.client_context())
    d = digest(*(alert(n) for n in range(1, 11)))
    n = 30
    started = time.monotonic()
    for _ in range(n):
        await channel.send(d)
    rate = n / (time.monotonic() - started)
    server.stop()
    return {"smtp_starttls_auth_sends_per_s": round(rate, 1)}


async def main() -> None:
    figures = bench_render()
    figures |= await bench_telegram()
    figures |= await bench_smtp()
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
