"""`monitor demo`: bundled sample pages (built from real MFA digests) served on 127.0.0.1, the whole pipeline
on a temporary database, sample rules, alerts printed to the console. Needs no network and no config."""

from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.config import parse_config
from monitor.ops import run_once

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"

DEMO_CONFIG = """
[daemon]
database = "sqlite:///{db}"
first_poll_window = "3650d"   # the sample pages are old; treat them as new

[[sources]]
name = "mfa-demo"
kind = "html"
url = "{base}/mfa-news.html"
item = ".news-card"
link = "a.news-link"
date = "time"
article_body = ".news-body"

[[sources]]
name = "kt-demo"
kind = "rss"
url = "{base}/kt-rss.xml"

[[rules]]
name = "Словения"
country = "Словения"
capital = true

[[rules]]
name = "ОИС"
keyword = "ОИС"

[[rules]]
name = "Абибуллаев"
person = "Алтай Абибуллаев"

[[recipients]]
name = "demo"
console = true
rules = ["*"]
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """A real HTTP server on a free port of 127.0.0.1, in a thread; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def run_demo() -> int:
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, serve_directory(DEMO_DATA) as base:
        text = DEMO_CONFIG.format(db=Path(tmp) / "demo.db", base=base)
        config = parse_config(text, "demo.toml")
        print(f"monitor demo: sample sources on {base}, rules: " + ", ".join(r.name for r in config.rules))
        print("--- first poll: new articles alert ---")
        code = await run_once(config)
        print("--- second poll: nothing new, nothing sent twice ---")
        code = max(code, await run_once(config))
        return code
