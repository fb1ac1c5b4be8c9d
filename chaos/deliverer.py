"""Child process of the kill loop: delivers a recipient's whole outbox through the real digest.py protocol,
into a channel that writes receipts to a file (fsync'd, as a remote server's log would be) with a pause before
and after each send, so that SIGKILLs fall before, during and after sends. Exits 0 when nothing is left.

    python -m chaos.deliverer CONFIG RECEIPTS [--window-ms 40] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import func, select

from monitor.config import load_config
from monitor.digest import deliver_due
from monitor.models import Digest, Receipt
from monitor.runtime import build_runtime
from monitor.store.tables import OutboxRow


class ReceiptFileChannel:
    """Each received alert is one line "<outbox id> <digest key>", durable before send() returns."""

    kind: ClassVar[str] = "receipt-file"
    Config: ClassVar[type[BaseModel]] = BaseModel

    def __init__(self, path: Path, window_s: float, rng: random.Random) -> None:
        self.path, self.window_s, self.rng = path, window_s, rng

    async def send(self, digest: Digest) -> Receipt:
        await asyncio.sleep(self.rng.uniform(0, self.window_s))  # the request on its way: not received yet
        lines = "".join(f"{oid} {digest.key}\n" for alert in digest.alerts for oid in alert.outbox_ids)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        await asyncio.sleep(self.rng.uniform(0, self.window_s))  # received; the answer on its way back
        return Receipt(channel=self.kind)


async def deliver_all(config_path: Path, receipts: Path, window_s: float, seed: int) -> int:
    config = load_config(config_path)
    rt = await build_runtime(config)
    channel = ReceiptFileChannel(receipts, window_s, random.Random(seed))
    print("ready", flush=True)
    try:
        while True:
            for recipient in config.recipients:
                await deliver_due(rt, channel, recipient, scheduled=True)
            async with rt.sessions() as session:
                left = await session.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.status != "delivered"))
            if not left:
                return 0
            await asyncio.sleep(0.05)  # rows held by a dead sender's lease: wait for it to expire
    finally:
        await rt.aclose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("receipts", type=Path)
    parser.add_argument("--window-ms", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    return asyncio.run(deliver_all(args.config, args.receipts, args.window_ms / 1000, args.seed))


if __name__ == "__main__":
    sys.exit(main())
