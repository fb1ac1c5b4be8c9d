"""The systemd unit says what a hardened notify service needs, and `monitor run` speaks sd_notify to a real
AF_UNIX datagram socket: READY, WATCHDOG, RELOADING (with MONOTONIC_USEC), READY again, STOPPING."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.sdnotify import Notifier
from tests.daemon_proc import REPO, DaemonProc, write_config
from tests.servers.pages import PageServer, Route

UNIT = REPO / "deploy" / "systemd" / "monitor.service"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd unit syntax: sections, repeatable keys, comments; enough for the directives we check."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out[section].setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_has_the_key_directives() -> None:
    unit = parse_unit(UNIT.read_text(encoding="utf-8"))
    service = {k: v[-1] for k, v in unit["Service"].items()}
    expected = {
        "Type": "notify", "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
        "DynamicUser": "yes", "StateDirectory": "monitor", "ConfigurationDirectory": "monitor",
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet": "",
        "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
        "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "RestrictNamespaces": "yes",
    }
    for key, value in expected.items():
        assert service.get(key) == value, key
    assert "@system-service" in unit["Service"]["SystemCallFilter"]
    assert service["WatchdogSec"].endswith("s") and int(service["WatchdogSec"][:-1]) >= 10
    assert " run" in service["ExecStart"] and "--config" in service["ExecStart"]
    assert service["EnvironmentFile"].lstrip("-") == "/etc/monitor/monitor.env"
    assert "/run/credentials/monitor.service/telegram" in UNIT.read_text(encoding="utf-8")
    # the stop timeout leaves the daemon's drain (30 s by default) room to finish
    assert int(service["TimeoutStopSec"].rstrip("s")) > 30
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    env_example = (UNIT.parent / "monitor.env.example").read_text(encoding="utf-8")
    assert "TELEGRAM_TOKEN=" in env_example and "SMTP_PASSWORD=" in env_example


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_security_rates_it_ok() -> None:
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(UNIT)], capture_output=True,
                         text=True, timeout=60)
    last = out.stdout.strip().splitlines()[-1]
    assert "Overall exposure level" in last
    assert float(last.split(":")[1].split()[0]) < 2.0, last  # "OK" band; the rest is network access


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # a short path: AF_UNIX paths are limited to 108 bytes, pytest's tmp_path can be longer
    directory = tempfile.mkdtemp(prefix="mon-", dir="/tmp")
    path = f"{directory}/notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    yield sock, path
    sock.close()
    shutil.rmtree(directory, ignore_errors=True)


def receive_until(sock: socket.socket, wanted: str, seen: list[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            continue
        seen.append(message)
        if wanted in message.splitlines():
            return message
    raise AssertionError(f"no {wanted} among {seen}")


def test_outside_systemd_it_is_a_no_op() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and not notifier.ready() and notifier.watchdog_s is None


def test_abstract_socket_and_watchdog_pid() -> None:
    name = f"monitor-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "6000000"})
        assert notifier.ready("up") and notifier.watchdog_s == 6.0
        assert sock.recv(1024).decode().splitlines() == ["READY=1", "STATUS=up"]
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert notifier.reloading()
        lines = sock.recv(1024).decode().splitlines()
        assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
        usec = int(lines[1].split("=")[1])
        assert before <= usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    # the watchdog belongs to another process: not ours to ping
    assert Notifier({"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "6000000", "WATCHDOG_PID": "1"}).watchdog_s is None


def test_monitor_run_speaks_sd_notify(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    with PageServer() as pages:
        pages.routes["/feed"] = Route(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                                      b"</channel></rss>", headers={"Content-Type": "application/rss+xml"})
        config = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path / 'm.db'}", f"""
[[sources]]
name = "feed"
kind = "rss"
url = "{pages.url('/feed')}"
interval = "1h"
jitter = "0s"

[[recipients]]
name = "desk"
console = true
""")
        daemon = DaemonProc(config, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1500000"})
        seen: list[str] = []
        try:
            ready = receive_until(sock, "READY=1", seen)
            assert any(line.startswith("STATUS=") for line in ready.splitlines())
            receive_until(sock, "WATCHDOG=1", seen)
            receive_until(sock, "WATCHDOG=1", seen)  # it keeps pinging (every WATCHDOG_USEC/3)
            daemon.signal(signal.SIGHUP)
            reloading = receive_until(sock, "RELOADING=1", seen)
            usec = int(next(x for x in reloading.splitlines() if x.startswith("MONOTONIC_USEC=")).split("=")[1])
            assert 0 < usec <= time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            receive_until(sock, "READY=1", seen)  # reload done
            daemon.signal(signal.SIGTERM)
            receive_until(sock, "STOPPING=1", seen)
            assert daemon.stop() == 0
        finally:
            daemon.stop()
    assert "reloaded reason=SIGHUP" in daemon.text()


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
CHILD = """
import mmap, runpy, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("writable+executable memory was allowed: the restriction is not in force")
except PermissionError:
    print("W+X denied")
sys.argv = ["monitor", "demo"]
runpy.run_module("monitor", run_name="__main__")
"""


def _deny_write_execute() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_MDWE")


def _mdwe_supported() -> bool:
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_deny_write_execute, capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_the_whole_pipeline_runs_under_memory_deny_write_execute() -> None:
    """MemoryDenyWriteExecute=yes in the unit: the kernel's PR_SET_MDWE (Linux >= 6.3) is the same rule
    (no writable+executable mappings, inherited across exec). `monitor demo` runs the whole pipeline under it."""
    try:
        supported = _mdwe_supported()
    except subprocess.SubprocessError:
        supported = False
    if not supported:
        pytest.skip("kernel without PR_SET_MDWE")
    out = subprocess.run([sys.executable, "-c", CHILD], preexec_fn=_deny_write_execute, capture_output=True,
                         text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("W+X denied") and "nothing sent twice" in out.stdout
