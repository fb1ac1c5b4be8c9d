"""Watch rules: compile the TOML rules once into a Matcher, then match articles paragraph by paragraph.

Interface used by the rest of the daemon (keep it stable):
    compile_rules(specs) -> Matcher
    Matcher.match(title, paragraphs, source=None) -> list[Match]   # one Match per (rule, paragraph) that fired
    Matcher.rule_names -> tuple[str, ...]
    validate_rules(specs) -> list[(rule index, key, message)]   # used by `monitor check`
"""

from __future__ import annotations

from monitor.rules.compile import Matcher, compile_rules, validate_rules
from monitor.rules.spec import RuleSpec

__all__ = ["Matcher", "RuleSpec", "compile_rules", "validate_rules"]
