"""Russian-aware text primitives: normalization, tokens, lemmas and word-form expansion.

Everything here is cached: the matcher expands every rule into its surface forms once at start-up, so the
hot path never calls pymorphy3 (uncached it lemmatizes ~10-50k words/s, far too slow per paragraph).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pymorphy3

from monitor.rules import formstore

# Letters are whatever Unicode calls letters (covers Kazakh ә і ң ғ ү ұ қ ө һ and Latin) plus digits;
# a hyphen (ASCII or U+2010/U+2011) between two letters joins a compound.
WORD = r"[^\W_]+"
HYPHENS = "-\u2010\u2011"
TOKEN_RE = re.compile(rf"{WORD}(?:[{HYPHENS}]{WORD})*")
_PART_RE = re.compile(WORD)
_SPACE_RUN = re.compile(r"\s+")

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")


# Kazakh names are spelt both ways in Russian-language press (Бақытбекқызы / Бакытбеккызы): compare
# Kazakh letters as their closest Russian letters. One char for one, so offsets are kept.
_FOLD = tuple(zip("ёәіңғүұқөһ", "еаингуукох", strict=True))


def norm(text: str) -> str:
    """Lower-case, ё→е, Kazakh letters folded to Russian ones (қ→к, ұ→у ...). Same length as the input
    whenever Python's lower() is (checked by callers)."""
    low = text.lower()
    for letter, russian in _FOLD:  # str.replace is several times faster than str.translate here
        if letter in low:
            low = low.replace(letter, russian)
    return low


def normalize_text(text: str) -> tuple[str, list[int] | None]:
    """The string the automaton scans: lower-cased, ё→е, every whitespace run collapsed to one space, so
    a phrase matches across line breaks and double spaces. Returns it with a map from its offsets back to
    offsets in `text` (None when the two coincide, the common case, so no per-char work is done)."""
    low = norm(text)
    if len(low) != len(text):  # e.g. 'İ'.lower() has two chars: lower char by char to keep offsets
        low = "".join(norm(ch)[:1] or ch for ch in text)
    if "  " not in low and not any(ch in low for ch in "\n\t\r\u00a0\u2009\u202f"):
        return low, None
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for run in _SPACE_RUN.finditer(low):
        pieces.append(low[pos : run.start()])
        offsets.extend(range(pos, run.start()))
        pieces.append(" ")
        offsets.append(run.start())
        pos = run.end()
    pieces.append(low[pos:])
    offsets.extend(range(pos, len(low) + 1))  # +1: an end offset may point just past the last char
    return "".join(pieces), offsets


def tokens(text: str) -> list[tuple[int, int, str]]:
    """Words of `text` as (start, end, word): each hyphenated compound once as a whole, then its parts."""
    out: list[tuple[int, int, str]] = []
    for m in TOKEN_RE.finditer(text):
        out.append((m.start(), m.end(), m.group()))
        if any(h in m.group() for h in HYPHENS):
            out.extend((m.start() + p.start(), m.start() + p.end(), p.group())
                       for p in _PART_RE.finditer(m.group()))
    return out


@lru_cache(maxsize=1)
def analyzer() -> Any:
    return pymorphy3.MorphAnalyzer()


# Bounded caches: the matcher calls parses() at run time only for words next to a surname, so in a
# long-running daemon this cache fills slowly; 50k parse lists stay within a few tens of MB.
@lru_cache(maxsize=50_000)
def parses(word: str) -> tuple[Any, ...]:
    return tuple(analyzer().parse(norm(word)))


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The most likely dictionary form of `word` (normalized)."""
    return norm(parses(word)[0].normal_form)


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Every dictionary form pymorphy3 considers for `word` (normalized)."""
    return frozenset(norm(p.normal_form) for p in parses(word))


def is_common_word(word: str) -> bool:
    """True when the dictionary knows `word` as something other than a name (a surname that is also
    a common noun, like Лавров/лавров or Роза/роза, needs more evidence before it fires)."""
    if not analyzer().word_is_known(norm(word)):  # a dictionary lookup, much cheaper than parsing
        return False
    names = {"Surn", "Name", "Patr", "Geox", "Orgn"}
    return any(p.is_known and not names & set(p.tag.grammemes) for p in parses(word))


@lru_cache(maxsize=100_000)
def word_forms(word: str, prefer: str | None = None) -> frozenset[str]:
    """Every inflected form of one word, normalized. `prefer` picks a parse carrying that grammeme
    (e.g. 'Geox' for a country name) when pymorphy3 offers several."""
    key = f"w\x1f{word}\x1f{prefer or ''}"
    found = formstore.lookup(key)
    if found is None:
        found = _word_forms(word, prefer)
        formstore.record(key, found)
    return found


def _word_forms(word: str, prefer: str | None) -> frozenset[str]:
    if "-" in word:  # a compound: inflect its last part, keep the rest ('Коста-Рика' → 'коста-рики')
        head, _, last = word.rpartition("-")
        return frozenset(f"{norm(head)}-{form}" for form in word_forms(last, prefer)) | {norm(word)}
    # the word as written is a dictionary form: prefer a nominative parse ('Ливан' is not the genitive
    # plural of 'ливаны'), singular when there is one, carrying `prefer` when asked
    options = sorted(parses(word), key=lambda p: (p.tag.case != "nomn", p.tag.number == "plur"))
    chosen = options[0]
    if prefer:  # a name: a nominative noun, or nothing to inflect ('Ломе' is not the locative of 'лом')
        nouns = [p for p in options if p.tag.case == "nomn" and "NOUN" in p.tag.grammemes]
        if not nouns:
            return frozenset({norm(word)})
        chosen = next((p for p in nouns if prefer in p.tag.grammemes), nouns[0])
    if "Fixd" in chosen.tag.grammemes or (not chosen.is_known and _looks_uninflected(word)):
        return frozenset({norm(word)})
    forms = {norm(p.word) for p in chosen.lexeme}
    forms.add(norm(word))
    return frozenset(forms)


def _looks_uninflected(word: str) -> bool:
    # Foreign names ending in these vowels do not decline in Russian (Эсватини, Того, Перу, Бисау).
    return norm(word)[-1:] in tuple("еиоуюэ")


def _agrees(parse: Any) -> bool:
    return bool({"ADJF", "PRTF", "NUMR", "Apro"} & set(parse.tag.grammemes))


def _nominative(word: str, adjective: bool) -> Any | None:
    return next((p for p in parses(word) if p.tag.case == "nomn" and _agrees(p) == adjective), None)


def _inflect(word: str, grammemes: set[str], parse: Any) -> str | None:
    """`word` (whose nominative parse is `parse`) put into `grammemes`; None when impossible."""
    if "-" in word and not _agrees(parse):  # 'Коста-Рика' → 'Коста-Рики': only the last part declines
        head, _, last = word.rpartition("-")
        last_parse = _nominative(last, adjective=False)
        inflected = _inflect(last, grammemes, last_parse) if last_parse else norm(last)
        return None if inflected is None else f"{norm(head)}-{inflected}"
    if "Fixd" in parse.tag.grammemes or (not parse.is_known and _looks_uninflected(word)):
        return norm(word)
    target = parse.inflect(grammemes)
    return None if target is None else norm(target.word)


@lru_cache(maxsize=50_000)
def phrase_forms(phrase: str) -> frozenset[str]:
    """All case/number forms of a phrase, normalized, words joined by one space. Adjectives before the
    head noun agree with it; words after it stay as they are ('Республика Словения' → 'республики
    словения'), except nouns coordinated by 'и' ('Босния и Герцеговина' → 'боснии и герцеговины')."""
    key = f"p\x1f{phrase}"
    found = formstore.lookup(key)
    if found is None:
        found = _phrase_forms(phrase)
        formstore.record(key, found)
    return found


def _phrase_forms(phrase: str) -> frozenset[str]:
    words = phrase.split()
    if len(words) == 1:
        return word_forms(words[0], "Geox")
    head = next((i for i, w in enumerate(words) if "NOUN" in parses(w)[0].tag.grammemes), None)
    if head is None:
        head = next((i for i, w in enumerate(words) if _nominative(w, adjective=False)), None)
    if head is None:
        return frozenset({" ".join(norm(w) for w in words)})
    head_parse = _nominative(words[head], adjective=False)
    if head_parse is None:
        return frozenset({" ".join(norm(w) for w in words)})
    plan: dict[int, Any] = {head: head_parse}
    for i in range(head):
        adj = _nominative(words[i], adjective=True)
        if adj is not None:
            plan[i] = adj
    for i in range(head + 1, len(words) - 1):
        if norm(words[i]) == "и":
            noun = _nominative(words[i + 1], adjective=False)
            if noun is not None:
                plan[i + 1] = noun
    tag = head_parse.tag
    numbers = ["plur"] if tag.number == "plur" else ["sing"] if "Sgtm" in tag.grammemes else ["sing", "plur"]
    out = {" ".join(norm(w) for w in words)}
    for number in numbers:
        for case in CASES:
            form: list[str] = []
            for i, w in enumerate(words):
                if i not in plan:
                    form.append(norm(w))
                    continue
                grams = {case, number}
                if _agrees(plan[i]) and number == "sing" and tag.gender:
                    grams.add(tag.gender)
                inflected = _inflect(w, grams, plan[i])
                if inflected is None:
                    break
                form.append(inflected)
            else:
                out.add(" ".join(form))
    return frozenset(out)


def expand(phrases: Iterable[str]) -> set[str]:
    """Union of phrase_forms over several phrases."""
    out: set[str] = set()
    for phrase in phrases:
        out |= phrase_forms(phrase)
    return out


def release_compile_caches() -> None:
    """Drop the forms worked out while compiling rules: with 10,000 rules they hold ~15 MB that the running
    matcher never reads again (it asks parses() only for words next to a surname, and refills it)."""
    for cached in (word_forms, phrase_forms, parses, lemma, lemmas):
        cached.cache_clear()
