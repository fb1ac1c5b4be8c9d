"""The country gazetteer (data/countries.toml) and every surface form of each entry, built once."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from monitor.rules.morph import expand, norm, word_forms


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    official: tuple[str, ...]
    alt: tuple[str, ...]
    abbr: tuple[str, ...]
    adj: tuple[str, ...]
    compound: tuple[str, ...]
    capital: str | None

    @property
    def names(self) -> tuple[str, ...]:
        """Every written name: short, official, alternative (abbreviations excluded)."""
        return tuple(n for n in (self.name, *self.official, *self.alt) if not _is_abbr(n))


@dataclass(frozen=True, slots=True)
class CountryForms:
    """Normalized surface forms (lower-case, ё→е, words joined by one space) by role."""

    names: frozenset[str]
    adjectives: frozenset[str]
    abbreviations: frozenset[str]  # as written: matched case-sensitively
    capital: frozenset[str]


def _is_abbr(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= len(letters) - 1 and " " not in text


@lru_cache(maxsize=1)
def _raw() -> dict[str, object]:
    data = resources.files("monitor.rules").joinpath("data/countries.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def _strings(entry: dict[str, object], key: str) -> tuple[str, ...]:
    value = entry.get(key, ())
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    table = _raw()["countries"]
    assert isinstance(table, dict)
    out: dict[str, Country] = {}
    for code, entry in table.items():
        capital = entry.get("capital")
        out[code] = Country(code, entry["name"], _strings(entry, "official"), _strings(entry, "alt"),
                            tuple(dict.fromkeys((*_strings(entry, "abbr"),
                                                 *([entry["name"]] if _is_abbr(entry["name"]) else [])))),
                            _strings(entry, "adj"), _strings(entry, "compound"), capital)
    return out


@lru_cache(maxsize=1)
def blockers() -> frozenset[str]:
    """Forms of phrases that contain a country's name without meaning it (Латинская Америка)."""
    table = _raw()["blockers"]
    assert isinstance(table, dict)
    return frozenset(expand(table["phrases"]))


@cache
def forms(code: str) -> CountryForms:
    country = countries()[code]
    adjectives: set[str] = set()
    for adj in country.adj:
        adjectives |= word_forms(adj)
        # the first part of a compound adjective: словенский → словенско-(казахстанский)
        adjectives.add(norm(adj)[:-2] + "о")
    adjectives |= {norm(c) for c in country.compound}
    capital = expand([country.capital]) if country.capital else set()
    return CountryForms(frozenset(expand(country.names)), frozenset(adjectives), frozenset(country.abbr),
                        frozenset(capital))


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Any normalized form of a name or abbreviation → country code (for looking up what users wrote)."""
    out: dict[str, str] = {}
    for code, country in countries().items():
        for form in (*forms(code).names, *(norm(a) for a in country.abbr)):
            out.setdefault(form, code)
        for name in country.names:
            out[norm(name)] = code  # the written name always wins over an inflected form elsewhere
    return out


def lookup(text: str) -> str | None:
    """The code of the country a user means by `text` ('Словения', 'Словении', 'США', 'SI'), or None."""
    if text in countries():
        return text
    return _index().get(" ".join(norm(text).split()))


def suggest(text: str, limit: int = 3) -> list[str]:
    """Gazetteer names closest to a name we could not find."""
    names = sorted({n for c in countries().values() for n in (*c.names, *c.abbr)})
    by_norm = {norm(n): n for n in names}
    return [by_norm[m] for m in difflib.get_close_matches(norm(text), list(by_norm), n=limit, cutoff=0.6)]
