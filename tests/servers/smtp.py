"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in its own thread): AUTH, STARTTLS or implicit TLS,
recipients it refuses, and stop/start on the same port to play "server down, then back"."""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    refuse: dict[str, str]
    received: list[Received]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    """security: "starttls" (STARTTLS required before AUTH and MAIL), "tls" (implicit) or "none"."""

    security: str = "starttls"
    username: str | None = "monitor"
    password: str = "s3cret"
    port: int = field(default_factory=free_port)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply, e.g. "550 5.1.1 no such user"
    received: list[Received] = field(default_factory=list)
    auth_attempts: list[tuple[str, bool]] = field(default_factory=list)
    ca: trustme.CA = field(default_factory=trustme.CA)
    _controller: Controller | None = None

    def client_context(self) -> ssl.SSLContext:
        """What the client needs to trust this server's self-signed certificate."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def _server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        return ctx

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        self.auth_attempts.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def start(self) -> SmtpServer:
        # aiosmtpd logs every AUTH as a deprecation warning (its own Session.login_data): not ours to fix.
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        handler = _Handler(self.refuse, self.received)
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port, "ready_timeout": 5.0}
        if self.username is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.security == "starttls")  # implicit TLS: aiosmtpd cannot tell
        if self.security == "starttls":
            kwargs.update(tls_context=self._server_context(), require_starttls=True)
        elif self.security == "tls":
            kwargs.update(ssl_context=self._server_context())
        self._controller = Controller(handler, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
