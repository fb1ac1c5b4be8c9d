"""Resource bounds against a real server on loopback: hostile or broken sources cost bounded memory and time,
and the daemon goes on polling the others.

The bound: one response is never held beyond the 10 MB cap (FetchPolicy.max_bytes) after decompression, plus
its parse; a poll never outlives Runtime.poll_timeout_s (120 s; per read, httpx's 20 s timeout)."""

from __future__ import annotations

import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from monitor.errors import FetchError
from monitor.fetch import DEFAULT_MAX_BYTES, Fetcher, FetchPolicy
from monitor.pipeline import run_source
from monitor.store.tables import ItemRow, MatchRow, SourceRow
from tests.servers.pages import PageServer, Route
from tests.test_pipeline import rss

MB = 1024 * 1024
# What one capped fetch may hold at its peak: the 10 MB of chunks, their join, and one network read.
MEMORY_BOUND = 2 * DEFAULT_MAX_BYTES + 8 * MB


def zeros(total: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    block = b"0" * chunk
    for _ in range(total // chunk):
        yield block


def forever() -> Iterator[bytes]:
    block = b"<p>" + b"a" * 65536 + b"</p>"
    while True:
        yield block


def gzip_bomb(inflated_mb: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * MB
    return b"".join([packer.compress(block) for _ in range(inflated_mb)] + [packer.flush()])


async def peak_of_failing_fetch(url: str) -> tuple[str, int]:
    tracemalloc.start()
    try:
        async with Fetcher() as fetcher:
            with pytest.raises(FetchError) as info:
                await fetcher.get(url)
        return str(info.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_endless_body_is_cut_at_the_cap(pages: PageServer) -> None:
    pages.routes["/forever"] = Route(stream=forever)
    message, peak = await peak_of_failing_fetch(pages.url("/forever"))
    assert "too large" in message
    assert peak < MEMORY_BOUND


async def test_gigabyte_body_is_streamed_never_held(pages: PageServer) -> None:
    pages.routes["/gb"] = Route(stream=lambda: zeros(1024 * MB))  # chunked: no length to refuse it early
    message, peak = await peak_of_failing_fetch(pages.url("/gb"))
    assert "too large" in message and peak < MEMORY_BOUND
    pages.routes["/gb-declared"] = Route(stream=lambda: zeros(1024 * MB), length=1024 * MB)
    message, peak = await peak_of_failing_fetch(pages.url("/gb-declared"))
    assert "too large" in message and peak < MEMORY_BOUND


async def test_gzip_bomb_is_stopped_before_it_inflates(pages: PageServer) -> None:
    bomb = gzip_bomb(300)  # 300 MB of zeros in about 300 KB
    pages.routes["/bomb"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    message, peak = await peak_of_failing_fetch(pages.url("/bomb"))
    assert "too large" in message
    assert peak < MEMORY_BOUND  # httpx's own decoder peaked at ~150 MB on a 1 GB bomb


async def test_small_gzip_and_deflate_bodies_still_decode(pages: PageServer) -> None:
    text = "Посол Казахстана в Словении".encode() * 1000
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    pages.routes["/gz"] = Route(text, gzip=True)
    pages.routes["/deflate"] = Route(zlib.compress(text), headers={"Content-Encoding": "deflate"})
    pages.routes["/raw-deflate"] = Route(raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})
    async with Fetcher() as fetcher:
        for path in ("/gz", "/deflate", "/raw-deflate"):
            assert (await fetcher.get(pages.url(path))).content == text, path


def source_block(pages: PageServer, name: str, path: str, kind: str = "rss", extra: str = "") -> str:
    return f'[[sources]]\nname = "{name}"\nkind = "{kind}"\nurl = "{pages.url(path)}"\n{extra}\n'


RULES = '[[rules]]\nname = "slovenia"\nkeyword = "Словения"\n\n[[recipients]]\nname = "desk"\nconsole = true\n'


async def test_slow_loris_poll_ends_at_the_poll_timeout_and_others_go_on(
        pages: PageServer, runtime_factory: Any) -> None:
    # One byte per second never trips a per-read timeout: only the poll deadline ends it.
    pages.routes["/loris"] = Route(stream=lambda: iter([b"<"] * 10_000), chunk_delay_s=1.0)
    pages.routes["/good"] = Route(rss(("Словения и Казахстан", "http://x/1", "<p>Словения</p>")))
    rt = await runtime_factory(source_block(pages, "loris", "/loris") + source_block(pages, "good", "/good")
                               + RULES)
    rt.poll_timeout_s = 2.0
    slow = await run_source(rt, "loris", force=True)
    assert not slow.ok and slow.error is not None and "poll took longer than 2s" in slow.error
    good = await run_source(rt, "good", force=True)
    assert good.ok and good.enqueued == 1
    async with rt.sessions() as session:
        row = await session.get(SourceRow, "loris")
    assert row is not None and row.consecutive_failures == 1 and row.next_poll_at is not None


async def test_listing_with_100k_links_fetches_only_max_items(pages: PageServer, runtime_factory: Any) -> None:
    links = "".join(f'<article><a href="/n/{i}">Новость {i}</a></article>' for i in range(100_000))
    pages.routes["/list"] = Route(f"<html><body>{links}</body></html>".encode())
    for i in range(5):
        pages.routes[f"/n/{i}"] = Route(f"<html><body><h1>Новость {i}</h1><p>Словения {i}</p></body></html>"
                                        .encode())
    rt = await runtime_factory(source_block(pages, "big", "/list", "html", "max_items = 5") + RULES)
    result = await run_source(rt, "big", force=True)
    assert result.ok and result.new_items == 5 and result.enqueued == 5
    assert sum(1 for h in pages.hits if h.path.startswith("/n/")) == 5


async def test_one_megabyte_paragraph_is_stored_and_matched(pages: PageServer, runtime_factory: Any) -> None:
    words = ("слово " * 180_000)[: MB - 100]
    paragraph = f"{words} Словения {words[:1000]}"
    pages.routes["/big"] = Route(rss(("Длинный текст", "http://x/long", f"<p>{paragraph}</p>")))
    rt = await runtime_factory(source_block(pages, "long", "/big") + RULES)
    result = await run_source(rt, "long", force=True)
    assert result.ok and result.matches == 1 and result.enqueued == 1
    async with rt.sessions() as session:
        item = await session.scalar(select(ItemRow))
        match = await session.scalar(select(MatchRow))
    assert item is not None and len(item.text) > MB - 200
    assert match is not None and match.snippet[slice(*match.spans[0])] == "Словения"


async def test_a_server_that_stalls_is_cut_by_the_per_request_timeout(pages: PageServer) -> None:
    def stall() -> Iterator[bytes]:
        yield b"<html><body><p>"
        time.sleep(5)  # then nothing: no byte for longer than the read timeout
        yield b"</p></body></html>"

    pages.routes["/stall"] = Route(stream=stall)
    async with Fetcher(FetchPolicy(timeout_s=0.5, retries=0)) as fetcher:
        with pytest.raises(FetchError, match="timeout"):
            await fetcher.get(pages.url("/stall"))
