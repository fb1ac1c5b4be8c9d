"""Checks across keys that a per-field schema cannot express. Returns (key path, message) pairs."""

from __future__ import annotations

import re
from collections import Counter

from pydantic import ValidationError

from monitor.config import Config
from monitor.rules import validate_rules
from monitor.sources import resolve

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _duplicates(names: list[str]) -> set[str]:
    return {n for n, c in Counter(names).items() if c > 1}


def check_semantics(config: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    sections: dict[str, list[str]] = {
        "sources": [s.name for s in config.sources],
        "rules": [r.name for r in config.rules],
        "recipients": [r.name for r in config.recipients],
    }
    for section, names in sections.items():
        dupes = _duplicates(names)
        for i, name in enumerate(names):
            if name in dupes:
                problems.append((f"{section}[{i}].name", f'"{name}" is used twice'))
    for i, source in enumerate(config.sources):
        try:
            resolve(source)
        except ValidationError as exc:
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"]) or "kind"
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                problems.append((f"sources[{i}].{key}", msg.removeprefix("Value error, ")))
        except ValueError as exc:
            problems.append((f"sources[{i}].{'preset' if source.preset else 'kind'}", str(exc)))
    for index, key, message in validate_rules(config.rules):
        problems.append((f"rules[{index}].{key}", message))
    rule_names = {r.name for r in config.rules}
    for i, r in enumerate(config.recipients):
        where = f"recipients[{i}]"
        if r.telegram_chat is None and r.email is None and not r.console:
            problems.append((where, "a recipient needs telegram_chat, email or console = true"))
        if r.telegram_chat is not None and (config.telegram is None or not config.telegram.token):
            problems.append((f"{where}.telegram_chat", "needs a [telegram] section with a token"))
        if r.email is not None and config.smtp is None:
            problems.append((f"{where}.email", "needs an [smtp] section"))
        if r.email is not None and "@" not in r.email:
            problems.append((f"{where}.email", f'"{r.email}" is not an email address'))
        for name in r.rules:
            if name != "*" and name not in rule_names:
                problems.append((f"{where}.rules", f'no rule named "{name}"'))
        if r.schedule != "immediate":
            problems.extend((f"{where}.schedule", m) for m in _cron_problems(r.schedule))
        if r.quiet_hours is not None and not _QUIET.match(r.quiet_hours):
            problems.append((f"{where}.quiet_hours", f'"{r.quiet_hours}" is not like "22:00-07:00"'))
    return problems


def _cron_problems(expr: str) -> list[str]:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        return [f'"{expr}" is not "immediate" or a cron expression like "0 9 * * 1-5" ({exc})']
    return []
