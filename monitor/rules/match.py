"""The compiled Matcher: one automaton pass per paragraph, then only the rules that something hit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from monitor.models import Match
from monitor.rules.morph import norm, normalize_text
from monitor.rules.person_match import bare_allowed, person_spans

if TYPE_CHECKING:
    from monitor.rules.compile import Builder, CompiledRule, Cond

Span = tuple[int, int]
CAPITALIZED: tuple[str, ...] = ("",)  # the marker for forms that count only when capitalized
Hits = dict[int, list[Span]]

REGEX_TEXT_CAP = 20_000  # characters of a paragraph a regex sees: bounds a slow pattern's worst case
AMBASSADOR_WINDOW = 60  # 'Посол Республики Казахстан в Словении': the country follows within a few words
_SENTENCE_END = re.compile(r"[.!?;]\s+[А-ЯЁA-Z]|\n")
_WORDS = re.compile(r"[^\W_]+")
# an adjective (and adjectives coordinated with it) followed by 'язык': 'английском и французском языках'
_LANGUAGE = re.compile(r"(?:\s*,?\s+(?:(?:и|или)\s+)?[^\W\d_]+[сц]к[^\W\d_]{1,3})*\s+язык", re.IGNORECASE)


class Matcher:
    """All rules compiled together. Use compile_rules() to build one; match() is thread-safe."""

    def __init__(self, rules: list[CompiledRule], builder: Builder) -> None:
        self._rules = rules
        self._auto = builder.automaton()
        self._empty = not builder.forms
        self._slot_code = builder.slot_code
        self._adjective = [role == "adj" for role in builder.slot_role]
        self.slot_label = builder.slot_label
        by_slot: dict[int, list[int]] = {}
        gated: dict[int, list[int]] = {}
        for index, rule in enumerate(rules):
            for slot in rule.slots:
                (gated if rule.gated else by_slot).setdefault(slot, []).append(index)
        self._by_slot = {slot: tuple(ids) for slot, ids in by_slot.items()}
        self._gated = {slot: tuple(ids) for slot, ids in gated.items()}
        self._amb_slot = builder.amb_slot
        # regex-only rules have no form to trigger them: they are tried on every paragraph
        self._always = tuple(i for i, r in enumerate(rules) if not r.slots)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.spec.name for r in self._rules)

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        return tuple(self._rules)

    def scan(self, text: str) -> Hits:
        """Slot → spans of every form found in `text` (whole words; compounds also by parts)."""
        hits: Hits = {}
        if self._empty or not text:
            return hits
        low, offsets = normalize_text(text)
        size = len(low)
        places: list[tuple[int, int, str, int]] = []
        for end, (length, entries) in self._auto.iter(low):
            start = end - length + 1
            if (start > 0 and low[start - 1].isalnum()) or (end + 1 < size and low[end + 1].isalnum()):
                continue
            s, e = (start, end + 1) if offsets is None else (offsets[start], offsets[end] + 1)
            for slot, exact in entries:
                if exact and not _has_exact(text[s:e], exact):
                    continue
                code = self._slot_code[slot]
                if self._adjective[slot] and _LANGUAGE.match(text, e):
                    continue  # 'на испанском языке' is the language, not the country
                if code is None:
                    hits.setdefault(slot, []).append((s, e))
                else:
                    places.append((s, e, code, slot))
        for s, e, code, slot in places:
            # a name inside a longer name of another place does not count (Гвинея in Гвинея-Бисау,
            # Андорра in Андорра-ла-Велья, Америка in Латинская Америка)
            if code and not any(sl != slot and s2 <= s and e <= e2 and e2 - s2 > e - s
                                for s2, e2, _, sl in places):
                hits.setdefault(slot, []).append((s, e))
        return hits

    def match(self, title: str, paragraphs: Sequence[str], source: str | None = None) -> list[Match]:
        """One Match per (rule, block) that fires: the title is paragraph None, paragraphs count from 0.
        Ordered by rule (as compiled), then title first and paragraphs in order."""
        blocks: list[tuple[int | None, str]] = [(None, title), *enumerate(paragraphs)]
        scanned = [(index, text, self.scan(text)) for index, text in blocks]
        article = ArticleContext([(text, hits) for _, text, hits in scanned])
        found: list[tuple[int, int, Match]] = []
        for order, (index, text, hits) in enumerate(scanned):
            candidates = {i for slot in hits for i in self._by_slot.get(slot, ())}
            if self._amb_slot in hits:
                candidates.update(i for slot in hits for i in self._gated.get(slot, ()))
            memo: dict[object, list[Span]] = {}
            for i in sorted(candidates.union(self._always)):
                rule = self._rules[i]
                if rule.spec.sources and source not in rule.spec.sources:
                    continue
                fired = evaluate(rule, text, hits, article, memo)
                if fired is not None:
                    found.append((i, order, Match(rule.spec.name, index, text, fired)))
        # in rule order, then title and paragraphs in order (as the config lists the rules)
        return [m for _, _, m in sorted(found, key=lambda f: (f[0], f[1]))]


def _has_exact(found: str, exact: tuple[str, ...]) -> bool:
    if exact is CAPITALIZED:
        return any(c.isupper() for c in found)
    return all(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", found) for word in exact)


class ArticleContext:
    """What rules may look at beyond their paragraph: the hits of the whole article (scope = "article")
    and, for persons, whether bare surnames count in this article (see person_match.bare_allowed)."""

    def __init__(self, blocks: list[tuple[str, Hits]]) -> None:
        self.blocks = blocks
        self.hits: Hits = {}
        for _, hits in blocks:
            for slot, spans in hits.items():
                self.hits.setdefault(slot, []).extend(spans)
        self._bare: dict[object, bool] = {}

    def bare_ok(self, cond: Cond) -> bool:
        key = (cond.slots, cond.first_names, cond.initial)
        if key not in self._bare:
            self._bare[key] = bare_allowed(cond, [(t, h.get(cond.slots[0], [])) for t, h in self.blocks])
        return self._bare[key]


def evaluate(rule: CompiledRule, text: str, hits: Hits, article: ArticleContext,
             memo: dict[object, list[Span]] | None = None) -> tuple[Span, ...] | None:
    """The spans that make `rule` fire on this paragraph, or None when it does not. `memo` shares the
    result of identical keys between rules on one paragraph (many rules may watch the same country)."""
    spans: list[Span] = []
    for cond in rule.conds:
        bare = cond.kind != "person" or article.bare_ok(cond)
        if memo is None or cond.kind == "regex":
            found = cond_spans(cond, text, hits, bare)
        else:
            key = (cond.kind, cond.slots, cond.first_names, cond.initial)
            cached = memo.get(key)
            found = cached if cached is not None else memo.setdefault(key, cond_spans(cond, text, hits, bare))
        if not found:
            return None
        spans.extend(found)
    pool = article.hits if rule.spec.scope == "article" and rule.conds else hits
    if rule.any_slots:
        extra = [sp for slot in rule.any_slots for sp in pool.get(slot, ())]
        if not extra:
            return None
        spans.extend(sp for slot in rule.any_slots for sp in hits.get(slot, ()))
    if any(pool.get(slot) for slot in rule.none_slots):
        return None
    return _merge(spans) if spans else None


def cond_spans(cond: Cond, text: str, hits: Hits, bare_ok: bool = True) -> list[Span]:
    if cond.kind == "regex":
        assert cond.regex is not None
        return [m.span() for m in cond.regex.finditer(text[:REGEX_TEXT_CAP]) if m.end() > m.start()]
    if cond.kind == "person":
        return person_spans(cond, text, hits.get(cond.slots[0], []), bare_ok)
    if cond.kind == "ambassador":
        return ambassador_spans(cond, text, hits)
    return [sp for slot in cond.slots for sp in hits.get(slot, ())]


def ambassador_spans(cond: Cond, text: str, hits: Hits) -> list[Span]:
    posts = hits.get(cond.extra[0], [])
    places = [sp for slot in cond.slots for sp in hits.get(slot, ())]
    out: list[Span] = []
    for ps, pe in posts:
        for cs, ce in places:
            after = 0 <= cs - pe <= AMBASSADOR_WINDOW and _ambassador_gap(text[pe:cs])
            before = 0 <= ps - ce <= 2  # 'словенский посол'
            if after or before:
                out.append((min(ps, cs), max(pe, ce)))
    return out


def _ambassador_gap(gap: str) -> bool:
    """What may stand between 'посол' and the country: nothing ('послом Словении') or a few words
    ending in в/во/при ('Посол Республики Казахстан в Словении')."""
    words = _WORDS.findall(gap)
    if _SENTENCE_END.search(gap) or len(words) > 4:
        return False
    return not words or norm(words[-1]) in ("в", "во", "при")


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    out: list[list[int]] = []
    for s, e in sorted(set(spans)):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return tuple((s, e) for s, e in out)

