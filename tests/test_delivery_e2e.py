"""Pipeline -> outbox -> deliver_due -> the real channels, against the fake Bot API and a real SMTP server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from monitor.channels import build_channel
from monitor.channels.email import EmailChannel
from monitor.channels.telegram import TelegramChannel
from monitor.digest import deliver_due
from monitor.pipeline import run_source
from monitor.store.tables import OutboxRow
from tests.helpers_channels import check_html
from tests.servers.fixtures import telegram_api  # noqa: F401
from tests.servers.pages import PageServer, Route
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import TelegramApiServer
from tests.test_pipeline import rss

TITLE = "Встреча <b>ОИС</b> & партнёров"
RSS_TITLE = f"<![CDATA[{TITLE}]]>"  # how a feed carries markup-like text in a title


def _config(pages: PageServer, api: TelegramApiServer, smtp: SmtpServer) -> str:
    return f"""
[[sources]]
name = "a"
kind = "rss"
url = "{pages.url('/a')}"

[[rules]]
name = "ОИС"
keyword = "ОИС"

[[recipients]]
name = "desk"
telegram_chat = 4242

[[recipients]]
name = "chief"
email = "chief@example.org"

[telegram]
token = "{api.token}"
api_url = "{api.api_url}"
allowed_chats = [4242]

[smtp]
host = "127.0.0.1"
port = {smtp.port}
username = "{smtp.username}"
password = "{smtp.password}"
from = "Монитор <monitor@example.org>"
"""


async def _statuses(rt: Any) -> dict[str, str]:
    async with rt.sessions() as session:
        return {r.recipient: r.status for r in await session.scalars(select(OutboxRow))}


async def test_alert_reaches_telegram_and_email(pages: PageServer, runtime_factory: Any,
                                                telegram_api: TelegramApiServer) -> None:  # noqa: F811
    smtp = SmtpServer().start()
    try:
        pages.routes["/a"] = Route(rss((RSS_TITLE, "http://x/1", "<p>Делегации ОИС провели встречу.</p>")))
        rt = await runtime_factory(_config(pages, telegram_api, smtp))
        assert (await run_source(rt, "a", force=True)).enqueued == 2
        desk, chief = rt.config.recipient("desk"), rt.config.recipient("chief")
        tg = build_channel(desk, rt.config)
        mail = build_channel(chief, rt.config)
        assert isinstance(tg, TelegramChannel) and isinstance(mail, EmailChannel)
        mail._tls_context = smtp.client_context()  # the test CA; production trusts the system store

        assert (await deliver_due(rt, tg, desk)).sent == 1  # type: ignore[union-attr]
        assert (await deliver_due(rt, mail, chief)).sent == 1  # type: ignore[union-attr]
        assert await _statuses(rt) == {"desk": "delivered", "chief": "delivered"}

        [msg] = telegram_api.messages
        assert "<b>ОИС</b>" in msg.text and "&lt;b&gt;ОИС&lt;/b&gt; &amp; партнёров" in msg.text
        assert TITLE in check_html(msg.text)
        [got] = smtp.received
        assert got.message["Subject"].startswith("Монитор: 1 новое по «ОИС»")
        html = got.message.get_body(("html",))
        assert html is not None and "&lt;b&gt;ОИС&lt;/b&gt;" in html.get_content()
        await tg.aclose()  # type: ignore[attr-defined]
    finally:
        smtp.stop()


async def test_blocked_chat_fails_rows_and_outage_retries_them(pages: PageServer, runtime_factory: Any,
                                                               telegram_api: TelegramApiServer) -> None:  # noqa: F811
    smtp = SmtpServer()  # never started: the email recipient's server is down
    pages.routes["/a"] = Route(rss((RSS_TITLE, "http://x/1", "<p>ОИС</p>")))
    rt = await runtime_factory(_config(pages, telegram_api, smtp))
    await run_source(rt, "a", force=True)
    desk, chief = rt.config.recipient("desk"), rt.config.recipient("chief")
    telegram_api.fail_next("sendMessage", "blocked")
    tg = build_channel(desk, rt.config)
    assert (await deliver_due(rt, tg, desk)).failed == 1  # type: ignore[union-attr]
    assert (await deliver_due(rt, build_channel(chief, rt.config), chief)).retrying == 1  # type: ignore[union-attr]
    assert await _statuses(rt) == {"desk": "failed", "chief": "pending"}
    async with rt.sessions() as session:
        rows = {r.recipient: r for r in await session.scalars(select(OutboxRow))}
    assert "blocked" in (rows["desk"].last_error or "")
    assert rows["chief"].next_attempt_at is not None
    await tg.aclose()  # type: ignore[attr-defined]
