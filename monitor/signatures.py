"""Near-duplicate signatures: content lemmas and lemma bigrams of a text, their MinHash, and LSH band keys.

A text is reduced to a feature set: the lemmas of its content words (function words, datelines and agency
boilerplate dropped) plus adjacent lemma pairs. Lemmas make a rewrite ("провел встречу с послом" /
"встретился с послом") share words with its original; the pairs keep order so that two texts built from
the same template phrases but naming different people differ. MinHash over the set, cut into bands, gives
bucket keys: two texts whose sets overlap enough share at least one key with high probability, and those
keys live in an indexed SQL table (see stories.py), so candidates are found without scanning the store.

Features are 32-bit codes in sorted numpy arrays, not strings: a stored item's units take ~4 KB instead of
~100 KB, so thousands stay cached, and the MinHash is one vectorised expression. datasketch (which this
module used before) hashes every feature with SHA-1 in a Python loop: 2 ms of every article's 3 ms here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from monitor.dedup import normalize
from monitor.rules.morph import analyzer

Codes = npt.NDArray[np.uint32]  # sorted, unique feature codes

NUM_PERM = 64
BAND_ROWS = 2  # rows per band: 32 bands of 2 → a pair at Jaccard 0.2 becomes a candidate with p≈0.73
BANDS = NUM_PERM // BAND_ROWS
MIN_FEATURES = 12  # a paragraph with fewer features ("Фото: МИД РК") is not a unit of its own
SEED = 1  # 7 of 8 seeds give the same recall on the labelled set; README.md, "Precision and recall"

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
# Lemmas in more than ~13% of the paragraphs of the labelled set (tests/fixtures/stories; bench/eval_stories.py):
# diplomatic-news boilerplate. Kept for the exact comparison, left out of the LSH bands: with them, 37% of
# unrelated pairs shared a band (every one a wasted candidate); without, 11%, and every related pair still does.
COMMON = frozenset((
    "казахстан", "посол", "сотрудничество", "встреча", "сторона", "развитие", "обсудить", "вопрос", "страна",
    "республика", "иностранный", "государство", "казахстанский", "международный", "участие", "взаимодействие",
    "дело", "экономический", "укрепление", "министр", "провести", "сфера", "отметить", "рк", "генеральный",
    "состояться", "перспектива",
))

_U64 = np.uint64
_MERSENNE = _U64((1 << 61) - 1)
_MAX_HASH = _U64((1 << 32) - 1)
_PAIR_A, _PAIR_B = _U64(0x9E3779B97F4A7C15), _U64(0xC2B2AE3D27D4EB4F)
_gen = np.random.RandomState(SEED)  # the universal hash family datasketch's legacy MinHash draws
_PERM_A = np.array([_gen.randint(1, (1 << 61) - 1, dtype=np.uint64) for _ in range(NUM_PERM)], dtype=np.uint64)
_PERM_B = np.array([_gen.randint(0, (1 << 61) - 1, dtype=np.uint64) for _ in range(NUM_PERM)], dtype=np.uint64)
_BAND_SALT = (np.arange(1, BANDS + 1, dtype=np.uint64) * _U64(0xD6E8FEB86659FD93))
_EMPTY: Codes = np.zeros(0, dtype=np.uint32)


def lemma(word: str) -> str | None:
    """The normal form of a lower-cased word, or None for a function word. Not cached itself: _word_code
    caches its result (two caches of the same 200,000 words cost ~40 MB more)."""
    if word.isdigit():
        return word if len(word) > 1 else None
    if len(word) < 2:
        return None
    parsed = analyzer().parse(word)[0]  # the matcher's analyzer: a second one costs 18 MB
    if parsed.tag.POS in _FUNCTION_POS:
        return None
    normal = str(parsed.normal_form).replace("ё", "е")
    return None if normal in _BOILERPLATE else normal


def code(lemma_text: str) -> int:
    """The feature code of a lemma (never 0: 0 stands for "no content word")."""
    return int.from_bytes(hashlib.blake2b(lemma_text.encode("utf-8"), digest_size=4).digest(), "little") or 1


@lru_cache(maxsize=200_000)
def _word_code(word: str) -> int:
    lem = lemma(word)
    return 0 if lem is None else code(lem)


_COMMON_CODES = np.array(sorted(code(w) for w in COMMON), dtype=np.uint64)


def lemma_codes(text: str) -> npt.NDArray[np.uint64]:
    """Codes of the content lemmas of `text`, in text order."""
    found = [c for w in _WORD.findall(normalize(text)) if (c := _word_code(w))]
    return np.array(found, dtype=np.uint64)


def _pair_codes(seq: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # an ordered pair (a, b) → one 32-bit code: a multiply-add per side and the high half (uint64 wraps)
    return (seq[:-1] * _PAIR_A + seq[1:] * _PAIR_B) >> _U64(32)


def _feature_set(seq: npt.NDArray[np.uint64]) -> Codes:
    if len(seq) == 0:
        return _EMPTY
    return np.unique(np.concatenate((seq, _pair_codes(seq)))).astype(np.uint32)


def _lsh_set(seq: npt.NDArray[np.uint64]) -> Codes:
    """The features without a COMMON lemma in them (for the bands only)."""
    if len(seq) == 0:
        return _EMPTY
    common = (seq[:, None] == _COMMON_CODES).any(axis=1)  # np.isin: 4x slower for 27 codes
    pairs = _pair_codes(seq)[~(common[:-1] | common[1:])]
    return np.unique(np.concatenate((seq[~common], pairs))).astype(np.uint32)


def features(text: str) -> Codes:
    return _feature_set(lemma_codes(text))


def overlap(a: Codes, b: Codes) -> float:
    """|A∩B| / min(|A|, |B|): how much of the smaller text the larger one says too (1.0 = contained)."""
    if not len(a) or not len(b):
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / min(len(a), len(b))


def minhash(feats: Codes) -> npt.NDArray[np.uint64]:
    """NUM_PERM minimum hash values of a non-empty feature set (the universal hashing of datasketch's legacy
    scheme, vectorised over all features at once)."""
    hv = feats.astype(np.uint64)[:, None]
    return (((hv * _PERM_A + _PERM_B) % _MERSENNE) & _MAX_HASH).min(axis=0)  # type: ignore[no-any-return]


def band_keys(values: npt.NDArray[np.uint64]) -> list[int]:
    """One signed 64-bit key per band of BAND_ROWS values (fits BIGINT on SQLite and PostgreSQL): the band's
    values and its number through the 64-bit MurmurHash3 finaliser."""
    rows = values.reshape(BANDS, BAND_ROWS)
    x = ((rows[:, 0] << _U64(32)) | rows[:, 1]) ^ _BAND_SALT
    x ^= x >> _U64(33)
    x *= _U64(0xFF51AFD7ED558CCD)
    x ^= x >> _U64(33)
    x *= _U64(0xC4CEB9FE1A85EC53)
    x ^= x >> _U64(33)
    return x.view(np.int64).tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, eq=False)
class Unit:
    """A comparable piece of an article: one paragraph (index into Article.paragraphs) or the whole (-1).
    `lsh` is only kept for a new item (its bands); a stored item's units drop it."""

    index: int
    feats: Codes
    lsh: Codes | None = None


WHOLE = -1


def units(title: str, paragraphs: Sequence[str], *, bands: bool = True) -> list[Unit]:
    """The whole article (title and text) and every paragraph, each if long enough to stand for an event.
    Each text is lemmatized once: the whole's sequence is the title's and the paragraphs' put together."""
    seqs = [lemma_codes(p) for p in paragraphs]
    out = []
    for i, seq in enumerate(seqs):
        f = _feature_set(seq)
        if len(f) >= MIN_FEATURES:
            out.append(Unit(i, f, _lsh_set(seq) if bands else None))
    whole_seq = np.concatenate((lemma_codes(title), *seqs))
    whole = _feature_set(whole_seq)
    if len(whole) >= MIN_FEATURES:  # a bare headline shares too few words to tell one event from another
        out.insert(0, Unit(WHOLE, whole, _lsh_set(whole_seq) if bands else None))
    return out


def unit_bands(u: Unit) -> list[int]:
    return band_keys(minhash(u.lsh)) if u.lsh is not None and len(u.lsh) else []
