"""Hot reload through a real `monitor run`: a valid file takes effect without a restart and without losing queued
alerts; an invalid one is rejected with `monitor check`'s errors, the old config stays, the admin is told."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.daemon_proc import REPO, DaemonProc, write_config
from tests.servers.pages import PageServer, Route

RSS = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{}</channel></rss>'
ITEM = ("<item><title>{0}</title><link>http://example.org/{1}</link>"
        "<description><![CDATA[<p>{2}</p>]]></description></item>")


def feed(*items: tuple[str, str, str]) -> Route:
    return Route(RSS.format("".join(ITEM.format(*i) for i in items)).encode(),
                 headers={"Content-Type": "application/rss+xml"})


def source_block(pages: PageServer) -> str:
    return f"""
[[sources]]
name = "feed"
kind = "rss"
url = "{pages.url('/feed')}"
interval = "1s"
jitter = "0s"
"""


A = ("Встреча делегаций ОИС", "a", "Делегации ОИС провели встречу.")
B = ("Саммит ЕАЭС в Минске", "b", "Лидеры ЕАЭС собрались в Минске.")
C = ("Ещё одна встреча ОИС", "c", "Делегации ОИС снова встретились.")


def test_valid_reload_applies_new_rules_and_keeps_queued_alerts(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    quiet = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rules = '\n[[rules]]\nname = "oic"\nkeyword = "ОИС"\n'
    desk = '\n[[recipients]]\nname = "desk"\nconsole = true\ntimezone = "UTC"\n'
    with PageServer() as pages:
        pages.routes["/feed"] = feed(A)
        config = write_config(tmp_path / "config.toml", db,
                              source_block(pages) + rules + desk + f'quiet_hours = "{quiet}"\n')
        daemon = DaemonProc(config)
        try:
            daemon.wait_for(r"source=feed new_items=1 matches=\d+ enqueued=1")
            daemon.wait_for(r"started node=")
            assert A[0] not in daemon.text("stdout")  # held: quiet hours
            mark = daemon.count()
            # edit the file (no signal): quiet hours gone, a new rule, the same source
            config.write_text(config.read_text(encoding="utf-8").replace(f'quiet_hours = "{quiet}"\n', "")
                              + '\n[[rules]]\nname = "eaeu"\nkeyword = "ЕАЭС"\n', encoding="utf-8")
            daemon.wait_for(r"reloaded reason=config file changed sources=1 rules=2 recipients=1", after=mark)
            daemon.wait_for(A[0], "stdout", timeout=30)  # the queued alert survived the reload
            pages.routes["/feed"] = feed(A, B)
            daemon.wait_for(B[0], "stdout", timeout=30)  # the new rule fires on the next poll
            assert daemon.stop() == 0
        finally:
            daemon.stop()
    out = daemon.text("stdout")
    assert out.count(A[0]) == 1 and out.count(B[0]) == 1


def test_invalid_reload_is_rejected_old_config_stays_admin_is_told(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    rest = """
[[rules]]
name = "oic"
keyword = "ОИС"

[[recipients]]
name = "desk"
console = true
rules = ["oic"]

[[recipients]]
name = "ops"
console = true
rules = []
admin = true
"""
    with PageServer() as pages:
        pages.routes["/feed"] = feed(A)
        config = write_config(tmp_path / "config.toml", db, source_block(pages) + rest)
        good = config.read_text(encoding="utf-8")
        daemon = DaemonProc(config)
        try:
            daemon.wait_for(A[0], "stdout")
            bad = good.replace('interval = "1s"', 'interval = "soon"').replace('keyword = "ОИС"',
                                                                               'keyword = "ОИС"\ncolour = "red"')
            mark = daemon.count()
            config.write_text(bad, encoding="utf-8")
            daemon.signal(signal.SIGHUP)
            rejected = daemon.wait_for(r"reload rejected reason=(SIGHUP|config file changed)", after=mark)
            check = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "check"],
                                   capture_output=True, text=True, cwd=REPO, timeout=60)
            assert check.returncode == 2
            problems = check.stderr.strip().splitlines()
            assert len(problems) == 2 and any("interval" in p for p in problems)
            assert any("colour" in p and "unknown key" in p for p in problems)
            for problem in problems:  # the same `file:line: key: message` as `monitor check`
                assert problem in rejected.string
                daemon.wait_for(re.escape(problem.split(": ", 1)[1]), "stdout", timeout=30)  # sent to the admin
            assert "ops" in daemon.text("stdout")
            # the old config is still in force: the 1 s source keeps polling, the old rule still alerts desk
            pages.routes["/feed"] = feed(A, C)
            daemon.wait_for(C[0], "stdout", timeout=30)
            assert daemon.stop() == 0
        finally:
            daemon.stop()
    assert "reloaded" not in daemon.text()
