"""Security properties a user relies on, checked on real outputs: secrets never leave the process (logs, error
messages, `monitor status`, the database file), only http(s) is fetched, TLS is verified unless a source says
`insecure`, and the files that hold secrets or collected data are private (0600).

Source text is escaped in Telegram and
email HTML (tests/test_fuzz_telegram.py, tests/test_render.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import ssl
import stat
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from monitor.config import parse_config
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.filemode import exposure_warning
from monitor.pipeline import run_source
from monitor.runtime import build_runtime
from tests.servers.pages import PageServer, Route
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import TelegramApiServer
from tests.test_pipeline import rss

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")  # loopback SMTP, no TLS
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7007007:SECRET-TOKEN-" + os.urandom(8).hex()
PASSWORD = "SECRET-PASSWORD-" + os.urandom(8).hex()


async def monitor_cli(*args: str, config: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """Run `monitor` as a user would (a child process); stdout and stderr together."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "--log-level", "DEBUG", "--config", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, **env})
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out


async def test_secrets_never_appear_in_output_errors_status_or_database(pages: PageServer, tmp_path: Path) -> None:
    telegram = await TelegramApiServer(token=TOKEN).start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AUTH without TLS: loopback, on purpose
        smtp = SmtpServer(security="none", password=PASSWORD).start()
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text(PASSWORD + "\n")
    items = [("Словения: визит", "http://example.org/1", "<p>Словения и Казахстан.</p>")]
    pages.routes["/feed"] = Route(rss(*items))
    db = tmp_path / "monitor.db"
    config = tmp_path / "config.toml"
    config.write_text(f"""[daemon]
database = "sqlite:///{db}"

[[sources]]
name = "feed"
kind = "rss"
url = "{pages.url('/feed')}"

[[rules]]
name = "slovenia"
keyword = "Словения"

[[recipients]]
name = "tg"
telegram_chat = 42

[[recipients]]
name = "mail"
email = "desk@example.org"

[telegram]
token = "${{MONITOR_TEST_TOKEN}}"
allowed_chats = [42]
api_url = "{telegram.api_url}"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
username = "monitor"
password_file = "{secret_file}"
from = "monitor@example.org"
timeout = "5s"
""", encoding="utf-8")
    env = {"MONITOR_TEST_TOKEN": TOKEN}
    outputs: list[bytes] = []
    try:
        code, out = await monitor_cli("check", config=config, env=env)
        outputs.append(out)
        assert code == 0, out
        code, out = await monitor_cli("once", config=config, env=env)
        outputs.append(out)
        assert code == 0 and telegram.messages and smtp.received, out  # the secrets worked
        # Now every way to fail: the bot token refused, the SMTP server gone, each with a new alert.
        pages.routes["/feed"] = Route(rss(*items, ("Словения: второй визит", "http://example.org/2",
                                                   "<p>Снова Словения.</p>")))
        telegram.fail_next("sendMessage", "unauthorized", times=3)
        smtp.stop()
        code, out = await monitor_cli("once", config=config, env=env)
        outputs.append(out)
        await telegram.stop()  # and the Bot API unreachable
        for command in (("test-channel", "tg"), ("test-channel", "mail"), ("status",), ("digest", "--preview", "tg")):
            code, out = await monitor_cli(*command, config=config, env=env)
            outputs.append(out)
    finally:
        await telegram.stop()
        smtp.stop()
    assert b"not sent" in b"".join(outputs)  # the failures really happened and were reported
    files = [db, db.with_name(db.name + "-wal")]
    outputs.extend(f.read_bytes() for f in files if f.exists())
    blob = b"\n".join(outputs)
    for secret in (TOKEN, TOKEN.split(":")[1], PASSWORD):
        assert secret.encode() not in blob, f"secret {secret[:12]}... leaked"
        assert secret.encode("utf-16-le") not in blob


def test_config_with_secrets_readable_by_others_gets_a_warning(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[telegram]\ntoken = "123:abc"\n[smtp]\nhost = "h"\nfrom = "a@b"\npassword = "${PW}"\n')
    config.chmod(0o644)
    warning = exposure_warning(config)
    assert warning is not None and "telegram.token" in warning and "smtp.password" not in warning
    assert "0644" in warning and "chmod 600" in warning
    config.chmod(0o600)
    assert exposure_warning(config) is None
    config.write_text('[telegram]\ntoken = "${TG}"\ntoken_file = "/run/x"\n')
    config.chmod(0o644)
    assert exposure_warning(config) is None  # the file itself holds no secret


def test_monitor_check_prints_the_warning(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[recipients]]\nname = "t"\ntelegram_chat = 1\n[telegram]\ntoken = "123:abc"\n')
    config.chmod(0o640)
    done = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "chmod 600" in done.stderr and "123:abc" not in done.stderr + done.stdout


def test_make_creates_config_toml_private(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.example.toml")
    subprocess.run(["make", "-s", "config.toml"], cwd=tmp_path, check=True, capture_output=True)
    assert stat.S_IMODE((tmp_path / "config.toml").stat().st_mode) == 0o600


async def test_database_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "state" / "monitor.db"
    old = os.umask(0o022)  # the usual umask: without care the file would be 0644
    try:
        rt = await build_runtime(parse_config(f'[daemon]\ndatabase = "sqlite:///{db}"\n'))
        await rt.aclose()
    finally:
        os.umask(old)
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/",
                                 "data:text/html,<p>x</p>", "javascript:alert(1)"])
async def test_only_http_and_https_are_fetched(url: str) -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError, match="only http and https"):
            await fetcher.get(url)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"])
async def test_redirects_to_other_schemes_are_refused(pages: PageServer, target: str) -> None:
    pages.routes["/go"] = Route(status=302, headers={"Location": target})
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError):
            await fetcher.get(pages.url("/go"))


async def test_file_url_source_fails_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss(("Словения тайна", "http://x/1", "<p>Словения</p>")))
    rt = await build_runtime(parse_config(
        f'[daemon]\ndatabase = "sqlite:///{tmp_path / "m.db"}"\n[[sources]]\nname = "f"\nkind = "rss"\n'
        f'url = "file://{secret}"\n[[rules]]\nname = "s"\nkeyword = "Словения"\n'))
    try:
        result = await run_source(rt, "f", force=True)
    finally:
        await rt.aclose()
    assert not result.ok and result.error is not None and "only http and https" in result.error
    assert b"\xd1\x82\xd0\xb0\xd0\xb9\xd0\xbd\xd0\xb0" not in (tmp_path / "m.db").read_bytes()  # "тайна"


@pytest.fixture
def https_pages() -> Iterator[PageServer]:
    """The page server behind TLS with a certificate from a CA nobody trusts."""
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    with PageServer(tls=ctx) as server:
        yield server


async def test_tls_is_verified_unless_the_source_is_insecure(https_pages: PageServer, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    https_pages.routes["/feed"] = Route(rss(("Словения", "http://x/1", "<p>Словения</p>")))
    url = https_pages.url("/feed")
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError, match=r"(?i)certificate"):
            await fetcher.get(url)
    body = (f'[daemon]\ndatabase = "sqlite:///{tmp_path / "m.db"}"\n'
            f'[[sources]]\nname = "strict"\nkind = "rss"\nurl = "{url}"\n'
            f'[[sources]]\nname = "lax"\nkind = "rss"\nurl = "{url}"\ninsecure = true\n')
    with caplog.at_level(logging.WARNING):
        rt = await build_runtime(parse_config(body))
    try:
        strict, lax = await run_source(rt, "strict", force=True), await run_source(rt, "lax", force=True)
    finally:
        await rt.aclose()
    assert not strict.ok and lax.ok and lax.new_items == 1
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("lax" in m and "TLS VERIFICATION IS OFF" in m for m in loud)
    assert not any("strict" in m and "TLS" in m for m in loud)


class RecordingBackend:
    """A bot backend that remembers being asked anything at all."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def rules(self) -> list[str]:
        self.calls.append("rules")
        return ["secret-rule"]

    async def recent(self, n: int) -> list[object]:
        self.calls.append("recent")
        return []

    async def mute(self, chat_id: int, seconds: float) -> None:
        self.calls.append("mute")

    async def unmute(self, chat_id: int) -> None:
        self.calls.append("unmute")

    def status(self) -> str:
        self.calls.append("status")
        return "secret-status"


async def test_bot_serves_allow_listed_chats_only() -> None:
    from monitor.bot import TelegramBot
    from monitor.channels.ratelimit import RateLimiter
    from monitor.config import TelegramConfig

    api = await TelegramApiServer(token=TOKEN).start()
    backend = RecordingBackend()
    bot = TelegramBot(TelegramConfig(token=TOKEN, api_url=api.api_url, allowed_chats=(111,)), backend,
                      poll_timeout_s=1, limiter=RateLimiter(per_chat_s=0.01))
    try:
        replies = []
        for command in ("/start", "/recent", "/recent 50", "/rules", "/status", "/mute 1h", "/unmute", "/x"):
            replies.extend(await bot.handle(999, command))
            replies.extend(await bot.handle(-100999, command))  # a group the bot was added to
        assert backend.calls == []  # a stranger never reaches the data or the settings
        assert len(replies) <= 2 and not any("secret" in r for r in replies)
        assert await bot.handle(111, "/rules") and backend.calls == ["rules"]
    finally:
        await bot.aclose()
        await api.stop()
