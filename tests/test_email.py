from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from monitor.channels.email import EmailChannel, message_id
from monitor.config import SmtpConfig
from monitor.errors import DeliveryError
from tests.helpers_channels import EVIL_TITLE, alert, check_html, digest
from tests.servers.smtp import SmtpServer

TO = "chief@example.org"
# With implicit TLS aiosmtpd cannot tell that the session is encrypted and warns about AUTH without TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def _config(server: SmtpServer, **over: object) -> SmtpConfig:
    data: dict[str, object] = {"host": "127.0.0.1", "port": server.port, "security": server.security,
                               "username": server.username, "password": server.password,
                               "from": "monitor@example.org", "timeout": "5s"}
    data.update(over)
    return SmtpConfig.model_validate(data)


@pytest.fixture(params=["starttls", "tls", "none"])
def server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    srv = SmtpServer(security=request.param, username=None if request.param == "none" else "monitor").start()
    yield srv
    srv.stop()


async def test_delivers_multipart_with_auth_over_each_security(server: SmtpServer) -> None:
    channel = EmailChannel(_config(server), TO, tls_context=server.client_context())
    receipt = await channel.send(digest(alert(1, title=EVIL_TITLE), alert(2, rules=("ОИС",))))
    [got] = server.received
    assert got.recipients == [TO] and got.sender == "monitor@example.org"
    msg = got.message
    assert msg["Subject"] == "Монитор: 2 новых по «Словения», «ОИС»"
    assert msg["Message-ID"] == receipt.message_ids[0]
    assert msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert EVIL_TITLE in text.get_content()
    html_src = html.get_content()
    assert "<script>" not in html_src and "&lt;script&gt;" in html_src
    assert EVIL_TITLE in check_html(html_src, allowed=None)
    if server.username:
        assert server.auth_attempts and all(ok for _, ok in server.auth_attempts)


def test_message_id_is_stable_per_digest_key() -> None:
    a = message_id(digest(alert(1), key="k-1"), "m@example.org")
    assert a == message_id(digest(alert(1), key="k-1"), "m@example.org")
    assert a != message_id(digest(alert(1), key="k-2"), "m@example.org")
    assert a.startswith("<monitor.") and a.endswith("@example.org>")


async def test_resend_carries_the_same_message_id() -> None:
    srv = SmtpServer().start()
    try:
        channel = EmailChannel(_config(srv), TO, tls_context=srv.client_context())
        d = digest(alert(1))
        await channel.send(d)
        await channel.send(d)
        ids = {r.message["Message-ID"] for r in srv.received}
        assert len(srv.received) == 2 and len(ids) == 1
    finally:
        srv.stop()


async def test_wrong_password_is_permanent() -> None:
    srv = SmtpServer().start()
    try:
        channel = EmailChannel(_config(srv, password="wrong"), TO, tls_context=srv.client_context())
        with pytest.raises(DeliveryError) as err:
            await channel.send(digest(alert(1)))
        assert err.value.transient is False and "535" in str(err.value)
    finally:
        srv.stop()


async def test_rcpt_5xx_is_permanent_4xx_is_transient() -> None:
    srv = SmtpServer(refuse={"gone@example.org": "550 5.1.1 no such user",
                             "full@example.org": "452 4.2.2 mailbox full"}).start()
    try:
        ctx = srv.client_context()
        with pytest.raises(DeliveryError) as err:
            await EmailChannel(_config(srv), "gone@example.org", tls_context=ctx).send(digest(alert(1)))
        assert err.value.transient is False and "550" in str(err.value)
        with pytest.raises(DeliveryError) as err:
            await EmailChannel(_config(srv), "full@example.org", tls_context=ctx).send(digest(alert(1)))
        assert err.value.transient is True and "452" in str(err.value)
        assert srv.received == []
    finally:
        srv.stop()


async def test_untrusted_certificate_is_refused() -> None:
    srv = SmtpServer().start()
    try:
        with pytest.raises(DeliveryError) as err:
            await EmailChannel(_config(srv), TO).send(digest(alert(1)))  # system trust: self-signed fails
        assert err.value.transient is True and srv.received == []
    finally:
        srv.stop()


async def test_server_down_is_transient_then_back_delivers() -> None:
    srv = SmtpServer().start()
    channel = EmailChannel(_config(srv), TO, tls_context=srv.client_context())
    srv.stop()
    started = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        await channel.send(digest(alert(1)))
    assert err.value.transient is True and time.monotonic() - started < 5
    await asyncio.to_thread(srv.start)  # same port, same CA
    await channel.send(digest(alert(1)))
    assert len(srv.received) == 1
    srv.stop()


async def test_silent_server_times_out_as_transient() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cfg = SmtpConfig.model_validate({"host": "127.0.0.1", "port": port, "security": "none",
                                     "from": "m@example.org", "timeout": "0.5s"})
    started = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        await EmailChannel(cfg, TO).send(digest(alert(1)))
    assert err.value.transient is True and time.monotonic() - started < 3
    server.close()
