"""Every gazetteer entry is recognised by its names, abbreviations, adjective and (with capital) capital."""

from __future__ import annotations

from functools import lru_cache

import pytest

from monitor.rules import RuleSpec, compile_rules
from monitor.rules.gazetteer import countries, lookup
from monitor.rules.match import Matcher

UN_MEMBERS = 193
EXTRA = {"PS", "XK", "TW", "VA", "EU"}


@lru_cache(maxsize=1)
def matcher() -> Matcher:
    specs = [RuleSpec(name=code, country=code) for code in countries()]
    specs += [RuleSpec(name=f"{code}+capital", country=code, capital=True) for code in countries()]
    return compile_rules(specs)


def fired(text: str) -> set[str]:
    return {m.rule for m in matcher().match("", [text])}


def test_gazetteer_covers_un_members_and_extras() -> None:
    assert len(countries()) == UN_MEMBERS + len(EXTRA)
    assert set(countries()) >= EXTRA


@pytest.mark.parametrize("code", sorted(countries()))
def test_every_form_of_an_entry_is_recognised(code: str) -> None:
    country = countries()[code]
    for name in (*country.names, *country.abbr):
        assert code in fired(f"Сообщают, что {name} и другие."), name
        assert lookup(name) in (code, None) or name in ("Конго", "Корея"), name
    for adj in country.adj:
        assert code in fired(f"По мнению {adj.capitalize()} стороны."), adj
    if country.capital and lookup(country.capital) is None:
        text = f"Встреча прошла в {country.capital}."
        assert f"{code}+capital" in fired(text), country.capital
        assert code not in fired(text), country.capital


@pytest.mark.parametrize(("text", "code"), [
    ("в Словении", "SI"), ("Словенией", "SI"), ("словенской стороны", "SI"), ("казахско-словенского", "SI"),
    ("Республики Словения", "SI"), ("РФ", "RU"), ("Российской Федерации", "RU"), ("США", "US"),
    ("американских", "US"), ("Соединённых Штатов Америки", "US"), ("КНР", "CN"), ("ФРГ", "DE"),
    ("ОАЭ", "AE"), ("КСА", "SA"), ("РК", "KZ"), ("КНДР", "KP"), ("Белоруссии", "BY"), ("Беларусью", "BY"),
    ("Великобритании", "GB"), ("Британии", "GB"), ("Соединённого Королевства", "GB"),
    ("Боснии и Герцеговины", "BA"), ("Гвинеи-Бисау", "GW"), ("Кыргызстана", "KG"), ("Киргизии", "KG"),
])
def test_named_forms(text: str, code: str) -> None:
    assert code in fired(f"Новости: {text}.")


@pytest.mark.parametrize(("text", "code"), [
    ("Гвинеи-Бисау", "GN"), ("Северной Кореи", "KR"), ("Латинской Америки", "US"),
    ("Южного Судана", "SD"), ("Демократической Республики Конго", "CG"), ("Ирака", "IR"),
    ("словесный", "SI"), ("Северной Ирландии", "IE"), ("того же мнения", "TG"), ("объём куба", "CU"),
    ("в вене", "AT"), ("на испанском языке", "ES"), ("в Ломе", "TG"),
])
def test_longer_names_of_other_places_do_not_count(text: str, code: str) -> None:
    assert code not in fired(f"Новости: {text}.")
