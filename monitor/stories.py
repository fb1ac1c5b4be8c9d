"""Which story an item belongs to. Exact duplicates never get here (content hash); this is the seam for
near-duplicates across sources (see dedup signatures). The default joins nothing: one item, one story."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.models import Article


class StoryIndex:
    async def find(self, session: AsyncSession, article: Article) -> int | None:
        """The id of an earlier story that says the same, or None."""
        return None

    async def remember(self, session: AsyncSession, article: Article, item_id: int, story_id: int) -> None:
        """Index the stored item so that later items can find its story."""
        return None
