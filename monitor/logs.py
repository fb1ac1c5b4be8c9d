"""One line per event, key=value fields (source=, item=, rule=, recipient=); no timestamps of our own under
systemd (journald adds them). Every configured secret is masked in whatever a log line carries, tracebacks
included: defence in depth behind "never log a secret"."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import Config

MASK = "***"
_secrets: set[str] = set()


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in sorted(_secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        # one event, one line: a multi-line message (a traceback, a list of config errors) stays greppable
        return text.replace("\n", "\n  ") if "\n" in text else text


def register_secrets(config: Config) -> None:
    """Remember the config's secrets (token, password, database password) so no log line shows them."""
    from sqlalchemy.engine import make_url

    values: list[str | None] = []
    if config.telegram is not None:
        values.append(config.telegram.token)
    if config.smtp is not None:
        values.append(config.smtp.password)
    with contextlib.suppress(Exception):
        values.append(make_url(config.daemon.database).password)
    for value in values:
        if value and len(str(value)) >= 4:  # shorter ones would mask ordinary words
            _secrets.add(str(value))


def under_journald() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


def setup_logging(level: str = "INFO") -> None:
    fmt = "%(levelname)s %(name)s: %(message)s" if under_journald() else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "alembic", "telegram", "hpack", "pymorphy3",
                  "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
