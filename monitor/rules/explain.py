"""Why a text matches a rule or not, in words (`monitor explain`)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.rules import gazetteer
from monitor.rules.compile import CompiledRule, Cond, compile_rules
from monitor.rules.match import ArticleContext, Hits, Matcher, cond_spans, evaluate
from monitor.rules.spec import RuleSpec
from monitor.rules.validate import validate_rules

_WHAT = {"country": "country", "person": "person", "ambassador": "ambassador of/to",
         "keyword": "keyword", "regex": "regex"}
MFA_HOME = "KZ"


def explain(spec_or_matcher: Matcher | RuleSpec | Sequence[RuleSpec], rule_name: str, text: str) -> list[str]:
    """Human-readable lines saying why `text` matches the rule `rule_name` or why it does not.

    spec_or_matcher: a compiled Matcher, one RuleSpec, or the config's list of RuleSpec.
    text: the item as `monitor match` reads it: paragraphs separated by newlines (blank lines ignored).
    The first line says the verdict ("MATCH ..." or "NO MATCH ..."); then one line per rule key with what
    was looked for and what was found (quoted as it appears in the text), paragraph by paragraph, and
    notes on rules that fire too often (a `country = "Казахстан"` rule fires on most MFA articles).
    A rule that validate_rules() rejects gets "NO MATCH" and its problems.
    Raises KeyError when no rule has that name. `monitor explain` exits 0 when the first line starts
    with "MATCH", 1 otherwise.
    """
    matcher = _matcher(spec_or_matcher)
    rule = next((r for r in matcher.rules if r.spec.name == rule_name), None)
    if rule is None and not isinstance(spec_or_matcher, Matcher):
        specs = [spec_or_matcher] if isinstance(spec_or_matcher, RuleSpec) else list(spec_or_matcher)
        index = next((i for i, s in enumerate(specs) if s.name == rule_name), None)
        if index is not None:  # compile_rules() skipped it: say why
            problems = [f"  {key}: {msg}" for i, key, msg in validate_rules(specs) if i == index]
            return [f"NO MATCH (нет совпадения): rule {rule_name!r} is invalid and never fires", *problems]
    if rule is None:
        raise KeyError(f"no rule named {rule_name!r} (rules: {', '.join(matcher.rule_names) or 'none'})")
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    scanned = [(i, p, matcher.scan(p)) for i, p in enumerate(paragraphs)]
    article = ArticleContext([(p, hits) for _, p, hits in scanned])
    fired = [(i, p, spans) for i, p, hits in scanned if (spans := evaluate(rule, p, hits, article))]
    lines: list[str] = []
    if fired:
        i, p, spans = fired[0]
        quoted = ", ".join(f"«{p[s:e]}»" for s, e in spans)
        lines.append(f"MATCH (совпадение): rule {rule_name!r} fires on paragraph {i + 1} of "
                     f"{len(paragraphs)}: {quoted}")
        if len(fired) > 1:
            lines.append(f"  also on paragraphs {', '.join(str(i + 1) for i, _, _ in fired[1:])}")
    else:
        lines.append(f"NO MATCH (нет совпадения): rule {rule_name!r} fires on none of the "
                     f"{len(paragraphs)} paragraph(s)")
    lines.extend(_describe(rule, scanned))
    if rule.spec.sources:
        lines.append(f"  sources: only items from {', '.join(rule.spec.sources)} (not checked here)")
    lines.extend(_notes(rule.spec))
    return lines


def _matcher(value: Matcher | RuleSpec | Sequence[RuleSpec]) -> Matcher:
    if isinstance(value, Matcher):
        return value
    return compile_rules([value] if isinstance(value, RuleSpec) else list(value))


def _describe(rule: CompiledRule, scanned: list[tuple[int, str, Hits]]) -> list[str]:
    lines: list[str] = []
    if not rule.conds and not rule.any_slots:
        lines.append("  the rule has no usable key (an unknown country?): run `monitor check`")
    for cond in rule.conds:
        where = _where(cond, scanned)
        wanted = f"  {_WHAT[cond.kind]} = {cond.label!r}{_extra(cond)}"
        if where:
            lines.append(f"{wanted}: found {where}")
        else:
            lines.append(f"{wanted}: not found in any paragraph{_why_not(cond)}")
    scope = "article" if rule.spec.scope == "article" else "same paragraph"
    for key, words in (("any", rule.spec.any), ("none", rule.spec.none)):
        if words:
            lines.append(f"  {key} = {list(words)} (in the {scope})")
    if len(rule.conds) > 1:
        lines.append("  all keys above must hold in one paragraph (they are ANDed)")
    return lines


def _where(cond: Cond, scanned: list[tuple[int, str, Hits]]) -> str:
    found = []
    for i, p, hits in scanned:
        spans = cond_spans(cond, p, hits)
        if spans:
            found.append(f"in paragraph {i + 1} " + ", ".join(f"«{p[s:e]}»" for s, e in spans[:5]))
    return "; ".join(found)


def _extra(cond: Cond) -> str:
    if cond.kind in ("country", "ambassador"):
        code = gazetteer.lookup(cond.label)
        return f" ({code})" if code else ""
    return ""


def _why_not(cond: Cond) -> str:
    if cond.kind == "person":
        return " (the surname must be capitalized; a first name alone never matches)"
    if cond.kind == "ambassador":
        return (" (needs посол/посла/послом... followed within a few words by the country, "
                "or the country's adjective right before it)")
    if cond.kind == "keyword" and cond.label.isupper():
        return " (all-caps keywords match exactly, case-sensitively, as a whole word)"
    return ""


def _notes(spec: RuleSpec) -> list[str]:
    notes: list[str] = []
    for key in ("country", "ambassador"):
        value = getattr(spec, key)
        if value and gazetteer.lookup(value) == MFA_HOME and key == "country":
            notes.append("  note: most MFA articles mention Kazakhstan (Казахстан, казахстанский, РК), so "
                         "this rule fires on nearly every item; narrow it with keyword/any.")
            notes.append("  примечание: почти все статьи МИД упоминают Казахстан, правило сработает почти "
                         "на каждой; сузьте его ключевыми словами (keyword/any).")
        if value and gazetteer.lookup(value) is None:
            notes.append(f"  {key} {value!r} is not in the gazetteer: {', '.join(gazetteer.suggest(value))}?")
    return notes
