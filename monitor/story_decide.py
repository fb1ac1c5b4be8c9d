"""The decision, pure (no I/O): which earlier story a new item, and each of its paragraphs, joins, given the
earlier items that share LSH bands with it (stories.py finds those). The rules are in stories.py's docstring."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from monitor.signatures import WHOLE, Unit

DEFAULT_THRESHOLD = 0.55
LOCAL_MARGIN = 0.1  # a paragraph scoring within this of the whole item carries the story on its own
CONTINUATION = 0.5  # share of the threshold a paragraph right after a linked one needs
DIGEST_COVERAGE = 0.2  # an earlier text covering less of the new item than this may be one of its items
SIZE_RATIO = 8.0  # units compared only within this size factor (a digest paragraph vs the article it condenses)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier item as the decision sees it."""

    item_id: int
    story_id: int
    units: list[Unit]
    paragraph_story: dict[int, int] = field(default_factory=dict)  # paragraph -> story, where not story_id

    def story_of(self, index: int) -> int:
        return self.story_id if index == WHOLE else self.paragraph_story.get(index, self.story_id)


@dataclass(frozen=True, slots=True)
class Plan:
    story_id: int | None  # the item's story; None: a new one
    paragraphs: dict[int, int]  # paragraph -> story, for paragraphs that join another story than the item's
    score: float = 0.0


class Overlaps:
    """Every new unit against every unit of the candidates: |A∩B| for all pairs in a few array operations.
    (Set intersections pair by pair cost 2.7 ms per article with 20 candidates; this, 0.3 ms.)"""

    def __init__(self, new: list[Unit], candidates: list[Candidate]) -> None:
        self.others = [(cand.story_of(u.index), u) for cand in candidates for u in cand.units]
        self.index = {u.index: j for j, u in enumerate(new)}
        self.sizes = np.array([len(u.feats) for _, u in self.others], dtype=np.int64)
        self.new_sizes = np.array([len(u.feats) for u in new], dtype=np.int64)
        self.common = np.zeros((len(new), len(self.others)), dtype=np.int64)
        if not new or not self.others:
            return
        uniq, inverse = np.unique(np.concatenate([u.feats for u in new]), return_inverse=True)
        member = np.zeros((len(uniq), len(new)), dtype=np.int64)  # feature → which new units have it
        member[inverse, np.repeat(np.arange(len(new)), self.new_sizes)] = 1
        earlier = np.concatenate([u.feats for _, u in self.others])
        at = np.minimum(np.searchsorted(uniq, earlier), len(uniq) - 1)
        hit = uniq[at] == earlier
        owner = np.repeat(np.arange(len(self.others)), self.sizes)[hit]  # sorted: units are concatenated in order
        running = np.vstack((np.zeros((1, len(new)), dtype=np.int64), np.cumsum(member[at[hit]], axis=0)))
        bounds = np.searchsorted(owner, np.arange(len(self.others) + 1))
        self.common = (running[bounds[1:]] - running[bounds[:-1]]).T

    def pairs(self, unit: Unit, threshold: float) -> list[tuple[float, int, int]]:
        """(score, story, earlier unit's position in `others`) of every earlier unit that says what `unit`
        says, best first."""
        j = self.index[unit.index]
        small = np.minimum(self.sizes, self.new_sizes[j])
        # a short paragraph "contained" in a whole digest's vocabulary is noise: sizes within SIZE_RATIO only
        comparable = np.maximum(self.sizes, self.new_sizes[j]) <= SIZE_RATIO * small
        scores = self.common[j] / np.maximum(small, 1)
        found = [(float(scores[k]), self.others[k][0], int(k))
                 for k in np.flatnonzero(comparable & (scores >= threshold))]
        # a tie: the paragraph is more specific than the whole
        found.sort(key=lambda f: (-round(f[0], 2), self.others[f[2]][1].index == WHOLE))
        return found

    def covered(self, unit: Unit, other: int) -> float:
        """The share of `unit` that the earlier unit says too."""
        j = self.index[unit.index]
        return float(self.common[j, other]) / max(1, int(self.new_sizes[j]))


def _digest_like(story: int, score: float, links: dict[int, tuple[int, float]], paragraphs: list[int]) -> bool:
    """True when one paragraph or two carry the story about as well as the whole item does, among other
    paragraphs, and not the lead: one item of a digest. An article that elaborates an earlier short text says
    it across paragraphs (each alone matches less than the whole) or from its lead."""
    linked = [p for p, (s, sc) in links.items() if s == story and sc >= score - LOCAL_MARGIN]
    if not linked or not paragraphs:
        return False
    return paragraphs[0] not in linked and 2 * len(linked) < len(paragraphs)


def decide(new: list[Unit], candidates: list[Candidate], threshold: float) -> Plan:
    """The pure decision (no I/O): which earlier story the new item and its paragraphs join."""
    if not candidates:
        return Plan(None, {})
    table = Overlaps(new, candidates)
    links: dict[int, tuple[int, float]] = {}  # paragraph -> (story, score)
    for unit in new:
        if unit.index != WHOLE and (found := table.pairs(unit, threshold)):
            links[unit.index] = (found[0][1], found[0][0])
    paragraphs = [u.index for u in new if u.index != WHOLE]
    for prev, unit in itertools.pairwise(new):
        # a paragraph that goes on about the event of the linked one before it ("Одним из ключевых блоков
        # встречи стало ...") shares less with the original than the first one: a lower bar, same story
        if unit.index not in links and prev.index in links and unit.index != WHOLE:
            story = links[prev.index][0]
            weaker = [f for f in table.pairs(unit, threshold * CONTINUATION) if f[1] == story]
            if weaker:
                links[unit.index] = (story, weaker[0][0])
    whole = next((u for u in new if u.index == WHOLE), None)
    if whole is not None:
        for score, story, other in table.pairs(whole, threshold):
            if table.covered(whole, other) < DIGEST_COVERAGE and _digest_like(story, score, links, paragraphs):
                continue  # the new item carries that story in a paragraph among others: linked per paragraph
            # paragraphs that the earlier version carried as other stories (a digest's meetings) stay there
            explicit = {s for c in candidates for s in c.paragraph_story.values()}
            return Plan(story, {p: s for p, (s, _) in links.items() if s != story and s in explicit}, score)
    stories = {s for s, _ in links.values()}
    if paragraphs and paragraphs[0] in links and len(stories) == 1:
        return Plan(links[paragraphs[0]][0], {}, links[paragraphs[0]][1])  # the lead says what it is about
    return Plan(None, {p: s for p, (s, _) in links.items()}, max((sc for _, sc in links.values()), default=0.0))
