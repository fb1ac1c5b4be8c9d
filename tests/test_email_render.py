"""The email HTML in a real browser: skipped unless Chromium is installed (apt-get install -y chromium)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.render_email_screenshot import find_chromium, write_preview


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")
def test_email_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    html_path, png = write_preview(tmp_path)
    assert png is not None and png.stat().st_size > 10_000
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (900, 1400)
    assert "&lt;script&gt;" in html_path.read_text(encoding="utf-8")
