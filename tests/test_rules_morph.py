"""Tokens, normalization and word forms (monitor/rules/morph.py, person.py)."""

from __future__ import annotations

import pytest

from monitor.rules.morph import lemma, normalize_text, phrase_forms, tokens, word_forms
from monitor.rules.person import parse_person, surname_forms


def test_tokens_keep_kazakh_letters_and_latin_and_digits() -> None:
    words = [t[2] for t in tokens("Түркістан, Қазақстан әңгіме Digital 2026 ұлы өнер һ")]
    assert words == ["Түркістан", "Қазақстан", "әңгіме", "Digital", "2026", "ұлы", "өнер", "һ"]


def test_hyphenated_compound_is_a_whole_and_its_parts() -> None:
    assert [t[2] for t in tokens("казахско-словенского партнёрства")] == [
        "казахско-словенского", "казахско", "словенского", "партнёрства"]
    assert [t[2] for t in tokens("конституционно\u2011правовой")][1:] == ["конституционно", "правовой"]


def test_token_offsets_point_into_the_text() -> None:
    text = "Посол А.Абибуллаев"
    assert [text[s:e] for s, e, _ in tokens(text)] == ["Посол", "А", "Абибуллаев"]


def test_normalize_folds_yo_and_collapses_spaces_keeping_offsets() -> None:
    low, offsets = normalize_text("Соединённое  Королевство\nВеликобритании")
    assert low == "соединенное королевство великобритании"
    assert offsets is not None and offsets[low.index("королевство")] == 13


def test_kazakh_letters_fold_to_russian_keeping_length() -> None:
    low, offsets = normalize_text("Бақытбекқызы Әлия Өскемен")
    assert low == "бакытбеккызы алия оскемен" and offsets is None


def test_lemma_is_cached_and_normalized() -> None:
    assert lemma("Словении") == "словения"
    assert lemma("партнёрства") == "партнерство"


@pytest.mark.parametrize(("phrase", "form"), [
    ("Средний коридор", "среднего коридора"),
    ("Средний коридор", "средним коридором"),
    ("Республика Словения", "республики словения"),
    ("Босния и Герцеговина", "боснии и герцеговины"),
    ("Соединённые Штаты Америки", "соединенных штатов америки"),
    ("Объединённые Арабские Эмираты", "объединенных арабских эмиратах"),
    ("Чрезвычайный и Полномочный Посол", "чрезвычайного и полномочного посла"),
])
def test_phrase_forms_agree(phrase: str, form: str) -> None:
    assert form in phrase_forms(phrase)


def test_uninflected_foreign_name_stays_as_is() -> None:
    assert word_forms("Эсватини") == frozenset({"эсватини"})


@pytest.mark.parametrize(("surname", "forms"), [
    ("Абибуллаев", {"абибуллаева", "абибуллаеву", "абибуллаевым", "абибуллаеве", "абибуллаевой"}),
    ("Исетова", {"исетова", "исетовой", "исетову"}),
    ("Путин", {"путина", "путину", "путиным"}),
    ("Вишневский", {"вишневского", "вишневскому", "вишневская", "вишневской"}),
    ("Шалданбай", {"шалданбая", "шалданбаем"}),
    ("Женис", {"жениса", "женисом"}),
    ("Обама", {"обамы", "обаме", "обамой"}),
])
def test_surname_suffix_rules(surname: str, forms: set[str]) -> None:
    assert forms <= surname_forms(surname, parse_person(surname).female)


def test_female_rule_leaves_out_male_only_forms() -> None:
    forms = surname_forms("Медведева", True)
    assert {"медведева", "медведевой", "медведеву"} <= forms
    assert "медведев" not in forms and "медведеве" not in forms


@pytest.mark.parametrize("surname", ["Бақытбекқызы", "Сапарбекулы", "Сайлаукызы", "Кацуру", "Черных"])
def test_uninflected_surnames(surname: str) -> None:
    assert len(surname_forms(surname)) == 1


def test_female_first_name_keeps_foreign_surname_uninflected() -> None:
    person = parse_person("Ангела Меркель")
    assert person.female is True
    assert surname_forms(person.surname, person.female) == frozenset({"меркель"})


def test_parse_person_formats() -> None:
    assert parse_person("Абибуллаев, Алтай").first == "Алтай"
    assert parse_person("Владимир Владимирович Путин").surname == "Путин"
    assert parse_person("Бакаев").first is None
