"""Near-duplicate signatures: content lemmas and lemma bigrams of a text, their MinHash, and LSH band keys.

A text is reduced to a feature set: the lemmas of its content words (function words, datelines and agency
boilerplate dropped) plus adjacent lemma pairs. Lemmas make a rewrite ("провел встречу с послом" /
"встретился с послом") share words with its original; the pairs keep order so that two texts built from
the same template phrases but naming different people differ. MinHash over the set, cut into bands, gives
bucket keys: two texts whose sets overlap enough share at least one key with high probability, and those
keys live in an indexed SQL table (see stories.py), so candidates are found without scanning the store.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from monitor.dedup import normalize

NUM_PERM = 64
BAND_ROWS = 2  # rows per band: 32 bands of 2 → a pair at Jaccard 0.2 becomes a candidate with p≈0.73
BANDS = NUM_PERM // BAND_ROWS
MIN_FEATURES = 12  # a paragraph with fewer features ("Фото: МИД РК") is not a unit of its own
SEED = 7

_WORD = re.compile(r"[0-9a-zа-яәіңғүұқөһ]+")
# POS tags of words that carry no topic (pymorphy3 / OpenCorpora tag set).
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "PRED"})
# Agency boilerplate and datelines: "Астана. 5 марта. KAZAKHSTAN TODAY -", "сообщает МИД", "Фото: ...".
_BOILERPLATE = frozenset({
    "kazakhstan", "today", "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
    "сентябрь", "октябрь", "ноябрь", "декабрь", "год", "сообщать", "сообщить", "передавать", "фото",
    "также", "кроме", "этот", "который", "весь", "свой", "тот", "такой", "мочь", "быть", "стать", "ход",
    "рамка", "время", "между", "помимо", "тем",
})


@lru_cache(maxsize=1)
def _morph() -> object:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str | None:
    """The normal form of a lower-cased word, or None for a function word (cached: lemmatizing is slow)."""
    if word.isdigit():
        return word if len(word) > 1 else None
    if len(word) < 2:
        return None
    parsed = _morph().parse(word)[0]  # type: ignore[attr-defined]
    if parsed.tag.POS in _FUNCTION_POS:
        return None
    normal = str(parsed.normal_form).replace("ё", "е")
    return None if normal in _BOILERPLATE else normal


def content_lemmas(text: str) -> list[str]:
    return [lem for w in _WORD.findall(normalize(text)) if (lem := lemma(w)) is not None]


def features(text: str) -> frozenset[str]:
    lemmas = content_lemmas(text)
    pairs = (f"{a} {b}" for a, b in itertools.pairwise(lemmas))
    return frozenset((*lemmas, *pairs))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """|A∩B| / min(|A|, |B|): how much of the smaller text the larger one says too (1.0 = contained)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


_PERMS: MinHash | None = None


def minhash(feats: Iterable[str]) -> MinHash:
    global _PERMS
    if _PERMS is None:  # the permutations are the costly part of a MinHash: make them once, share them
        _PERMS = MinHash(num_perm=NUM_PERM, seed=SEED)
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_PERMS.permutations, scheme=_PERMS.scheme)
    m.update_batch([f.encode("utf-8") for f in feats])
    return m


def band_keys(m: MinHash) -> list[int]:
    """One signed 64-bit key per band (fits BIGINT on both SQLite and PostgreSQL)."""
    values = np.asarray(m.hashvalues, dtype=np.uint64)
    keys = []
    for band in range(BANDS):
        chunk = values[band * BAND_ROWS:(band + 1) * BAND_ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


@dataclass(frozen=True, slots=True)
class Unit:
    """A comparable piece of an article: one paragraph (index into Article.paragraphs) or the whole (-1)."""

    index: int
    feats: frozenset[str]


WHOLE = -1


def units(title: str, paragraphs: Sequence[str]) -> list[Unit]:
    """The whole article (title and text) and every paragraph, each if long enough to stand for an event."""
    out = []
    for i, p in enumerate(paragraphs):
        f = features(p)
        if len(f) >= MIN_FEATURES:
            out.append(Unit(i, f))
    whole = features("\n".join((title, *paragraphs)))
    if len(whole) >= MIN_FEATURES:  # a bare headline shares too few words to tell one event from another
        out.insert(0, Unit(WHOLE, whole))
    return out


# Lemmas in more than ~13% of the paragraphs of the labelled set (tests/fixtures/stories; bench/eval_stories.py):
# diplomatic-news boilerplate. Kept for the exact comparison, left out of the LSH bands: with them, 37% of
# unrelated pairs shared a band (every one a wasted candidate); without, 11%, and every related pair still does.
COMMON = frozenset((
    "казахстан", "посол", "сотрудничество", "встреча", "сторона", "развитие", "обсудить", "вопрос", "страна",
    "республика", "иностранный", "государство", "казахстанский", "международный", "участие", "взаимодействие",
    "дело", "экономический", "укрепление", "министр", "провести", "сфера", "отметить", "рк", "генеральный",
    "состояться", "перспектива",
))


def lsh_features(feats: Iterable[str]) -> list[str]:
    return [f for f in feats if not any(w in COMMON for w in f.split(" "))]


def unit_bands(u: Unit) -> list[int]:
    feats = lsh_features(u.feats)
    return band_keys(minhash(feats)) if feats else []
