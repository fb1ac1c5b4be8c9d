"""The scripted chaos run: publish articles, break the servers, SIGKILL the daemon, and count at the end."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

from chaos.ledger import Figures, Ledger, console_receipts, figures, outbox, urls_in
from chaos.proc import DaemonProcess
from chaos.proxy import FAULTS as CHANNEL_FAULTS
from chaos.proxy import FaultProxy
from chaos.world import World
from tests.servers.pages import FAULTS, PageServer
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import TelegramApiServer

log = logging.getLogger("chaos")
CHAT = 1001
MAILBOX = "desk@example.org"
RECIPIENTS = ("tg", "mail", "desk")  # Telegram, email, console: every matching article alerts all three
# Secrets reach the daemon through its environment only; the run then looks for them in every output.
TOKEN = "5550001:CHAOS-" + os.urandom(12).hex()
PASSWORD = "chaos-pw-" + os.urandom(12).hex()


@dataclass(frozen=True)
class Plan:
    steps: int
    kill_p: float  # chance of a SIGKILL after a step
    fault_p: float  # chance of a new fault on the source server at a step
    settle_s: float = 180.0  # how long the healed world may take to deliver everything

    @classmethod
    def quick(cls) -> Plan:
        return cls(steps=8, kill_p=0.5, fault_p=0.5, settle_s=120.0)

    @classmethod
    def full(cls) -> Plan:
        return cls(steps=40, kill_p=0.35, fault_p=0.35)


def config_text(db: Path, world: World, tg_port: int, smtp_port: int) -> str:
    return f"""[daemon]
database = "sqlite:///{db}"
node_id = "chaos"          # a restarted daemon takes its own source leases back at once
max_backoff = "2s"
delivery_lease = "2s"      # an interrupted send is retried 2 s after the crash instead of 60 s
log_level = "INFO"

{world.sources_toml()}
[[rules]]
name = "slovenia"
keyword = "{'Словения'}"

# small digests: many send/mark windows for the kills to fall into
[[recipients]]
name = "tg"
telegram_chat = {CHAT}
max_digest = 3

[[recipients]]
name = "mail"
email = "{MAILBOX}"
max_digest = 3

[[recipients]]
name = "desk"
console = true
max_digest = 3

[telegram]
token = "${{CHAOS_TELEGRAM_TOKEN}}"
allowed_chats = [{CHAT}]
api_url = "http://127.0.0.1:{tg_port}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "monitor"
password = "${{CHAOS_SMTP_PASSWORD}}"
from = "monitor@example.org"
timeout = "10s"
"""


async def run(plan: Plan, workdir: Path, seed: int) -> tuple[Figures, dict[str, int]]:
    rng = random.Random(seed)
    telegram = await TelegramApiServer(token=TOKEN).start()
    # plain SMTP with AUTH is deliberate here (loopback, no TLS to verify); aiosmtpd warns from its thread
    warnings.filterwarnings("ignore", "Requiring AUTH", UserWarning)
    smtp = SmtpServer(security="none", password=PASSWORD).start()
    tg_proxy = await FaultProxy(telegram.port, "http").start()
    smtp_proxy = await FaultProxy(smtp.port, "smtp").start()
    try:
        with PageServer() as server:
            return await _run(plan, workdir, rng, server, telegram, smtp, tg_proxy, smtp_proxy)
    finally:
        await tg_proxy.stop()
        await smtp_proxy.stop()
        await telegram.stop()
        smtp.stop()


def channel_receipts(telegram: TelegramApiServer, smtp: SmtpServer) -> list[tuple[str, str]]:
    """(recipient, url) for each alert the Telegram server and the SMTP server really received."""
    receipts = [("tg", url) for m in list(telegram.messages) if m.chat_id == CHAT for url in urls_in(m.text)]
    for mail in list(smtp.received):
        if MAILBOX in mail.recipients:
            text = " ".join(str(part.get_content()) for part in mail.message.walk()
                            if part.get_content_maintype() == "text")
            receipts.extend(("mail", url) for url in sorted(urls_in(text)))
    return receipts


async def _run(plan: Plan, workdir: Path, rng: random.Random, server: PageServer, telegram: TelegramApiServer,
               smtp: SmtpServer, tg_proxy: FaultProxy, smtp_proxy: FaultProxy) -> tuple[Figures, dict[str, int]]:
    db = workdir / "chaos.db"
    config = workdir / "config.toml"
    ledger = Ledger()
    stats = {"faults": 0, "kills_during_startup": 0, "exit_code_on_sigterm": -1}
    world = World(server, rng)
    config.write_text(config_text(db, world, tg_proxy.port, smtp_proxy.port), encoding="utf-8")
    daemon = DaemonProcess(config, workdir, env={"CHAOS_TELEGRAM_TOKEN": TOKEN, "CHAOS_SMTP_PASSWORD": PASSWORD})
    try:
        daemon.start()
        if not await daemon.wait_ready():
            raise RuntimeError(f"the daemon did not start; see {daemon.stderr}")

        def receipts() -> list[tuple[str, str]]:
            return console_receipts(daemon.stdout) + channel_receipts(telegram, smtp)

        for step in range(plan.steps):
            for _ in range(rng.randint(1, 4)):
                article = world.publish(rng.choice(("rss", "html")), matching=rng.random() < 0.6)
                if article.matching:
                    ledger.expected.update((r, article.url) for r in RECIPIENTS)
            if rng.random() < plan.fault_p:
                kind = rng.choice(FAULTS)
                server.fail(kind, delay_s=rng.uniform(1.0, 4.0))
                stats["faults"] += 1
                log.info("step %d: source server fault %s", step, kind)
            elif rng.random() < 0.5:
                server.heal()
            for name, proxy in (("telegram", tg_proxy), ("smtp", smtp_proxy)):
                if rng.random() < plan.fault_p / 2:
                    kind = rng.choice(CHANNEL_FAULTS)
                    await proxy.fail(kind, delay_s=rng.uniform(0.5, 3.0))
                    stats["faults"] += 1
                    log.info("step %d: %s fault %s", step, name, kind)
                elif rng.random() < 0.4:
                    await proxy.heal()
            await asyncio.sleep(rng.uniform(0.2, 2.5))
            if rng.random() < plan.kill_p:
                if not daemon.ready():
                    stats["kills_during_startup"] += 1
                await daemon.kill()
                ledger.after_kill(db, receipts())
                log.info("step %d: SIGKILL (%d so far)", step, ledger.restarts)
                await asyncio.sleep(rng.uniform(0.0, 1.0))
                daemon.start()
        server.heal()
        await tg_proxy.heal()
        await smtp_proxy.heal()
        if not await daemon.wait_ready():
            raise RuntimeError(f"the daemon did not come back after the last kill; see {daemon.stderr}")
        await _settle(ledger, db, receipts, plan.settle_s)
        code = await daemon.stop()
        stats["exit_code_on_sigterm"] = -1 if code is None else code
        stats["internal_errors"] = _internal_errors(daemon.stderr)
        stats["secrets_in_output"] = _secrets_found(daemon, db)
        stats["invalid_html_messages"] = _invalid_html(telegram, smtp)
        return figures(ledger, len(world.articles), receipts(), db, ledger.restarts), stats
    finally:
        await daemon.kill()  # only if the run failed half-way: a stray daemon must not outlive the harness


async def _settle(ledger: Ledger, db: Path, receipts: object, timeout_s: float) -> None:
    """Wait until every expected alert arrived and the outbox holds nothing undelivered (or time is up)."""
    assert callable(receipts)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        got = set(receipts())
        rows = outbox(db)
        if ledger.expected <= got and rows and all(s == "delivered" for _r, _u, s in rows):
            return
        await asyncio.sleep(0.5)


def _secrets_found(daemon: DaemonProcess, db: Path) -> int:
    """How many of the daemon's outputs (stdout, stderr, the database files) contain the token or password."""
    files = [daemon.stdout, daemon.stderr, db, db.with_name(db.name + "-wal")]
    blobs = [f.read_bytes() for f in files if f.exists()]
    return sum(1 for blob in blobs for secret in (TOKEN, PASSWORD, TOKEN.split(":")[1]) if secret.encode() in blob)


def _invalid_html(telegram: TelegramApiServer, smtp: SmtpServer) -> int:
    """Telegram messages and email HTML parts that are not balanced HTML of allowed tags (source text escaped)."""
    from tests.helpers_channels import check_html

    bad = 0
    parts = [(m.text, True) for m in telegram.messages]
    parts += [(str(p.get_content()), False) for mail in smtp.received for p in mail.message.walk()
              if p.get_content_type() == "text/html"]
    for markup, strict in parts:
        try:
            check_html(markup) if strict else check_html(markup, allowed=None)
            if "<script" in markup.lower():
                raise AssertionError("a script tag came through")
        except AssertionError:
            bad += 1
    return bad


def _internal_errors(stderr: Path) -> int:
    text = stderr.read_text(encoding="utf-8", errors="replace") if stderr.exists() else ""
    return text.count("unexpected error") + text.count("Traceback")
