"""Deterministic watch rules by the thousand: countries, persons, ambassadors and keywords, all valid.

Country names come from the rules gazetteer (monitor/rules/data) when it is installed, else from the short
list below. A few real rules that fire on the corpus are always included, so that the store path also writes
matches and outbox rows.
"""

from __future__ import annotations

import json
import random
from typing import Any

_FALLBACK_COUNTRIES = (
    "Словения", "Латвия", "Португалия", "Оман", "Индия", "Германия", "Франция", "Китай", "Япония", "Турция",
    "Египет", "Иран", "Италия", "Испания", "Польша", "Венгрия", "Чехия", "Австрия", "Бельгия", "Канада",
)
_SYLLABLES = ("ба", "ка", "ли", "мур", "нат", "сей", "тол", "ха", "жан", "ер", "бек", "ай", "гуль", "дос", "ра")
_REAL: tuple[dict[str, Any], ...] = (
    {"name": "real-slovenia", "country": "Словения"},
    {"name": "real-ois", "keyword": "ОИС"},
    {"name": "real-latvia", "country": "Латвия"},
    {"name": "real-amb-slovenia", "ambassador": "Словения"},
    {"name": "real-corridor", "keyword": "Средний коридор"},
)


def country_names() -> tuple[str, ...]:
    try:
        from monitor.rules.gazetteer import countries  # the rules helper's gazetteer, when merged
    except ImportError:
        return _FALLBACK_COUNTRIES
    names = sorted({str(getattr(c, "name", code)) for code, c in countries().items()})
    return tuple(names) or _FALLBACK_COUNTRIES


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def rules(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """n rule dicts ([[rules]] blocks): ~30% countries, 30% persons, 10% ambassadors, 30% keywords."""
    rng = random.Random(seed)
    names = country_names()
    out: list[dict[str, Any]] = [dict(r) for r in _REAL[:n]]
    while len(out) < n:
        i, kind = len(out), rng.random()
        if kind < 0.3:
            out.append({"name": f"c{i}", "country": rng.choice(names), "any": [_word(rng, 3)]})
        elif kind < 0.6:
            surname = _word(rng, 3).capitalize() + rng.choice(("ов", "ева", "ин", "улы", ""))
            out.append({"name": f"p{i}", "person": f"{_word(rng, 2).capitalize()} {surname}"})
        elif kind < 0.7:
            # mostly with the ambassador's name: ten thousand real rules would not watch one country 5 times
            rule = {"name": f"a{i}", "ambassador": rng.choice(names)}
            if rng.random() < 0.9:
                rule["person"] = f"{_word(rng, 2).capitalize()} {_word(rng, 3).capitalize()}ов"
            out.append(rule)
        else:
            words = _word(rng, 3) if rng.random() < 0.7 else f"{_word(rng, 2)} {_word(rng, 3)}"
            out.append({"name": f"k{i}", "keyword": words.upper() if rng.random() < 0.2 else words})
    return out


def specs(n: int, seed: int = 1) -> list[Any]:
    from monitor.rules import RuleSpec

    return [RuleSpec.model_validate(r) for r in rules(n, seed)]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def toml_block(table: str, values: dict[str, Any]) -> str:
    return f"[[{table}]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items()) + "\n"


def rules_toml(n: int, seed: int = 1) -> str:
    return "".join(toml_block("rules", r) for r in rules(n, seed))
