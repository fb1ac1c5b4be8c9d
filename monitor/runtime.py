"""Everything a running pipeline needs, built once per config (and rebuilt on reload)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from monitor.config import Config, SourceConfig
from monitor.events import Events
from monitor.fetch import Fetcher, FetchPolicy
from monitor.leases import Leases
from monitor.rules import Matcher, compile_rules, formstore
from monitor.rules.morph import release_compile_caches
from monitor.sources import Source, build_source
from monitor.store.db import is_sqlite, make_engine, sessionmaker
from monitor.store.queries import insert_ignore
from monitor.store.tables import RecipientRow, SourceRow
from monitor.stories import StoryIndex

log = logging.getLogger(__name__)
MAX_CONCURRENT_POLLS = 32


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: Config
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    matcher: Matcher
    sources: dict[str, Source]
    source_configs: dict[str, SourceConfig]
    clock: Callable[[], datetime] = _now
    poll_timeout_s: float = 120.0
    leases: Leases = field(default_factory=Leases)
    stories: StoryIndex = field(default_factory=StoryIndex)
    events: Events = field(default_factory=Events)
    # Polls running at once (run_source waits for a slot). 1,000 sources all due at start-up, unbounded,
    # queued for the 15 pooled database connections and SQLite's one writer until polls failed on the 30 s
    # pool and busy timeouts (bench/bench_memory.py); this many keeps a round fast and the queue short.
    poll_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(MAX_CONCURRENT_POLLS))
    # A poll's write transactions take turns here on SQLite (one writer at a time anyway). Left to SQLite, a
    # waiting writer sleeps in its busy handler and wakes up to 100 ms after the lock is free: 300 sources'
    # first round spent 134 s (summed) waiting on three statements; 36 s wall. PostgreSQL: no lock.
    poll_writes: AbstractAsyncContextManager[object] = field(default_factory=contextlib.nullcontext)

    def recipients_for(self, rule: str) -> list[str]:
        return [r.name for r in self.config.recipients if "*" in r.rules or rule in r.rules]

    def apply_config(self, config: Config) -> None:
        """Swap sources, rules and recipients in place (hot reload); the database stays."""
        self.config = config
        self.stories.configure(config.dedup.story_threshold, config.dedup.story_window)
        self.leases.lease_s = config.daemon.lease
        self.matcher = compile_rules(config.rules)
        release_compile_caches()
        enabled = [s for s in config.sources if s.enabled]
        self.sources = {s.name: build_source(s) for s in enabled}
        self.source_configs = {s.name: s for s in enabled}
        for s in enabled:
            if s.insecure:
                log.warning("source=%s TLS VERIFICATION IS OFF (insecure = true): answers can be forged", s.name)

    async def sync_rows(self) -> None:
        """Make sure every configured source and recipient has its row (idempotent, safe on many nodes)."""
        async with self.sessions() as session, session.begin():
            names = [{"name": s, "consecutive_failures": 0, "first_poll_done": False, "last_items_seen": 0}
                     for s in self.sources]
            if names:
                await session.execute(insert_ignore(session, SourceRow.__table__), names)
            people = [{"name": r.name} for r in self.config.recipients]
            if people:
                await session.execute(insert_ignore(session, RecipientRow.__table__), people)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.engine.dispose()


async def build_runtime(config: Config, *, fetcher: Fetcher | None = None,
                        clock: Callable[[], datetime] | None = None) -> Runtime:
    """Migrate the database, then build the runtime. The caller owns aclose()."""
    from monitor.store.db import upgrade

    await upgrade(config.daemon.database)
    engine = make_engine(config.daemon.database)
    fetcher = fetcher or Fetcher(FetchPolicy.from_daemon(config.daemon))
    runtime = Runtime(
        config=config, engine=engine, sessions=sessionmaker(engine), fetcher=fetcher,
        matcher=compile_rules(()), sources={}, source_configs={}, clock=clock or _now,
        poll_writes=asyncio.Lock() if is_sqlite(config.daemon.database) else contextlib.nullcontext(),
    )
    if config.daemon.node_id:
        runtime.leases.node_id = config.daemon.node_id
    async with formstore.recording(runtime.sessions):  # the forms the last start worked out
        runtime.apply_config(config)
    await runtime.sync_rows()
    return runtime
