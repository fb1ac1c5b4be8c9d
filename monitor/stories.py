"""Which story an item, and each of its paragraphs, belongs to (near-duplicates across sources).

Exact duplicates never get here (content hash). For the rest: every stored item is cut into units (the whole
text and every paragraph long enough to carry an event, see signatures.py); each unit's MinHash bands go into
`story_bands`, indexed by band key, so a new item finds the earlier items that share a band with any of its
units without scanning the store. Those few candidates are then compared exactly (feature overlap):

- the whole new item joins an earlier story when its text is (nearly) contained in an earlier unit of at
  least comparable size: a copy or rewrite of an article, a short summary of it, a new version of it;
- otherwise each paragraph on its own joins the story of the earlier unit that contains it: one paragraph of
  a kt.kz digest joins the MFA article it condenses; the digest as a whole stays a story of its own;
- a new item whose lead paragraph joins story X, and no paragraph another story, is about X as a whole
  (the MFA article arriving after the digest paragraph that condensed it).

Paragraph links that differ from the item's story are kept in `paragraph_stories`; pipeline._record_matches
enqueues each match under the story of its paragraph, so the Slovenia alert from a digest is the Slovenia
story's alert. Band rows are only needed for `story_window` (older items are not candidates) and are pruned.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.models import Article
from monitor.signatures import BANDS, WHOLE, Unit, unit_bands, units
from monitor.store.queries import insert_ignore
from monitor.store.tables import ItemRow, ParagraphStoryRow, StoryBandRow

DEFAULT_THRESHOLD = 0.55
DEFAULT_WINDOW_S = 3 * 86400.0
FIRST_ID_TTL_S = 60.0
PREPARED_MAX = 10_000
MAX_CANDIDATES = 20  # earlier items verified per new item, the ones sharing most bands first
UNITS_CACHE = 2048  # stored items whose units are kept: ~5 KB each as code arrays (signatures.py), 10 MB in all
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


Known = tuple[list[Unit], dict[int, int], str]  # a stored item's units, paragraph links, content hash


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


async def _first_id_since(session: AsyncSession, since: datetime) -> int | None:
    """The first item fetched in the window (ids grow with fetch time). Ordered by fetched_at so that the
    index on it is used: `min(id) WHERE fetched_at >= ?` walks the ids from the oldest item (0.3 s at 1M)."""
    first: int | None = await session.scalar(
        select(ItemRow.id).where(ItemRow.fetched_at >= since).order_by(ItemRow.fetched_at, ItemRow.id).limit(1)
    )
    return first


class StoryIndex:
    """The SQL side: LSH bands in `story_bands`, links in `paragraph_stories`. Called by
    pipeline._insert_item inside the poll's transaction: find() before the item row exists, remember() after."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.threshold = threshold
        self.window_s = window_s
        # find() works out the whole plan; remember() stores it. Keyed by content hash, since polls of
        # several sources interleave on the event loop.
        self._pending: dict[str, tuple[set[int], Plan]] = {}
        self._known: OrderedDict[int, Known] = OrderedDict()  # see _load
        self._prepared: dict[str, tuple[list[Unit], set[int]]] = {}  # content hash -> units, bands; see prepare
        self._first: tuple[datetime, int] | None = None  # (window start, its first item id), see _window_start

    def configure(self, threshold: float, window_s: float) -> None:
        self.threshold, self.window_s = threshold, window_s
        self._first = None

    async def _window_start(self, session: AsyncSession, now: datetime) -> int | None:
        """The first item id of the window, looked up once a minute, not per new item: a window up to a
        minute longer costs nothing, a query per item 0.2 ms."""
        since = now - timedelta(seconds=self.window_s)
        if self._first is not None and abs((since - self._first[0]).total_seconds()) < FIRST_ID_TTL_S:
            return self._first[1]
        first = await _first_id_since(session, since)
        if first is not None:
            self._first = (since, first)
        return first

    def prepare(self, articles: list[Article]) -> None:
        """Work out the new articles' units and band keys ahead (CPU only): pipeline._store calls this before
        its write transaction, so that the transaction, which polls take in turns, is shorter."""
        if len(self._prepared) > PREPARED_MAX:  # left over from transactions that failed
            self._prepared.clear()
        for article in articles:
            new = units(article.title, article.paragraphs)
            self._prepared[article.content_hash] = (new, {b for u in new for b in unit_bands(u)})

    async def find(self, session: AsyncSession, article: Article, now: datetime | None = None) -> int | None:
        """The id of an earlier story that says the same as the whole article, or None."""
        bands, plan = await self._plan(session, article, now)
        self._pending[article.content_hash] = (bands, plan)
        return plan.story_id

    async def remember(self, session: AsyncSession, article: Article, item_id: int, story_id: int,
                       now: datetime | None = None) -> dict[int, int]:
        """Index the stored item so later items can find it; keep its paragraphs' links to other stories.
        Returns those links (paragraph -> story, where not the item's story)."""
        pending = self._pending.pop(article.content_hash, None)
        if pending is None:  # a new version of a known URL: find() was not asked, links are still wanted
            pending = await self._plan(session, article, now)
        bands, plan = pending
        if bands:
            await session.execute(insert_ignore(session, StoryBandRow.__table__),
                                  [{"band": b, "item_id": item_id} for b in bands])
        links = {p: s for p, s in sorted(plan.paragraphs.items()) if s != story_id}
        if links:
            await session.execute(insert_ignore(session, ParagraphStoryRow.__table__),
                                  [{"item_id": item_id, "paragraph": p, "story_id": s} for p, s in links.items()])
        return links

    async def _plan(self, session: AsyncSession, article: Article,
                    now: datetime | None) -> tuple[set[int], Plan]:
        prepared = self._prepared.pop(article.content_hash, None)
        if prepared is None:
            new = units(article.title, article.paragraphs)
            prepared = new, {b for u in new for b in unit_bands(u)}
        new, bands = prepared
        if not bands:
            return bands, Plan(None, {})
        first_id = await self._window_start(session, now or datetime.now(UTC))
        if first_id is None:
            return bands, Plan(None, {})
        hits = func.count().label("hits")
        found = list(await session.execute(
            select(StoryBandRow.item_id, hits)
            .where(StoryBandRow.band.in_(sorted(bands)), StoryBandRow.item_id >= first_id)
            .group_by(StoryBandRow.item_id).order_by(hits.desc()).limit(MAX_CANDIDATES)
        ))
        if not found:
            return bands, Plan(None, {})
        ids = [item_id for item_id, _ in found]
        known = {i: self._known[i] for i in ids if i in self._known}  # before any await: others may evict
        for i in known:
            self._known.move_to_end(i)
        # The story of every candidate, always read: a story may be gone (retention) while an item is cached.
        # The content hash too: after a rolled-back poll SQLite gives its ids to other items.
        rows = list(await session.execute(select(ItemRow.id, ItemRow.story_id, ItemRow.content_hash)
                                          .where(ItemRow.id.in_(ids))))
        stories = {item_id: story for item_id, story, _ in rows if story is not None}
        stale = {item_id for item_id, _, digest in rows if item_id in known and known[item_id][2] != digest}
        missing = [i for i in ids if i in stories and (i not in known or i in stale)]
        if missing:
            known |= await self._load(session, missing)
        candidates = [Candidate(i, stories[i], *known[i][:2]) for i in ids if i in stories and i in known]
        return bands, decide(new, candidates, self.threshold)

    async def _load(self, session: AsyncSession, ids: list[int]) -> dict[int, Known]:
        """Units and paragraph links of stored items, cached (neither changes once stored: a new version is a
        new item). The items of the window come up as candidates again and again."""
        links: dict[int, dict[int, int]] = {}
        for item_id, paragraph, story in await session.execute(
            select(ParagraphStoryRow.item_id, ParagraphStoryRow.paragraph, ParagraphStoryRow.story_id)
            .where(ParagraphStoryRow.item_id.in_(ids))
        ):
            links.setdefault(item_id, {})[paragraph] = story
        loaded = {}
        for item_id, title, text, digest in await session.execute(
            select(ItemRow.id, ItemRow.title, ItemRow.text, ItemRow.content_hash).where(ItemRow.id.in_(ids))
        ):
            loaded[item_id] = self._known[item_id] = (units(title, tuple(text.split("\n")), bands=False),
                                                      links.get(item_id, {}), digest)
        while len(self._known) > UNITS_CACHE:
            self._known.popitem(last=False)
        return loaded

    async def prune_bands(self, session: AsyncSession, now: datetime, batch: int) -> int:
        """Delete up to `batch` band rows of items older than the window (they are never candidates)."""
        since = now - timedelta(seconds=self.window_s)
        first_id = await _first_id_since(session, since)
        if first_id is None:
            first_id = (await session.scalar(select(func.max(ItemRow.id))) or 0) + 1
        victims = select(StoryBandRow.item_id).where(StoryBandRow.item_id < first_id).distinct().limit(
            max(1, batch // BANDS))
        result = await session.execute(delete(StoryBandRow).where(StoryBandRow.item_id.in_(victims)))
        return int(getattr(result, "rowcount", 0) or 0)
