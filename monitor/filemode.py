"""Is a config file that holds secrets readable by others? `monitor check` warns (and `make run` creates
config.toml with mode 0600). Secrets given as ${ENV} or *_file are not in the file, so they do not count."""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

_ONLY_ENV = re.compile(r"^\s*(\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*)+$")
SECRET_KEYS = (("telegram", "token"), ("smtp", "password"))


def inline_secrets(text: str) -> list[str]:
    """The keys (e.g. "telegram.token") whose secret is written in the file itself."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    found = []
    for section, key in SECRET_KEYS:
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str) and value and not _ONLY_ENV.match(value):
            found.append(f"{section}.{key}")
    return found


def exposure_warning(path: Path) -> str | None:
    """A warning when `path` holds secrets and group or others may read it; None otherwise."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    secrets = inline_secrets(text)
    if not secrets:
        return None
    return (f"{path}: ВНИМАНИЕ / warning: the file holds secrets ({', '.join(secrets)}) and is readable by "
            f"others (mode {stat.S_IMODE(mode):04o}): run `chmod 600 {path}`, or move the secrets to "
            f"${{ENV}} or *_file")
