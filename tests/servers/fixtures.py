"""Fixtures for tests that need the fake Bot API or the SMTP server. Import them into a test module:
`from tests.servers.fixtures import telegram_api, smtp_server  # noqa: F401`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import TelegramApiServer


@pytest_asyncio.fixture
async def telegram_api() -> AsyncIterator[TelegramApiServer]:
    server = await TelegramApiServer().start()
    yield server
    await server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
