"""Rules → one Matcher. Every rule is expanded into its surface forms once; all forms of all rules go
into one Aho-Corasick automaton, so the cost per paragraph does not grow with the number of rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from monitor.rules import gazetteer
from monitor.rules.match import CAPITALIZED, Matcher
from monitor.rules.morph import is_common_word, norm, phrase_forms, word_forms
from monitor.rules.person import first_name_forms, given_name_forms, parse_person, surname_forms
from monitor.rules.person_match import needs_first_name
from monitor.rules.spec import RuleSpec
from monitor.rules.validate import validate_rules


@lru_cache(maxsize=1)
def ambassador_forms() -> frozenset[str]:
    # 'после' is also the preposition 'after': it is left out of the forms of 'посол'
    return frozenset(word_forms("посол") - {"после"}) | phrase_forms("Чрезвычайный и Полномочный Посол")


def is_exact(word: str) -> bool:
    """All-caps (two letters or more) or containing a digit: matched as written, case-sensitively."""
    letters = [c for c in word if c.isalpha()]
    return any(c.isdigit() for c in word) or (len(letters) >= 2 and all(c.isupper() for c in letters))


def keyword_forms(keyword: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(normalized forms to look for, tokens that must also appear exactly as written)."""
    words = keyword.split()
    exact = tuple(w for w in words if is_exact(w))
    if len(exact) == len(words):
        return frozenset({" ".join(norm(w) for w in words)}), exact
    if exact:  # mixed ('ОИС по Афганистану'): inflect the other words one by one, bounded
        options = [[norm(w)] if is_exact(w) else sorted(word_forms(w)) for w in words]
        forms: set[str] = {""}
        for opts in options:
            forms = {f"{f} {o}".strip() for f in forms for o in opts}
            if len(forms) > 5000:
                forms = {" ".join(norm(w) for w in words)}
                break
        return frozenset(forms), exact
    if len(words) == 1:
        return word_forms(words[0]), ()
    return phrase_forms(keyword), ()


@dataclass(slots=True)
class Cond:
    """One primary key of a rule, evaluated on one paragraph's hits (see match.py)."""

    kind: str  # country | person | ambassador | keyword | regex
    slots: tuple[int, ...] = ()
    extra: tuple[int, ...] = ()  # ambassador: the 'посол' slot
    first_names: frozenset[str] = frozenset()  # person: forms of every given name and the patronymic
    first_forms: frozenset[str] = frozenset()  # person: forms of the first name alone
    ambiguous: frozenset[str] = frozenset()  # person: surname forms that are also common words
    initial: str = ""  # person: first letter of the first name ('А' for Алтай)
    strict: bool = False  # person: the surname alone is not enough (Джон, Ли)
    regex: re.Pattern[str] | None = None
    label: str = ""


@dataclass(slots=True)
class CompiledRule:
    spec: RuleSpec
    conds: list[Cond]
    any_slots: tuple[int, ...] = ()
    none_slots: tuple[int, ...] = ()
    slots: set[int] = field(default_factory=set)  # every slot whose hit makes this rule a candidate
    gated: bool = False  # an ambassador rule: a candidate only when 'посол' is in the paragraph too


class Builder:
    """Assigns slots (one per distinct thing to find) and collects their forms for the automaton."""

    def __init__(self) -> None:
        self.forms: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.slot_code: list[str | None] = []  # gazetteer slots: country code ('' = blocker)
        self.slot_label: list[str] = []
        self.slot_role: list[str] = []  # gazetteer slots: name | adj | abbr | capital
        self._slots: dict[tuple[str, ...], int] = {}
        self.amb_slot = -1
        self._countries: dict[str, dict[str, tuple[int, ...]]] = {}

    def slot(self, key: tuple[str, ...], forms: frozenset[str] | set[str], exact: tuple[str, ...] = (),
             code: str | None = None) -> int:
        if key in self._slots:
            return self._slots[key]
        slot = self._slots[key] = len(self.slot_code)
        self.slot_code.append(code)
        self.slot_label.append(" ".join(key))
        self.slot_role.append(key[2] if key[0] == "country" else "")
        for form in forms:
            self.forms.setdefault(form, []).append((slot, exact))
        return slot

    def country(self, code: str) -> dict[str, tuple[int, ...]]:
        """Slots of one country by role. The first country rule loads the whole gazetteer, so that a
        name inside a longer name of another country (Гвинея in Гвинея-Бисау) can be discarded."""
        if not self._countries:
            self.slot(("blockers",), gazetteer.blockers(), code="")
            self._countries = {other: self._country_slots(other) for other in gazetteer.countries()}
        return self._countries[code]

    def _country_slots(self, code: str) -> dict[str, tuple[int, ...]]:
        f = gazetteer.forms(code)
        # names are proper nouns: written in lower case they are other words ('того', 'куба', 'вена')
        return {"name": (self.slot(("country", code, "name"), f.names, CAPITALIZED, code=code),),
                "adj": (self.slot(("country", code, "adj"), f.adjectives, code=code),),
                "capital": (self.slot(("country", code, "capital"), f.capital, CAPITALIZED, code=code),),
                "abbr": tuple(self.slot(("country", code, "abbr", a), {norm(a)}, (a,), code=code)
                              for a in sorted(f.abbreviations))}

    def keyword(self, keyword: str) -> int:
        forms, exact = keyword_forms(keyword)
        return self.slot(("keyword", keyword if exact else " ".join(norm(keyword).split())), forms, exact)

    def ambassador(self) -> int:
        if self.amb_slot < 0:
            self.amb_slot = self.slot(("ambassador",), ambassador_forms())
        return self.amb_slot

    def automaton(self) -> ahocorasick.Automaton:
        auto = ahocorasick.Automaton()
        for form, entries in self.forms.items():
            auto.add_word(form, (len(form), tuple(entries)))
        if self.forms:
            auto.make_automaton()
        return auto


def _country_slots(b: Builder, code: str, capital: bool) -> tuple[int, ...]:
    roles = b.country(code)
    wanted = ("name", "adj", "abbr") + (("capital",) if capital else ())
    return tuple(s for role in wanted for s in roles[role])


def compile_rule(b: Builder, spec: RuleSpec) -> CompiledRule:
    conds: list[Cond] = []
    if spec.country:
        code = gazetteer.lookup(spec.country)
        if code:
            conds.append(Cond("country", _country_slots(b, code, spec.capital), label=spec.country))
    if spec.person:
        person = parse_person(spec.person)
        forms = surname_forms(person.surname, person.female)
        ambiguous = frozenset(f for f in forms if is_common_word(f))
        conds.append(Cond("person", (b.slot(("person", *sorted(forms)), forms),),
                          first_names=given_name_forms(person),
                          first_forms=first_name_forms(person.first) if person.first else frozenset(),
                          ambiguous=ambiguous, initial=(person.first or "")[:1],
                          strict=bool(person.first) and needs_first_name(person.surname), label=spec.person))
    if spec.ambassador:
        code = gazetteer.lookup(spec.ambassador)
        if code:
            slots = _country_slots(b, code, False)
            conds.append(Cond("ambassador", slots, (b.ambassador(),), label=spec.ambassador))
    if spec.keyword:
        conds.append(Cond("keyword", (b.keyword(spec.keyword),), label=spec.keyword))
    if spec.regex:
        flags = 0 if spec.case_sensitive else re.IGNORECASE
        conds.append(Cond("regex", regex=re.compile(spec.regex, flags), label=spec.regex))
    rule = CompiledRule(spec, conds, tuple(b.keyword(k) for k in spec.any),
                        tuple(b.keyword(k) for k in spec.none))
    rule.slots = set(_anchor(rule))
    rule.gated = bool(conds) and all(c.kind in ("ambassador", "regex") for c in conds) and not (
        rule.any_slots and rule.spec.scope == "paragraph")
    return rule


def _anchor(rule: CompiledRule) -> tuple[int, ...]:
    """The slots under which the matcher files this rule. All primary keys must hold, so one key is
    enough to wake the rule up: the most selective one. A person or keyword is rarer than a country,
    and 'посол' (shared by every ambassador rule) is never used, so that a paragraph mentioning an
    ambassador does not wake up every ambassador rule. Empty: a regex-only rule, tried on every paragraph."""
    by_kind = {cond.kind: cond.slots for cond in rule.conds}
    for kind in ("person", "keyword"):
        if kind in by_kind:
            return by_kind[kind]
    if rule.any_slots and (rule.spec.scope == "paragraph" or not rule.conds):
        return rule.any_slots
    if "country" in by_kind:
        return by_kind["country"]
    if "ambassador" in by_kind:  # filed under its country, consulted only when 'посол' is there too
        return by_kind["ambassador"]
    return ()


def compile_rules(specs: Sequence[RuleSpec]) -> Matcher:
    """One Matcher for all rules. Rules that validate_rules() rejects are skipped (check them first)."""
    broken = {index for index, _, _ in validate_rules(specs)}
    b = Builder()
    rules = [compile_rule(b, spec) for i, spec in enumerate(specs) if i not in broken]
    return Matcher(rules, b)

__all__ = ["Matcher", "compile_rules", "validate_rules"]
