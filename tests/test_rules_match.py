"""Table-driven matching: many inflected forms per rule kind, and what must not match."""

from __future__ import annotations

import pytest

from monitor.rules import RuleSpec, compile_rules


def fires(spec: RuleSpec, text: str) -> bool:
    return bool(compile_rules([spec]).match("", [text]))


COUNTRY = RuleSpec(name="si", country="Словения")
CAPITAL = RuleSpec(name="si", country="Словения", capital=True)
PERSON = RuleSpec(name="ab", person="Алтай Абибуллаев")
AMBASSADOR = RuleSpec(name="amb", ambassador="Словения")
OIS = RuleSpec(name="ois", keyword="ОИС")
CORRIDOR = RuleSpec(name="mc", keyword="Средний коридор")

POSITIVE = [
    (COUNTRY, "Посол Казахстана в Словении"), (COUNTRY, "отношения со Словенией"),
    (COUNTRY, "визит в Словению"), (COUNTRY, "Словения и Казахстан"), (COUNTRY, "словенской стороны"),
    (COUNTRY, "словенскими брендами"), (COUNTRY, "казахско-словенского партнёрства"),
    (COUNTRY, "Республики Словения"), (COUNTRY, "Республикой Словения"), (COUNTRY, "СЛОВЕНИЯ"),
    (CAPITAL, "в Любляне"), (CAPITAL, "мэрии города Любляны"), (CAPITAL, "Любляна, 9 января"),
    (PERSON, "Абибуллаев"), (PERSON, "встреча с Абибуллаевым"), (PERSON, "Абибуллаеву вручили"),
    (PERSON, "А.Абибуллаев"), (PERSON, "А. Абибуллаеву"), (PERSON, "Алтай Абибуллаев"),
    (PERSON, "Алтая Абибуллаева"), (PERSON, "Абибуллаев Алтай"), (PERSON, "об Абибуллаеве"),
    (PERSON, "супруга Абибуллаева"),
    (PERSON, "Абибуллаевой"),
    (RuleSpec(name="a", person="Анель Бақытбекқызы"), "консул Анель Бақытбекқызы обсудила"),
    (RuleSpec(name="a", person="Абзал Сапарбекулы"), "послом Абзалом Сапарбекулы"),
    (RuleSpec(name="a", person="Анель Бақытбекқызы"), "консул Анель Бакытбеккызы"),
    (RuleSpec(name="a", person="Абзал Сапарбекулы"), "Абзал Сапарбекұлы"),
    (RuleSpec(name="kz", country="Казахстан"), "Қазақстан Республикасы"),
    (RuleSpec(name="a", person="Вишневский"), "с Вишневской"),
    (RuleSpec(name="a", person="Пушкин"), "Пушкиным"),
    (RuleSpec(name="a", person="Барак Обама"), "Обамой"),
    (RuleSpec(name="a", person="Эдвард Сноуден"), "Сноудена"),
    (RuleSpec(name="a", person="Иван Лавров"), "министр Лавров заявил"),
    (AMBASSADOR, "Посол Казахстана в Словении Алтай Абибуллаев"),
    (AMBASSADOR, "Посол Республики Казахстан в Словении"), (AMBASSADOR, "встреча с послом Словении"),
    (AMBASSADOR, "посла Республики Словения"), (AMBASSADOR, "Чрезвычайный и Полномочный Посол Словении"),
    (AMBASSADOR, "словенский посол"), (AMBASSADOR, "послу Словении в Казахстане"),
    (OIS, "государств-членов ОИС"), (OIS, "(ОИС)"), (OIS, "ОИС-2025"),
    (CORRIDOR, "Среднего коридора"), (CORRIDOR, "Средним коридором"), (CORRIDOR, "по среднему  коридору"),
    (RuleSpec(name="k", keyword="цифровизация"), "Годом цифровизации"),
    (RuleSpec(name="k", keyword="G20"), "саммит G20"),
    (RuleSpec(name="r", regex=r"транзит\w*"), "Транзитных государств"),
    (RuleSpec(name="k", keyword="Ёлка"), "у елки"),
    (RuleSpec(name="a", person="Ким Чен Ын"), "встреча с Ким Чен Ыном"),
    (RuleSpec(name="a", person="Тим Бернерс-Ли"), "с Тимом Бернерсом-Ли"),
    (RuleSpec(name="a", person="Элтон Джон"), "концерт Элтона Джона"),
    (RuleSpec(name="a", person="Мишель Обама"), "Мишель Обама и Барак Обама. Обама сказал"),
    (RuleSpec(name="es", country="Испания"), "испанский король"),
    (RuleSpec(name="a", person="Трише, Жан-Клод"), "глава ЕЦБ Жан-Клод Трише"),
    (RuleSpec(name="a", person="Трише, Жан-Клод"), "Сам Ж.-К.Трише заявил"),
    (RuleSpec(name="a", person="Дэвид О. Расселл"), "режиссёр Дэвид О. Расселл"),
    (RuleSpec(name="a", person="Да Силва, Луис"), "президент Луис да Силва"),
    (RuleSpec(name="a", person="Хосе Батиста"), "уругваец Хосе Альберто Батиста"),
]

NEGATIVE = [
    (COUNTRY, "словесный поединок"), (COUNTRY, "Словакия"), (COUNTRY, "в Любляне"),
    (RuleSpec(name="ir", country="Иран"), "Ирак и Ираком"), (RuleSpec(name="ir", country="Иран"), "иракский"),
    (OIS, "ОИСТ"), (OIS, "оис"), (OIS, "Оис"),
    (PERSON, "Алтай"), (PERSON, "в Алтае"), (PERSON, "абибуллаев"),
    (RuleSpec(name="a", person="Иван Лавров"), "венок из лавров"),
    (RuleSpec(name="a", person="Иван Лавров"), "Лавров было много."),
    (RuleSpec(name="a", person="Мария Роза"), "Роза цвела в саду."),
    (AMBASSADOR, "Посол Казахстана в Латвии"), (AMBASSADOR, "посольство в Словении"),
    (AMBASSADOR, "после визита в Словению"), (AMBASSADOR, "Посол отметил. Словения ответила"),
    (CORRIDOR, "средний и коридор"), (CORRIDOR, "коридор средний"),
    (RuleSpec(name="r", regex="транзит", case_sensitive=True), "Транзит"),
    (RuleSpec(name="a", person="Тихон ГОУ"), "ГОУ СОШ"),
    (RuleSpec(name="a", person="Элтон Джон"), "Джон сказал"),
    (RuleSpec(name="a", person="Мишель Обама"), "Барак Обама прибыл. Обама сказал"),
    (PERSON, "Б. Абибуллаев"), (PERSON, "Бауыржан Абибуллаев"),
    (RuleSpec(name="es", country="Испания"), "на испанском и французском языках"),
    (RuleSpec(name="a", person="Дарига Назарбаева"), "Нурсултан Назарбаев. Назарбаев сказал"),
    (RuleSpec(name="a", person="Дэвид Кэмерон"), "актриса Кэмерон Диаз"),
    (RuleSpec(name="a", person="Леонид Волков"), "Владислава Николаевича Волкова"),
    (RuleSpec(name="co", country="Колумбия"), "Колумбийского университета"),
]


@pytest.mark.parametrize(("spec", "text"), POSITIVE)
def test_fires(spec: RuleSpec, text: str) -> None:
    assert fires(spec, text), (spec, text)


@pytest.mark.parametrize(("spec", "text"), NEGATIVE)
def test_does_not_fire(spec: RuleSpec, text: str) -> None:
    assert not fires(spec, text), (spec, text)


def test_match_reports_paragraph_snippet_and_spans() -> None:
    m = compile_rules([COUNTRY, PERSON])
    found = m.match("Заголовок о Словении", ["Ничего.", "Встреча с А. Абибуллаевым в Словении."])
    by = {(x.rule, x.paragraph): x for x in found}
    assert set(by) == {("si", None), ("si", 1), ("ab", 1)}
    hit = by[("ab", 1)]
    assert hit.snippet == "Встреча с А. Абибуллаевым в Словении."
    assert [hit.snippet[s:e] for s, e in hit.spans] == ["А. Абибуллаевым"]
    assert [by[("si", None)].snippet[s:e] for s, e in by[("si", None)].spans] == ["Словении"]


def test_ambassador_with_person() -> None:
    spec = RuleSpec(name="x", ambassador="Словения", person="Алтай Абибуллаев")
    assert fires(spec, "Посол Казахстана в Словении Алтай Абибуллаев провёл встречу")
    assert not fires(spec, "Посол Казахстана в Латвии Даурен Карипов и Абибуллаев")
    assert not fires(spec, "Посол Казахстана в Словении провёл встречу")


def test_phrase_across_a_line_break_and_nbsp() -> None:
    m = compile_rules([CORRIDOR])
    [hit] = m.match("", ["развитие Среднего\nкоридора и\u00a0Среднего\u00a0коридора"])
    assert [hit.snippet[s:e] for s, e in hit.spans] == ["Среднего\nкоридора", "Среднего\u00a0коридора"]


def test_country_by_iso_code_and_inflected_name() -> None:
    assert fires(RuleSpec(name="x", country="SI"), "в Словении")
    assert fires(RuleSpec(name="x", country="Словении"), "Словения")


def test_primary_keys_are_anded() -> None:
    spec = RuleSpec(name="x", country="Словения", person="Абибуллаев")
    assert fires(spec, "Абибуллаев в Словении")
    assert not fires(spec, "Абибуллаев в Латвии")


def test_any_none_and_scope() -> None:
    spec = RuleSpec(name="x", country="Словения", any=("фармацевтический", "ИИ"), none=("футбол",))
    assert fires(spec, "фармацевтической отрасли Словении")
    assert not fires(spec, "Словения")
    assert not fires(spec, "ИИ в Словении и футбол")
    article = RuleSpec(name="x", country="Словения", any=("ИИ",), scope="article")
    found = compile_rules([article]).match("", ["Словения", "ИИ"])
    assert [x.paragraph for x in found] == [0]
    plain = RuleSpec(name="x", country="Словения", any=("ИИ",))
    assert not compile_rules([plain]).match("", ["Словения", "ИИ"])


def test_sources_filter() -> None:
    m = compile_rules([RuleSpec(name="x", keyword="ОИС", sources=("mfa",))])
    assert m.match("ОИС", [], source="mfa")
    assert not m.match("ОИС", [], source="kt")


def test_rule_names_and_one_match_per_rule_and_paragraph() -> None:
    m = compile_rules([OIS, COUNTRY])
    assert m.rule_names == ("ois", "si")
    assert len(m.match("", ["ОИС, ОИС и ОИС"])) == 1


def test_regex_is_bounded_to_a_paragraph_prefix() -> None:
    m = compile_rules([RuleSpec(name="r", regex="конец")])
    assert not m.match("", ["а" * 30_000 + " конец"])
