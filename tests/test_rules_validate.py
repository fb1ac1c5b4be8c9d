"""validate_rules: unknown countries with suggestions, conflicting keys, unsafe regexes; and explain()."""

from __future__ import annotations

import time

import pytest

from monitor.rules import RuleSpec, compile_rules, explain, validate_rules
from monitor.rules.validate import regex_problem


def messages(spec: RuleSpec) -> list[tuple[str, str]]:
    return [(key, msg) for _, key, msg in validate_rules([spec])]


def test_valid_rules_have_no_problems() -> None:
    specs = [RuleSpec(name="a", country="Словения", capital=True), RuleSpec(name="b", ambassador="Словении"),
             RuleSpec(name="c", regex=r"\bтранзит\w*"), RuleSpec(name="d", person="Алтай Абибуллаев")]
    assert validate_rules(specs) == []


def test_unknown_country_suggests_names() -> None:
    [(key, msg)] = messages(RuleSpec(name="a", country="Словенея"))
    assert key == "country" and "did you mean" in msg and "Словения" in msg


def test_unknown_ambassador_country() -> None:
    [(key, msg)] = messages(RuleSpec(name="a", ambassador="Латвеия"))
    assert key == "ambassador" and "Латвия" in msg


def test_case_sensitive_without_regex() -> None:
    assert [k for k, _ in messages(RuleSpec(name="a", keyword="x", case_sensitive=True))] == ["case_sensitive"]


def test_capital_without_country() -> None:
    spec = RuleSpec(name="a", keyword="x", capital=True)
    assert ("capital", "capital = true needs a country") in messages(spec)


def test_ambassador_conflicting_with_country() -> None:
    [(key, msg)] = messages(RuleSpec(name="a", country="Латвия", ambassador="Словения"))
    assert key == "ambassador" and "conflicts" in msg
    assert messages(RuleSpec(name="a", country="Словения", ambassador="Словения")) == []


@pytest.mark.parametrize("pattern", ["(a+)+$", r"(\w+\s?)*$", "(x*)*y", r"(a|aa)+\1", "([а-я]+)*!"])
def test_pathological_regex_is_refused(pattern: str) -> None:
    assert regex_problem(pattern) is not None


@pytest.mark.parametrize("pattern", [r"\bтранзит\w*", r"(?:ОИС|ОДКБ)\s+\d+", "a{2,5}b",
                                     r"[а-я]+ (коридор|путь)"])
def test_ordinary_regex_is_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_bad_regex_is_reported_and_skipped_by_compile() -> None:
    spec = RuleSpec(name="bad", regex="(unclosed")
    [(key, msg)] = messages(spec)
    assert key == "regex" and "invalid" in msg
    assert compile_rules([spec, RuleSpec(name="ok", keyword="ОИС")]).rule_names == ("ok",)


def test_explain_match_and_no_match() -> None:
    spec = RuleSpec(name="si", country="Словения")
    yes = explain(spec, "si", "Заголовок\nПосол Казахстана в Словении")
    assert yes[0].startswith("MATCH") and "«Словении»" in yes[0]
    no = explain([spec], "si", "словесный поединок")
    assert no[0].startswith("NO MATCH") and any("not found" in line for line in no)


def test_explain_person_and_ambassador_reasons() -> None:
    m = compile_rules([RuleSpec(name="p", person="Алтай Абибуллаев"),
                       RuleSpec(name="a", ambassador="Словения")])
    assert any("first name alone" in line for line in explain(m, "p", "Алтай"))
    assert any("посол" in line for line in explain(m, "a", "Словения"))


def test_explain_warns_about_kazakhstan_rules() -> None:
    lines = explain(RuleSpec(name="kz", country="Казахстан"), "kz", "Казахстан")
    assert any("most MFA articles mention Kazakhstan" in line for line in lines)


def test_explain_invalid_rule_says_why() -> None:
    lines = explain([RuleSpec(name="x", country="Словенея")], "x", "Словения")
    assert lines[0].startswith("NO MATCH") and "did you mean" in lines[1]


def test_explain_unknown_rule() -> None:
    with pytest.raises(KeyError):
        explain(RuleSpec(name="a", keyword="x"), "b", "x")


def test_compiling_many_rules_is_fast() -> None:
    specs = [RuleSpec(name=f"k{i}", keyword=f"слово{i}") for i in range(3000)]
    specs += [RuleSpec(name="si", country="Словения"), RuleSpec(name="p", person="Алтай Абибуллаев")]
    start = time.perf_counter()
    m = compile_rules(specs)
    assert time.perf_counter() - start < 5
    assert [x.rule for x in m.match("", ["слово17 и Словения"])] == ["k17", "si"]
