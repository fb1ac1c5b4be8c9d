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

A poll's new articles are placed as one batch: one band query and one candidate query for all of them, then
the decisions in order (an article may join the story of one placed before it in the same poll), then one
multi-row insert each for bands and links. Per article, those statements cost ~7 round trips through
aiosqlite and SQLAlchemy, most of the store's time (bench_ingest).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import CompoundSelect, Integer, delete, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.models import Article
from monitor.signatures import BANDS, Unit, unit_bands, units
from monitor.store.queries import in_keys, insert_tuples_ignore
from monitor.store.tables import ItemRow, ParagraphStoryRow, StoryBandRow
from monitor.story_decide import DEFAULT_THRESHOLD, Candidate, Plan, decide

DEFAULT_WINDOW_S = 3 * 86400.0
FIRST_ID_TTL_S = 60.0
PREPARED_MAX = 10_000
MAX_CANDIDATES = 20  # earlier items verified per new item, the ones sharing most bands first
UNITS_CACHE = 2048  # stored items whose units are kept: ~5 KB each as code arrays (signatures.py), 10 MB in all
BAND_CHUNK = 10_000  # band keys per query (a poll of ~50 articles)
MAX_ARMS = 200  # articles per query: SQLite allows 500 terms in a compound SELECT

Known = tuple[list[Unit], dict[int, int], str]  # a stored item's units, paragraph links, content hash
Prepared = tuple[list[Unit], set[int]]  # a new article's units and band keys


class Batch:
    """One poll's new articles, placed into stories in order by place(). Until stored, the batch's own items
    and new stories have placeholder ids: item j of the batch is -(j + 1), the k-th new story -(k + 1)."""

    def __init__(self, articles: Sequence[Article], prepared: list[Prepared], hits: list[dict[int, int]],
                 stored: dict[int, Candidate], threshold: float) -> None:
        self.articles = articles
        self.units = [u for u, _ in prepared]
        self.bands = [b for _, b in prepared]
        self.hits = hits  # per article: stored item id -> bands shared, the best MAX_CANDIDATES
        self.stored = stored
        self.threshold = threshold
        self.stories: list[int] = []  # per placed article: its story (placeholder if new)
        self.plans: list[Plan] = []
        self.new_titles: list[str] = []  # the new stories' titles, in placeholder order
        self.final: list[int] = []  # per article: its story's id, once resolve() has the new stories' ids
        self.links: list[dict[int, int]] = []  # per article: paragraph -> story, where not the item's story
        self._owners: dict[int, list[int]] = {}  # band -> placed articles that have it

    def place(self, i: int, previous: tuple[int, int | None] | None) -> int:
        """Article i's story (articles are placed in order): the story of `previous`, the (version, story) of
        the newest stored version of its URL, if any; else the one decide() finds; else a new story."""
        if i != len(self.stories):
            raise ValueError(f"article {i} placed out of order")
        plan = decide(self.units[i], self._candidates(i), self.threshold)
        story = previous[1] if previous is not None else plan.story_id
        if story is None:
            self.new_titles.append(self.articles[i].title)
            story = -len(self.new_titles)
        self.stories.append(story)
        self.plans.append(plan)
        for band in self.bands[i]:
            self._owners.setdefault(band, []).append(i)
        return story

    def _candidates(self, i: int) -> list[Candidate]:
        """Stored items and items placed before i in this batch, most shared bands first."""
        shared = Counter(j for band in self.bands[i] for j in self._owners.get(band, ()))
        ranked = [(n, -(j + 1)) for j, n in shared.items()]
        ranked += [(n, item) for item, n in self.hits[i].items() if item in self.stored]
        # ties: the newest first (this poll's articles, then stored items by descending id), as the SQL ranks
        ranked.sort(key=lambda r: (-r[0], r[1] > 0, -abs(r[1])))
        return [self.stored[ref] if ref > 0 else self._placed(-ref - 1) for _, ref in ranked[:MAX_CANDIDATES]]

    def _placed(self, j: int) -> Candidate:
        story = self.stories[j]
        links = {p: s for p, s in self.plans[j].paragraphs.items() if s != story}
        return Candidate(-(j + 1), story, self.units[j], links)

    def resolve(self, new_story_ids: Sequence[int]) -> None:
        """Replace the placeholder stories with the ids the new stories got."""
        def real(story: int) -> int:
            return new_story_ids[-story - 1] if story < 0 else story

        self.final = [real(s) for s in self.stories]
        self.links = [{p: real(s) for p, s in sorted(plan.paragraphs.items()) if real(s) != final}
                      for plan, final in zip(self.plans, self.final, strict=True)]


async def _first_id_since(session: AsyncSession, since: datetime) -> int | None:
    """The first item fetched in the window (ids grow with fetch time). Ordered by fetched_at so that the
    index on it is used: `min(id) WHERE fetched_at >= ?` walks the ids from the oldest item (0.3 s at 1M)."""
    first: int | None = await session.scalar(
        select(ItemRow.id).where(ItemRow.fetched_at >= since).order_by(ItemRow.fetched_at, ItemRow.id).limit(1)
    )
    return first


class StoryIndex:
    """The SQL side: LSH bands in `story_bands`, links in `paragraph_stories`. Called by pipeline._insert_items
    inside the poll's transaction: lookup() before the item rows exist, remember() after."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self._known: OrderedDict[int, Known] = OrderedDict()  # see _load
        self._prepared: dict[str, Prepared] = {}  # content hash -> units, bands; see prepare
        self._first: tuple[datetime, int] | None = None  # (window start, its first item id), see _window_start

    def configure(self, threshold: float, window_s: float) -> None:
        self.threshold, self.window_s = threshold, window_s
        self._first = None

    async def _window_start(self, session: AsyncSession, now: datetime) -> int | None:
        """The first item id of the window, looked up once a minute, not per poll: a window up to a minute
        longer costs nothing."""
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
            self._prepared[article.content_hash] = _prepared(article)

    async def lookup(self, session: AsyncSession, articles: Sequence[Article], now: datetime | None = None) -> Batch:
        """The stored items that share bands with any of the articles, for Batch.place()."""
        prepared = [self._prepared.pop(a.content_hash) if a.content_hash in self._prepared else _prepared(a)
                    for a in articles]
        any_bands = any(bands for _, bands in prepared)
        first_id = await self._window_start(session, now or datetime.now(UTC)) if any_bands else None
        if first_id is None:
            return Batch(articles, prepared, [{} for _ in articles], {}, self.threshold)
        hits: list[dict[int, int]] = [{} for _ in articles]
        for chunk in _article_chunks(prepared):  # an article's keys are all in one chunk
            for i, item_id, shared in await session.execute(_best_candidates(session, chunk, first_id)):
                hits[i][item_id] = shared
        stored = await self._stored(session, sorted({item for h in hits for item in h}))
        return Batch(articles, prepared, hits, stored, self.threshold)

    async def _stored(self, session: AsyncSession, ids: list[int]) -> dict[int, Candidate]:
        if not ids:
            return {}
        known = {i: self._known[i] for i in ids if i in self._known}  # before any await: others may evict
        for i in known:
            self._known.move_to_end(i)
        # The story of every candidate, always read: a story may be gone (retention) while an item is cached.
        # The content hash too: after a rolled-back poll SQLite gives its ids to other items.
        rows = list(await session.execute(select(ItemRow.id, ItemRow.story_id, ItemRow.content_hash)
                                          .where(in_keys(session, ItemRow.id, ids))))
        stories = {item_id: story for item_id, story, _ in rows if story is not None}
        stale = {item_id for item_id, _, digest in rows if item_id in known and known[item_id][2] != digest}
        missing = [i for i in ids if i in stories and (i not in known or i in stale)]
        if missing:
            known |= await self._load(session, missing)
        return {i: Candidate(i, stories[i], *known[i][:2]) for i in ids if i in stories and i in known}

    async def remember(self, session: AsyncSession, batch: Batch, item_ids: Sequence[int]) -> None:
        """Index the batch's stored items so later items can find them; keep their paragraphs' links to other
        stories (batch.links: batch.resolve() first)."""
        # in key order: consecutive rows land on neighbouring pages of the primary key's b-tree
        bands = sorted((b, item) for item, item_bands in zip(item_ids, batch.bands, strict=True) for b in item_bands)
        if bands:
            await insert_tuples_ignore(session, StoryBandRow.__tablename__, ("band", "item_id"), bands)
        links = [(item, p, s) for item, item_links in zip(item_ids, batch.links, strict=True)
                 for p, s in item_links.items()]
        if links:
            await insert_tuples_ignore(session, ParagraphStoryRow.__tablename__, ("item_id", "paragraph", "story_id"),
                                       links)
        # the next polls' candidates are mostly the latest items: cache them now rather than load them later
        for item, item_units, item_links, article in zip(item_ids, batch.units, batch.links, batch.articles,
                                                          strict=True):
            self._known[item] = ([Unit(u.index, u.feats) for u in item_units], item_links, article.content_hash)
        self._trim()

    def _trim(self) -> None:
        while len(self._known) > UNITS_CACHE:
            self._known.popitem(last=False)

    async def _load(self, session: AsyncSession, ids: list[int]) -> dict[int, Known]:
        """Units and paragraph links of stored items, cached (neither changes once stored: a new version is a
        new item). The items of the window come up as candidates again and again."""
        links: dict[int, dict[int, int]] = {}
        for item_id, paragraph, story in await session.execute(
            select(ParagraphStoryRow.item_id, ParagraphStoryRow.paragraph, ParagraphStoryRow.story_id)
            .where(in_keys(session, ParagraphStoryRow.item_id, ids))
        ):
            links.setdefault(item_id, {})[paragraph] = story
        loaded = {}
        for item_id, title, text, digest in await session.execute(
            select(ItemRow.id, ItemRow.title, ItemRow.text, ItemRow.content_hash)
            .where(in_keys(session, ItemRow.id, ids))
        ):
            loaded[item_id] = self._known[item_id] = (units(title, tuple(text.split("\n")), bands=False),
                                                      links.get(item_id, {}), digest)
        self._trim()
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


def _article_chunks(prepared: list[Prepared]) -> Iterator[list[tuple[int, list[int]]]]:
    """(article, its band keys), as many articles per query as stay under BAND_CHUNK keys and MAX_ARMS."""
    chunk: list[tuple[int, list[int]]] = []
    size = 0
    for i, (_, bands) in enumerate(prepared):
        if not bands:
            continue
        if chunk and (size + len(bands) > BAND_CHUNK or len(chunk) == MAX_ARMS):
            yield chunk
            chunk, size = [], 0
        keys = sorted(bands)[:BAND_CHUNK]  # hundreds of paragraphs: the first BAND_CHUNK keys only
        chunk.append((i, keys))
        size += len(keys)
    if chunk:
        yield chunk


def _best_candidates(session: AsyncSession, chunk: list[tuple[int, list[int]]],
                     first_id: int) -> CompoundSelect[int, int, int]:
    """(article, stored item, bands shared) for the MAX_CANDIDATES items sharing most bands with each article,
    one arm per article in one statement. Counted and ranked in SQL: a band of a paragraph that many stored
    items quote has as many rows (100,000 for one poll in bench_memory's corpus). The keys are one parameter
    per arm (queries.in_keys): one statement text per number of articles, compiled once (a VALUES list of
    pairs compiled afresh every time cost more than the query)."""
    hits = func.count().label("hits")
    arms = [select(literal(i, Integer).label("article"), StoryBandRow.item_id, hits)
            .where(in_keys(session, StoryBandRow.band, keys), StoryBandRow.item_id >= first_id)
            .group_by(StoryBandRow.item_id).order_by(hits.desc(), StoryBandRow.item_id.desc()).limit(MAX_CANDIDATES)
            .subquery().select() for i, keys in chunk]
    return union_all(*arms)


def _prepared(article: Article) -> Prepared:
    new = units(article.title, article.paragraphs)
    return new, {b for u in new for b in unit_bands(u)}
