"""`monitor match` and `monitor explain`: rules from a TOML file, texts from stdin or the command line."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.errors import ConfigError
from monitor.rules import RuleSpec, compile_rules, validate_rules


def load_rules(path: Path) -> list[RuleSpec]:
    """The [[rules]] of a rules file or of a whole config file. Raises ConfigError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    raw = data.get("rules")
    if not isinstance(raw, list) or not raw:
        raise ConfigError([f"{path}: no [[rules]] found"])
    specs: list[RuleSpec] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        try:
            specs.append(RuleSpec.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"])
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append(f"{path}: rules[{index}]{'.' + key if key else ''}: {msg}")
    problems += [f"{path}: rules[{i}].{key}: {msg}" for i, key, msg in validate_rules(specs)]
    if problems:
        raise ConfigError(problems)
    return specs


def run_match(rules_path: Path, *, as_json: bool) -> int:
    matcher = compile_rules(load_rules(rules_path))
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            doc: dict[str, Any] = json.loads(line)
            text = str(doc.get("text", ""))
            title = str(doc.get("title", ""))
        except (json.JSONDecodeError, AttributeError):
            print(f"stdin:{number}: not a JSON object, skipped", file=sys.stderr)
            continue
        for m in matcher.match(title, text.split("\n"), doc.get("source")):
            record = {"id": doc.get("id"), "rule": m.rule, "paragraph": m.paragraph, "snippet": m.snippet,
                      "spans": [list(s) for s in m.spans]}
            if as_json:
                print(json.dumps(record, ensure_ascii=False))
            else:
                where = "title" if m.paragraph is None else f"paragraph {m.paragraph}"
                print(f"{doc.get('id')}: {m.rule} ({where}): {m.snippet[:200]}")
    return 0


def run_explain(rules_path: Path, rule_name: str, text: str) -> int:
    from monitor.rules import explain

    specs = load_rules(rules_path)
    if rule_name not in {s.name for s in specs}:
        raise ConfigError([f"{rules_path}: no rule named {rule_name!r}"])
    lines = explain(specs, rule_name, text)
    for line in lines:
        print(line)
    return 0 if lines and lines[0].startswith("MATCH") else 1
