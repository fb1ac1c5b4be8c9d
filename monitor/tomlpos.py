"""Map key paths (`sources[2].interval`) to line numbers in a TOML text.

tomllib gives positions only for syntax errors; validation errors need the line too, so this reads
table headers and `key =` lines. It handles the shapes a hand-edited config uses (tables, arrays of
tables, bare and quoted keys); anything else simply falls back to the enclosing table's line.
"""

from __future__ import annotations

import re

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=")


class TomlLocator:
    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if m := _ARRAY_HEADER.match(line):
                name = m.group(1).strip().strip("\"'")
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = f"{name}[{index}]"
                self._lines.setdefault(table, number)
            elif m := _TABLE_HEADER.match(line):
                table = m.group(1).strip().strip("\"'")
                self._lines.setdefault(table, number)
            elif m := _KEY_LINE.match(line):
                key = m.group(1).strip('"')
                self._lines.setdefault(f"{table}.{key}" if table else key, number)

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its nearest enclosing key or table."""
        while path:
            if path in self._lines:
                return self._lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self._lines.get(path)
