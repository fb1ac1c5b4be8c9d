"""Real MFA digests (trimmed copies in tests/fixtures/rules): each rule fires on exactly the paragraphs
that a plain reading says it should. The oracle is a hand-written regex per rule, independent of the
matcher's morphology."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.rules import RuleSpec, compile_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
RULES = [
    RuleSpec(name="slovenia", country="Словения"),
    RuleSpec(name="slovenia+capital", country="Словения", capital=True),
    RuleSpec(name="ois", keyword="ОИС"),
    RuleSpec(name="abibullaev", person="Алтай Абибуллаев"),
    RuleSpec(name="isetov", person="Арман Исетов"),
    RuleSpec(name="bakaev", person="Алибек Бакаев"),
    RuleSpec(name="amb-slovenia", ambassador="Словения"),
    RuleSpec(name="amb-latvia", ambassador="Латвия"),
    RuleSpec(name="amb-greece", ambassador="Греция"),
    RuleSpec(name="amb-iran", ambassador="Иран"),
    RuleSpec(name="amb-norway", ambassador="Норвегия"),
    RuleSpec(name="amb-armenia", ambassador="Армения"),
    RuleSpec(name="amb-germany", ambassador="Германия"),
    RuleSpec(name="amb-egypt", ambassador="Египет"),
    RuleSpec(name="amb-finland", ambassador="Финляндия"),
    RuleSpec(name="amb-macedonia", ambassador="Северная Македония"),
    RuleSpec(name="iran", country="Иран"),
]
ORACLE = {
    "slovenia": r"(?i)словен",
    "slovenia+capital": r"(?i)словен|любля",
    "ois": r"(?<!\w)ОИС(?!\w)",
    "abibullaev": r"Абибуллаев",
    "isetov": r"Исетов",
    "bakaev": r"Бакаев",
    "amb-slovenia": r"(?i)\bпос(?:ол|л\w+)\s+(Республики\s+)?Казахстана?\s+в\s+Словении",
    "amb-latvia": r"(?i)\bпос(?:ол|л\w+)\s+(Республики\s+)?Казахстана?\s+в\s+Латвии",
    "amb-greece": r"(?i)\bпос(?:ол|л\w+)\s+(Казахстана\s+в\s+)?Греции",
    "amb-iran": r"(?i)\bпос(?:ол|л\w+)\s+Ирана",
    "amb-norway": r"(?i)\bпос(?:ол|л\w+)\s+Норвегии",
    "amb-armenia": r"(?i)\bпос(?:ол|л\w+)\s+Казахстана\s+в\s+Армении",
    "amb-germany": r"(?i)\bпос(?:ол|л\w+)\s+Казахстана\s+в\s+Германии",  # only 'посольство' there
    "amb-egypt": r"(?i)\bпос(?:ол|л\w+)\s+Казахстана\s+в\s+Египте",
    "amb-finland": r"(?i)\bпос(?:ол|л\w+)\s+Казахстана\s+в\s+Финляндии",
    "amb-macedonia": r"(?i)\bпос(?:ол|л\w+)\s+Казахстана\s+в\s+Северной\s+Македонии",
    "iran": r"Иран(?!\w*-)|иранск|ирано",
}
FILES = sorted(FIXTURES.glob("mfa_*.txt"))


def paragraphs(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_seed_paragraphs_match_exactly_the_expected_ones(path: Path) -> None:
    paras = paragraphs(path)
    found = {(m.rule, m.paragraph) for m in compile_rules(RULES).match(paras[0], paras[1:])}
    blocks = [(None, paras[0]), *enumerate(paras[1:])]
    expected = {(rule, i) for rule, pattern in ORACLE.items()
                for i, text in blocks if re.search(pattern, text)}
    assert found == expected


def test_seed_fixtures_cover_every_rule() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in FILES)
    for rule, pattern in ORACLE.items():
        assert bool(re.search(pattern, text)) == (rule != "amb-germany"), rule
    assert "посольстве Казахстана в Германии" in text


def test_seed_spans_point_at_the_mentions() -> None:
    paras = paragraphs(FIXTURES / "mfa_000.txt")
    matches = compile_rules(RULES).match(paras[0], paras[1:])
    texts = {m.snippet[s:e] for m in matches if m.rule == "slovenia" for s, e in m.spans}
    assert {"Словении", "словенской", "Словенией", "словенского"} <= texts
    amb = {m.snippet[s:e] for m in matches if m.rule == "amb-slovenia" for s, e in m.spans}
    assert amb == {"Посол Республики Казахстан в Словении"}
