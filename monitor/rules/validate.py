"""Checks the schema cannot express: unknown countries, conflicting keys, unsafe regular expressions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from monitor.rules import gazetteer
from monitor.rules.spec import RuleSpec

try:  # the parser behind re; private, but stable for years and the only way to see a pattern's shape
    import re._parser as _sre_parse  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse as _sre_parse  # type: ignore[no-redef,unused-ignore]

_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
MAX_REGEX_LENGTH = 1000


def _unknown_country(key: str, value: str) -> str:
    hint = gazetteer.suggest(value)
    tail = f"; did you mean {', '.join(repr(h) for h in hint)}?" if hint else ""
    return f"unknown country {value!r}{tail}"


def _first_chars(items: Any) -> set[str] | None:
    """The characters (lower-cased: rules ignore case) a parsed pattern can start with; None when unknown
    or when it can match the empty string."""
    if not items:
        return None
    op, arg = items[0]
    name = str(op)
    if name == "LITERAL":
        return {chr(arg).lower()}
    if name == "IN" and all(str(o) == "LITERAL" for o, _ in arg):
        return {chr(c).lower() for _, c in arg}
    if name == "SUBPATTERN":
        return _first_chars(arg[-1])
    if name in _REPEATS and arg[0] >= 1:
        return _first_chars(arg[2])
    return None


def _branches_overlap(branches: Any) -> bool:
    """Whether two alternatives may start alike: then a repeat around them can backtrack exponentially."""
    seen: set[str] = set()
    for branch in branches:
        first = _first_chars(branch)
        if first is None or first & seen:
            return True
        seen |= first
    return False


def _walk(items: Any, inside_repeat: bool) -> str | None:
    """Why the parsed pattern may backtrack catastrophically, or None. Rejects a repeat (+, *, {m,})
    inside another repeat, the classic (a+)+ shape; single-character repeats are fine."""
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            _, high, body = arg
            unbounded = high is _sre_parse.MAXREPEAT or high > 1
            if unbounded and inside_repeat:
                return "nested quantifiers (like (a+)+) can take exponential time"
            problem = _walk(body, inside_repeat or unbounded)
            if problem:
                return problem
        elif name == "SUBPATTERN":
            problem = _walk(arg[-1], inside_repeat)
            if problem:
                return problem
        elif name == "BRANCH":
            if inside_repeat and _branches_overlap(arg[1]):
                return "alternatives that can match the same text inside a repeat (like (a|aa)+) can take " \
                       "exponential time"
            for branch in arg[1]:
                problem = _walk(branch, inside_repeat)
                if problem:
                    return problem
        elif name in ("ASSERT", "ASSERT_NOT"):
            problem = _walk(arg[1], inside_repeat)
            if problem:
                return problem
        elif name == "GROUPREF":
            return "backreferences can take exponential time"
    return None


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is refused as a rule regex, or None when it is acceptable."""
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"regular expression longer than {MAX_REGEX_LENGTH} characters"
    try:
        re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    problem = _walk(parsed, False)
    return f"unsafe regular expression: {problem}" if problem else None


def validate_rules(specs: Sequence[RuleSpec]) -> list[tuple[int, str, str]]:
    """Problems that the schema cannot see, as (rule index, key, message); empty when all is well."""
    problems: list[tuple[int, str, str]] = []
    # duplicate names are reported by the config-level checks (monitor/semantics.py), not here
    for index, spec in enumerate(specs):
        code = None
        for key in ("country", "ambassador"):
            value = getattr(spec, key)
            if value is None:
                continue
            found = gazetteer.lookup(value)
            if found is None:
                problems.append((index, key, _unknown_country(key, value)))
            elif key == "country":
                code = found
            elif code is not None and code != found:
                problems.append((index, "ambassador", f"ambassador {value!r} conflicts with country "
                                 f"{spec.country!r}: drop one (ambassador already implies its country)"))
        if spec.capital and not spec.country:
            problems.append((index, "capital", "capital = true needs a country"))
        if spec.regex:
            problem = regex_problem(spec.regex)
            if problem:
                problems.append((index, "regex", problem))
        elif spec.case_sensitive:
            problems.append((index, "case_sensitive", "case_sensitive applies to regex only"))
        for key in ("any", "none"):
            for word in getattr(spec, key):
                if not word.strip():
                    problems.append((index, key, "empty keyword"))
        if spec.keyword is not None and not spec.keyword.strip():
            problems.append((index, "keyword", "empty keyword"))
    return problems
