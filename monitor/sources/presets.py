"""Named source settings. Selectors are data so that a user can mend a preset in TOML without a release."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "akorda": {"kind": "rss", "url": "https://www.akorda.kz/ru/rss"},
    "mid-ru": {"kind": "rss", "url": "https://mid.ru/ru/rss.php"},
}
