"""Watch rules: compile the TOML rules once into a Matcher, then match articles paragraph by paragraph.

Interface used by the rest of the daemon (keep it stable):
    compile_rules(specs) -> Matcher
    Matcher.match(title, paragraphs, source=None) -> list[Match]  # one per (rule, paragraph) that fired
    Matcher.rule_names -> tuple[str, ...]
    validate_rules(specs) -> list[(rule index, key, message)]   # used by `monitor check`
    explain(spec_or_matcher, rule_name, text) -> list[str]       # used by `monitor explain`
See README.md for what each rule key matches.
"""

from __future__ import annotations

from monitor.rules.compile import compile_rules
from monitor.rules.explain import explain
from monitor.rules.match import Matcher
from monitor.rules.spec import RuleSpec
from monitor.rules.validate import validate_rules

__all__ = ["Matcher", "RuleSpec", "compile_rules", "explain", "validate_rules"]
