"""Operational notices to the recipients marked `admin = true` (a rejected config reload), through their own
channel: a Digest with one Alert that carries the text, so every channel can send it as it is."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from monitor.channels import Channel, build_channel
from monitor.config import Config
from monitor.models import Alert, Digest

log = logging.getLogger(__name__)


async def tell_admins(config: Config, channels: dict[str, Channel], title: str, text: str) -> int:
    """Send to every admin recipient of `config`; returns how many got it. Never raises."""
    key = "notice-" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]
    told = 0
    for r in config.recipients:
        if not r.admin:
            continue
        alert = Alert(outbox_ids=(), story_id=0, item_id=0, title=title, url="", source="monitor",
                      published_at=datetime.now(UTC), rules=("конфигурация",), snippet=text[:3000], spans=())
        try:
            channel = channels.get(r.name) or build_channel(r, config)
            await channel.send(Digest(r.name, (alert,), r.timezone or config.daemon.timezone, key=key))
        except Exception as exc:
            log.warning("recipient=%s notice not delivered error=%s", r.name, exc)
            continue
        told += 1
        log.info("recipient=%s channel=%s notice delivered title=%r", r.name, channel.kind, title)
    return told
