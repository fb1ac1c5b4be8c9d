"""Person names: split a `person = "..."` value and generate every case form of the surname.

Surnames are inflected by suffix rules rather than by pymorphy3, which does not know most Kazakh and
foreign surnames and guesses wrongly for them (it reads 'Исетов' as the genitive plural of a river).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from monitor.rules.morph import norm, parses, word_forms

# (nominative ending, endings of every case form), male and female together: a rule for 'Абибуллаев'
# also finds 'Абибуллаева' (his genitive, or a woman of the family), and plural forms for couples.
_OV = ("", "а", "у", "ым", "е", "ой", "ою", "ы", "ых", "ыми")
_SUFFIX_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ова", _OV), ("ева", _OV), ("ёва", _OV), ("ина", _OV), ("ына", _OV),
    ("ов", _OV), ("ев", _OV), ("ёв", _OV), ("ин", _OV), ("ын", _OV),
    ("ский", ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ие", "их", "ими")),
    ("цкий", ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ие", "их", "ими")),
    ("ская", ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ие", "их", "ими")),
    ("цкая", ("ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ие", "их", "ими")),
    ("ской", ("ой", "ого", "ому", "им", "ом", "ая", "ую", "ие", "их", "ими")),
    ("ый", ("ый", "ого", "ому", "ым", "ом", "ая", "ой", "ую")),
    ("ой", ("ой", "ого", "ому", "ым", "ом", "ая", "ую")),
)
# Kazakh patronymic surnames and Russian -ых/-их surnames never decline.
_UNINFLECTED = ("улы", "ұлы", "уулу", "кызы", "қызы", "ызы", "ых", "их", "ко")
_MALE_ONLY = frozenset({"", "е", "ий", "ого", "ому", "ом", "ый"})
_VOWELS = "аеёиоуыэюяәіүұө"


@dataclass(frozen=True, slots=True)
class PersonName:
    surname: str
    first: str | None  # first name, None when the rule gives the surname alone
    female: bool | None  # None: unknown
    given: tuple[str, ...] = ()  # every given name and patronymic ('Мартин Лютер' of Мартин Лютер Кинг)

    @property
    def display(self) -> str:
        return f"{self.first} {self.surname}" if self.first else self.surname


def parse_person(value: str) -> PersonName:
    """'Алтай Абибуллаев', 'Абибуллаев', 'Абибуллаев, Алтай' or 'Имя Отчество Фамилия'."""
    if "," in value:
        surname, _, rest = value.partition(",")
        words = rest.split()
        first = words[0] if words else None
        surname = surname.strip()
        return PersonName(surname, first, _is_female(first, surname), tuple(words))
    else:
        words = value.split()
        if len(words) >= 3 and all(len(w) <= 4 for w in words):
            return PersonName(value.strip(), None, None)  # 'Пан Ги Мун', 'Ким Чен Ын': the whole name
        surname, first = words[-1], (words[0] if len(words) > 1 else None)
    return PersonName(surname, first, _is_female(first, surname), tuple(words[:-1]))


def _is_female(first: str | None, surname: str) -> bool | None:
    if first:
        for p in parses(first):
            if "Name" in p.tag.grammemes and p.tag.case == "nomn":
                return bool(p.tag.gender == "femn")
    low = norm(surname)
    if low.endswith(("ова", "ева", "ина", "ына", "ская", "цкая", "кызы", "қызы")):
        return True
    if low.endswith(("ов", "ев", "ин", "ын", "ский", "цкий", "улы", "ұлы")):
        return False
    return None


@lru_cache(maxsize=100_000)
def surname_forms(surname: str, female: bool | None = None) -> frozenset[str]:
    """Every case form (normalized) of a surname; hyphenated double surnames decline part by part."""
    if " " in surname:  # 'Ким Чен Ын': only the last syllable declines ('Ким Чен Ына')
        head, _, last = surname.rpartition(" ")
        return frozenset(f"{norm(head)} {form}" for form in surname_forms(last, female))
    if "-" in surname:  # double surnames: each part declines ('Бернерсом-Ли', 'Каримовой-Тилляевой')
        head, _, last = surname.partition("-")
        return frozenset(f"{a}-{b}" for a in surname_forms(head, female) for b in surname_forms(last, female))
    low = norm(surname)
    for ending, endings in _SUFFIX_RULES:
        if low.endswith(ending) and len(low) > len(ending) + 1:
            stem = low[: len(low) - len(ending)] + _stem_tail(ending)
            if female:  # a woman's rule: not the forms only a man's surname takes (Медведев, Медведеве)
                endings = tuple(e for e in endings if e not in _MALE_ONLY)
            return frozenset({low} | {stem + e for e in endings})
    if low.endswith(_UNINFLECTED) or low[-1] in "еиоуыэю" + "әіүұө":
        return frozenset({low})
    if female:  # a woman's surname ending in a consonant or -ь does not decline (Анна Шмидт)
        return frozenset({low})
    if low.endswith("ь"):
        stem = low[:-1]
        return frozenset({low, stem + "я", stem + "ю", stem + "ем", stem + "е"})
    if low.endswith("й"):
        stem = low[:-1]
        return frozenset({low, stem + "я", stem + "ю", stem + "ем", stem + "е"})
    if low.endswith("а"):
        stem = low[:-1]
        soft = stem[-1:] in "гкхжшщчц"
        return frozenset({low, stem + ("и" if soft else "ы"), stem + "е", stem + "у", stem + "ой"})
    if low.endswith("я"):
        stem = low[:-1]
        return frozenset({low, stem + "и", stem + "е", stem + "ю", stem + "ей"})
    ablt = "ем" if low[-1] in "жшщчц" else "ом"
    return frozenset({low, low + "а", low + "у", low + ablt, low + "е"})


def _stem_tail(ending: str) -> str:
    # keep the suffix consonant(s) the endings attach to: 'Абибулла|ев' + 'ым' would lose the 'в'
    if ending in ("ова", "ева", "ёва", "ина", "ына"):
        return ending[:-1]
    if ending in ("ов", "ев", "ёв", "ин", "ын"):
        return ending
    if ending in ("ский", "ская", "ской"):
        return "ск"
    if ending in ("цкий", "цкая"):
        return "цк"
    return ""


def given_name_forms(person: PersonName) -> frozenset[str]:
    """Case forms of all given names and the patronymic of a person."""
    out: frozenset[str] = frozenset()
    for word in person.given:
        out |= first_name_forms(word)
    return out


@lru_cache(maxsize=100_000)
def first_name_forms(first: str) -> frozenset[str]:
    """Case forms of a first name (used to widen a surname's span, never to match alone)."""
    low = norm(first)
    if any("Name" in p.tag.grammemes for p in parses(first)):
        return word_forms(first, "Name") | {low}
    return surname_forms(first) if low[-1:] not in _VOWELS[:1] else word_forms(first)
