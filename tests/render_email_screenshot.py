"""Write the email HTML of a sample digest and, when Chromium is installed, screenshot it headless.

    .venv/bin/python -m tests.render_email_screenshot [OUT_DIR]     # default: ./build/email-preview

Writes sample-email.html, sample-email.txt and (with chromium) sample-email.png; prints their paths.
Install the browser with `apt-get install -y chromium` (Debian's package). The same check runs in
tests/test_email_render.py, skipped when no chromium is on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from monitor.models import Digest
from monitor.render import render_email
from tests.helpers_channels import EVIL_TITLE, alert, digest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def sample_digest() -> Digest:
    long_paragraph = (
        "Астана. 26 ноября. KAZAKHSTAN TODAY - Посол Казахстана в Словении провёл переговоры "
        "с представителями "
        "Министерства иностранных и европейских дел Республики Словения. Стороны обсудили подготовку "
        "казахско-словенского бизнес-форума и сотрудничество в рамках ОИС."
    )
    spans = tuple((long_paragraph.find(w), long_paragraph.find(w) + len(w))
                  for w in ("Посол Казахстана в Словении", "Республики Словения", "казахско-словенского"))
    return digest(
        alert(1, title="Казахстан и Словения обсудили расширение торгово-экономического сотрудничества",
              snippet=long_paragraph, spans=spans, also=("inform-kz", "mfa"), rules=("Словения", "ОИС")),
        alert(2, title=EVIL_TITLE, hours_ago=3),
        alert(3, title="Заседание СМИД ОИС пройдёт в Астане", rules=("ОИС",), hours_ago=5,
              snippet="Очередное заседание Совета министров иностранных дел ОИС пройдёт в Астане.",
              spans=((53, 56),)),
    )


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def write_preview(out_dir: Path) -> tuple[Path, Path | None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    mail = render_email(sample_digest())
    html_path = out_dir / "sample-email.html"
    html_path.write_text(mail.html, encoding="utf-8")
    (out_dir / "sample-email.txt").write_text(f"Subject: {mail.subject}\n\n{mail.text}", encoding="utf-8")
    chromium = find_chromium()
    if chromium is None:
        return html_path, None
    png = out_dir / "sample-email.png"
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no lock clash with another run
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
                        "--window-size=900,1400", html_path.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    return html_path, png


if __name__ == "__main__":
    html_path, png = write_preview(Path(sys.argv[1] if len(sys.argv) > 1 else "build/email-preview"))
    print(html_path)
    print(png or "chromium not found: install it with `apt-get install -y chromium` for the screenshot")
