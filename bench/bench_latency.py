"""7. Alert latency: an article appears on a source → the alert reaches the recipient's channel.

    python -m bench.bench_latency [--interval 60] [--samples 20] [--quick]

`monitor run` polls `samples` sources (one new article each, published at a random moment of one interval;
sources on the local site farm, jitter 0) and delivers to an immediate recipient. The channel is Telegram
through the Bot API test server (tests/servers/telegram_api.py) when it is available, else the console
(the daemon's stdout). Latency = arrival of the message naming the article - publication. Target: the worst
within interval + 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from typing import Any

from bench.common import DaemonProcess, Farm, daemon_config, emit, median, out_dir

SLACK_S = 2.0


def _telegram_server() -> Any:
    try:
        from tests.servers.telegram_api import TelegramApiServer
    except ImportError:
        return None
    return TelegramApiServer()


async def run(samples: int, interval: float, rules: int) -> dict[str, Any]:
    work = out_dir("latency")
    db = work / "latency.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    telegram = _telegram_server()
    if telegram is not None:
        await telegram.start()
    channel = "telegram" if telegram is not None else "console"
    rng = random.Random(7)
    with Farm(samples, seed=11, distinct=True) as farm:
        blocks = [{"name": f"s{i}", "kind": "html", "url": farm.url(i), "item": "article.card", "link": "a",
                   "date": "time", "interval": f"{interval:g}s", "jitter": "0s"} for i in range(samples)]
        # Every corpus article ends with "Выпуск N-...": this rule fires on each, the others are load.
        recipient: dict[str, Any] = {"name": "desk", "rules": ["latency"]}
        extra = ""
        if telegram is not None:
            recipient["telegram_chat"] = 1001
            extra = f'[telegram]\ntoken = "{telegram.token}"\napi_url = "{telegram.api_url}"\nallowed_chats = [1001]\n'
        else:
            recipient["console"] = True
        body = daemon_config(f"sqlite:///{db}", sources=blocks, rules=rules, recipients=[recipient])
        body += '[[rules]]\nname = "latency"\nkeyword = "выпуск"\n\n' + extra
        config = work / "latency.toml"
        config.write_text(body)
        config.chmod(0o600)
        with DaemonProcess(config) as daemon:
            daemon.wait_ready(120)
            # the first poll of every source (its backlog) must be over before the clock starts
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline and len(daemon.grep("new_items=", "stderr")) < samples:
                await asyncio.sleep(0.2)
            # ... and so must the delivery of that backlog (paced at 1 message/s per chat), or the measured
            # alerts would queue behind it
            quiet_until = time.perf_counter() + 180
            seen = -1
            while time.perf_counter() < quiet_until:
                count = len(telegram.messages) if telegram is not None else len(daemon.grep("", "stdout"))
                if count == seen and count > 0:
                    break
                seen = count
                await asyncio.sleep(3)
            t0 = time.perf_counter()
            offsets = sorted((rng.uniform(0, interval), i) for i in range(samples))
            published: dict[int, tuple[float, str]] = {}
            for offset, source in offsets:
                await asyncio.sleep(max(0.0, t0 + offset - time.perf_counter()))
                path = await asyncio.to_thread(farm.control_get, f"/_ctl/publish?s={source}")
                index = int(path.rsplit("-", 1)[1].split(".")[0])
                published[source] = (time.perf_counter(), f"({index})")
            latencies: dict[int, float] = {}
            deadline = time.perf_counter() + interval + 30
            while len(latencies) < samples and time.perf_counter() < deadline:
                for source, (at, marker) in published.items():
                    if source in latencies:
                        continue
                    arrived = _arrival(telegram, daemon, marker, at)
                    if arrived is not None:
                        latencies[source] = arrived - at
                await asyncio.sleep(0.05)
    if telegram is not None:
        await telegram.stop()
    values = sorted(latencies.values())
    worst = values[-1] if len(values) == samples else float("inf")
    return {"name": "latency", "channel": channel, "interval_s": interval, "samples": samples,
            "delivered": len(values), "median_s": median(values), "worst_s": worst,
            "latencies_s": [round(v, 3) for v in values],
            "target": f"worst ≤ interval + {SLACK_S:g} s", "pass": worst <= interval + SLACK_S}


def _arrival(telegram: Any, daemon: DaemonProcess, marker: str, after: float) -> float | None:
    if telegram is not None:
        # the server stamps arrivals with time.monotonic(); perf_counter shares its clock on Linux
        for message in telegram.messages:
            if marker in message.text and message.at >= after - 1:
                return float(message.at)
        return None
    for at, _line in daemon.grep(marker, "stdout"):
        if at >= after:
            return at
    return None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="bench.bench_latency")
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="10 s interval")
    args = parser.parse_args(argv)
    interval = 10.0 if args.quick else args.interval
    return asyncio.run(run(args.samples, interval, args.rules))


if __name__ == "__main__":
    emit(main(sys.argv[1:]))
