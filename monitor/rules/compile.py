"""Provisional matcher: keyword and regex rules only (the morphology-aware matcher replaces it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.models import Match
from monitor.rules.spec import RuleSpec


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    exact = keyword.isupper() or any(ch.isdigit() for ch in keyword)
    body = r"\s+".join(re.escape(word) for word in keyword.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", 0 if exact else re.IGNORECASE)


@dataclass(frozen=True)
class _Compiled:
    spec: RuleSpec
    patterns: tuple[re.Pattern[str], ...]


class Matcher:
    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        self._rules = []
        for spec in specs:
            patterns = []
            if spec.keyword:
                patterns.append(_keyword_pattern(spec.keyword))
            if spec.regex:
                patterns.append(re.compile(spec.regex, re.IGNORECASE))
            self._rules.append(_Compiled(spec, tuple(patterns)))

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.spec.name for r in self._rules)

    def match(self, title: str, paragraphs: Sequence[str], source: str | None = None) -> list[Match]:
        found: list[Match] = []
        blocks: list[tuple[int | None, str]] = [(None, title), *enumerate(paragraphs)]
        for rule in self._rules:
            if not rule.patterns or (rule.spec.sources and source not in rule.spec.sources):
                continue
            for index, text in blocks:
                spans: list[tuple[int, int]] = []
                for pattern in rule.patterns:
                    hits = [m.span() for m in pattern.finditer(text)]
                    if not hits:
                        spans = []
                        break
                    spans.extend(hits)
                if spans:
                    found.append(Match(rule.spec.name, index, text, tuple(sorted(spans))))
        return found


def compile_rules(specs: Sequence[RuleSpec]) -> Matcher:
    return Matcher(specs)


def validate_rules(specs: Sequence[RuleSpec]) -> list[tuple[int, str, str]]:
    """Problems that the schema cannot see: (rule index, key, message)."""
    problems: list[tuple[int, str, str]] = []
    for index, spec in enumerate(specs):
        if spec.regex:
            try:
                re.compile(spec.regex)
            except re.error as exc:
                problems.append((index, "regex", f"invalid regular expression: {exc}"))
    return problems
