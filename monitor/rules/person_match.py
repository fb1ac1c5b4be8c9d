"""Deciding whether a surname found in a text names the rule's person.

A surname alone is enough (news repeat 'Абибуллаев' after naming him once), but a surname next to
another first name is someone else (rule 'Мишель Обама', text 'Барак Обама'), and in an article where
the surname only ever appears next to another first name, its bare mentions are that other person too.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from monitor.rules.morph import analyzer, norm, parses

if TYPE_CHECKING:
    from monitor.rules.compile import Cond

Span = tuple[int, int]
OWN, OTHER, BARE = "own", "other", "bare"

# the word right before a surname (hyphenated first names too: Жан-Клод), or initials: 'А.', 'А. Б.',
# 'Ж.-К.' (group 2 is the first initial)
_BEFORE = re.compile(r"(?:([^\W\d_]+(?:-[^\W\d_]+)*)\s+|([^\W\d_])\.(?:\s*-?\s*[^\W\d_]\.)?\s*)$")
_AFTER = re.compile(r"\s+([^\W\d_]+)")  # used with .match(text, pos): anchored there


def is_first_name(word: str) -> bool:
    """A capitalized word that pymorphy3 knows mostly as a first name (Барак, Мишель, Дмитрий) or as a
    patronymic (Николаевича), or does not know at all (Kazakh and foreign first names: Бауыржан)."""
    if not word[:1].isupper() or word.isupper():
        return False
    if not analyzer().word_is_known(norm(word)):
        return True
    return _name_score(word) >= 0.3 or any("Patr" in p.tag.grammemes for p in parses(word))


def _is_other_surname(word: str) -> bool:
    """A capitalized word after our surname that makes it someone's first name ('Кэмерон Диаз')."""
    if not word[:1].isupper() or word.isupper():
        return False
    return not analyzer().word_is_known(norm(word)) or any("Surn" in p.tag.grammemes and p.score >= 0.3
                                                          for p in parses(word))


def _name_score(word: str) -> float:
    return float(sum(p.score for p in parses(word) if p.is_known and "Name" in p.tag.grammemes))


def needs_first_name(surname: str) -> bool:
    """Surnames too ambiguous to match alone: very short ones (Ли, По), ones that are mostly first names
    (Джон, Майкл, Пол), and common words that the dictionary does not know as surnames (Феникс)."""
    if len(norm(surname)) <= 2:
        return True
    if not analyzer().word_is_known(norm(surname)):  # most surnames: no dictionary entry, no doubt
        return False
    options = parses(surname)
    surn = sum(p.score for p in options if "Surn" in p.tag.grammemes)
    if _name_score(surname) >= 0.3 and _name_score(surname) > surn:
        return True
    return surn == 0 and any(p.is_known and not {"Name", "Patr", "Geox", "Orgn"} & set(p.tag.grammemes)
                             for p in options)


def occurrence(cond: Cond, text: str, s: int, e: int) -> tuple[str, Span] | None:
    """Classify the surname found at s:e: (OWN, span) next to the rule's first name or its initial,
    (OTHER, span) next to another first name or initial, (BARE, span) alone; None when it is not a
    name at all (lower-case, all-caps, or a common word opening a sentence)."""
    word = text[s:e]
    # 'лавров' and 'ГОУ' are no names; 'да Силва' (a particle first) has its capital further on
    if not any(c.isupper() for c in word) or (len(word) > 1 and word.isupper()):
        return None
    before = _BEFORE.search(text, max(0, s - 40), s)
    if before and before.group(2) and before.group(2).isupper():
        initial = before.group(2)
        same = not cond.initial or norm(initial) == norm(cond.initial)
        if not same and _own_first_before(cond, text, before.start()):
            return OWN, (before.start(), e)  # a middle initial: 'Дэвид О. Расселл'
        return (OWN if same else OTHER), (before.start(), e)
    if before and before.group(1):
        first = before.group(1)
        if norm(first) in cond.first_names:
            return OWN, (before.start(1), e)
        if cond.first_names and is_first_name(first):
            if same_name(first, cond.first_forms) or _own_first_before(cond, text, before.start(1)):
                return OWN, (before.start(1), e)  # (a second given name: 'Хосе Альберто Батиста')
            return OTHER, (before.start(1), e)
    after = _AFTER.match(text, e)
    if after and cond.first_names and norm(after.group(1)) in cond.first_names:
        return OWN, (s, after.end(1))
    if after and cond.first_names and _is_other_surname(after.group(1)):
        return OTHER, (s, after.end(1))  # our surname is someone's first name here: 'Кэмерон Диаз'

    if cond.strict:
        return None  # 'Джон' alone is any John
    if norm(word) in cond.ambiguous and _sentence_start(text, s):
        return None  # a capitalized common word opening a sentence, with no first name to vouch for it
    return BARE, (s, e)


def _own_first_before(cond: Cond, text: str, pos: int) -> bool:
    """Whether the word before `pos` is the rule's first name."""
    before = _BEFORE.search(text, max(0, pos - 40), pos)
    return bool(before and before.group(1) and same_name(before.group(1), cond.first_forms))


def _fold(name: str) -> str:
    return norm(name).replace("э", "е").replace("й", "и").replace("ь", "")


def same_name(word: str, forms: frozenset[str]) -> bool:
    """Whether `word` is a spelling variant or short form of one of the rule's given names: spellings of
    foreign names vary (Дэвид/Девид, Джорджо/Джорджио, Анджелина/Анжелина) and short forms are common
    (Джо/Джозеф, Майк/Майкл), but Анфиса is not Антон."""
    folded = _fold(word)
    for form in forms:
        other = _fold(form)
        if folded.startswith(other) or other.startswith(folded):
            if min(len(folded), len(other)) >= 3:
                return True
        elif difflib.SequenceMatcher(None, folded, other).ratio() >= 0.75:
            return True
    return False


def _sentence_start(text: str, pos: int) -> bool:
    head = text[:pos].rstrip(" «\"'(")
    return not head or head[-1] in ".!?…\n:"


def person_spans(cond: Cond, text: str, found: list[Span], bare_ok: bool = True) -> list[Span]:
    """Spans of the occurrences in `found` that name the rule's person."""
    out: list[Span] = []
    for s, e in found:
        verdict = occurrence(cond, text, s, e)
        if verdict and (verdict[0] == OWN or (verdict[0] == BARE and bare_ok)):
            out.append(verdict[1])
    return out


def bare_allowed(cond: Cond, blocks: list[tuple[str, list[Span]]]) -> bool:
    """Whether bare mentions in this article count: not when the surname appears only next to other
    first names (and never next to the rule's own)."""
    kinds = {v[0] for text, found in blocks for s, e in found if (v := occurrence(cond, text, s, e))}
    return OWN in kinds or OTHER not in kinds
