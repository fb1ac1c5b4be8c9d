"""Email delivery over SMTP (aiosmtplib): one multipart/alternative message (text + HTML) per digest.

The Message-ID is derived from the digest key, so a digest resent after a crash carries the same Message-ID
and
mail clients fold the copies into one. Failure policy: a 5xx answer is permanent (the server will say the same
again); 4xx, refused connections and timeouts are transient.
"""

from __future__ import annotations

import hashlib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import ClassVar

import aiosmtplib
from pydantic import BaseModel

from monitor.config import SmtpConfig
from monitor.errors import DeliveryError
from monitor.models import Digest, Receipt
from monitor.render import render_email


def message_id(digest: Digest, sender: str) -> str:
    """`<sha256(key)[:32]@sender's domain>`; without a key, the outbox rows identify the digest."""
    basis = digest.key or ",".join(str(i) for a in digest.alerts for i in a.outbox_ids) or digest.recipient
    digest_hash = hashlib.sha256(f"{digest.recipient}\0{basis}".encode()).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "monitor.invalid"
    return f"<monitor.{digest_hash}@{domain}>"


def build_message(digest: Digest, sender: str, to: str, *, now: datetime | None = None) -> EmailMessage:
    rendered = render_email(digest)
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    name, addr = parseaddr(sender)  # smtp.from may be "monitor@x" or "Монитор <monitor@x>"
    msg["From"] = Address(display_name=name or "Монитор", addr_spec=addr)
    msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id(digest, sender)
    msg["Auto-Submitted"] = "auto-generated"  # keeps vacation auto-replies from answering a robot
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _classify(exc: Exception, to: str) -> DeliveryError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600
        what = "refused" if permanent else "deferred"
        return DeliveryError(f"smtp: {to}: {what}: {exc.code} {exc.message}", transient=not permanent)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return DeliveryError(f"smtp: {exc} (check smtp.security)", transient=False)
    return DeliveryError(f"smtp: {to}: {type(exc).__name__}: {exc}", transient=True)


class EmailChannel:
    kind: ClassVar[str] = "email"
    Config: ClassVar[type[BaseModel]] = SmtpConfig

    def __init__(self, smtp: SmtpConfig, address: str, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.smtp = smtp
        self.address = address
        self._tls_context = tls_context  # tests pass one trusting their own CA; None means system trust

    async def send(self, digest: Digest) -> Receipt:
        msg = build_message(digest, self.smtp.from_, self.address)
        envelope_from = parseaddr(self.smtp.from_)[1]
        security = self.smtp.security
        try:
            await aiosmtplib.send(
                msg,
                sender=envelope_from,
                recipients=[self.address],
                hostname=self.smtp.host,
                port=self.smtp.port,
                username=self.smtp.username,
                password=self.smtp.password if self.smtp.username else None,
                use_tls=security == "tls",
                start_tls=security == "starttls",  # False, not None: "none" must never upgrade on its own
                tls_context=self._tls_context,
                timeout=self.smtp.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _classify(exc, self.address) from exc
        return Receipt(channel=self.kind, message_ids=(str(msg["Message-ID"]),))
