"""The real pipeline against a real HTTP server on loopback and a real database migrated by Alembic."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from monitor.pipeline import run_source
from monitor.store.tables import ItemRow, MatchRow, OutboxRow, SourceRow
from tests.conftest import DEMO_DATA
from tests.servers.pages import PageServer, Route

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>"""
ITEM = ("<item><title>{title}</title><link>{link}</link><pubDate>Thu, 26 Nov 2026 09:00:00 +0500</pubDate>"
        "<description><![CDATA[{body}]]></description></item>")


def rss(*items: tuple[str, str, str]) -> bytes:
    return RSS.format(items="".join(ITEM.format(title=t, link=u, body=b) for t, u, b in items)).encode()


def config_for(pages: PageServer, *sources: str) -> str:
    blocks = "".join(
        f'[[sources]]\nname = "{s}"\nkind = "rss"\nurl = "{pages.url("/" + s)}"\n' for s in sources
    )
    return blocks + """
[[rules]]
name = "ОИС"
keyword = "ОИС"

[[recipients]]
name = "desk"
console = true
"""


async def count(rt: Any, model: Any) -> int:
    async with rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_poll_stores_matches_and_enqueues_once(pages: PageServer, runtime_factory: Any) -> None:
    body = "<p>Делегации ОИС провели встречу.</p><p>Другое.</p>"
    pages.routes["/a"] = Route(rss(("Встреча", "http://x/1", body), ("Погода", "http://x/2", "<p>Солнечно.</p>")))
    rt = await runtime_factory(config_for(pages, "a"))
    first = await run_source(rt, "a", force=True)
    assert (first.ok, first.new_items, first.matches, first.enqueued) == (True, 2, 1, 1)
    async with rt.sessions() as session:
        match = await session.scalar(select(MatchRow))
    assert match is not None and match.paragraph == 0 and match.snippet[slice(*match.spans[0])] == "ОИС"
    again = await run_source(rt, "a", force=True)
    assert (again.ok, again.new_items, again.enqueued) == (True, 0, 0)
    assert await count(rt, ItemRow) == 2 and await count(rt, OutboxRow) == 1


async def test_same_text_from_two_sources_is_stored_once(pages: PageServer, runtime_factory: Any) -> None:
    body = "<p>Делегации ОИС провели встречу в Джидде.</p>"
    pages.routes["/a"] = Route(rss(("Встреча", "http://a/1", body)))
    pages.routes["/b"] = Route(rss(("Другой заголовок", "http://b/1", body)))
    rt = await runtime_factory(config_for(pages, "a", "b"))
    assert (await run_source(rt, "a", force=True)).new_items == 1
    assert (await run_source(rt, "b", force=True)).new_items == 0
    assert await count(rt, OutboxRow) == 1


async def test_known_hash_survives_restart(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/a"] = Route(rss(("Встреча", "http://a/1", "<p>ОИС</p>")))
    rt = await runtime_factory(config_for(pages, "a"))
    await run_source(rt, "a", force=True)
    await rt.aclose()
    rt2 = await runtime_factory(config_for(pages, "a"))
    assert (await run_source(rt2, "a", force=True)).new_items == 0


async def test_faults_are_recorded_and_other_sources_go_on(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/ok"] = Route(rss(("Встреча", "http://ok/1", "<p>ОИС</p>")))
    pages.routes["/err"] = Route(b"boom", status=500)
    pages.routes["/bad"] = Route(b"<rss><channel><item>", headers={"Content-Type": "application/rss+xml"})
    pages.routes["/empty"] = Route(b"")
    body = "<ok>" + config_for(pages, "ok", "err", "bad", "empty", "gone")
    rt = await runtime_factory(body.replace("<ok>", "").replace(pages.url("/gone"), "http://127.0.0.1:9/gone"))
    results = {n: await run_source(rt, n, force=True) for n in ("err", "bad", "empty", "gone", "ok")}
    assert results["ok"].ok and results["ok"].new_items == 1
    for name in ("err", "bad", "empty", "gone"):
        assert not results[name].ok, name
    async with rt.sessions() as session:
        rows = {r.name: r for r in await session.scalars(select(SourceRow))}
    assert "HTTP 500" in (rows["err"].last_error or "")
    assert rows["gone"].consecutive_failures == 1 and rows["gone"].next_poll_at is not None
    assert rows["ok"].last_error is None and rows["ok"].consecutive_failures == 0


async def test_backoff_grows_and_is_capped(pages: PageServer, runtime_factory: Any) -> None:
    pages.routes["/err"] = Route(b"", status=503)
    rt = await runtime_factory(config_for(pages, "err") + '\n')
    gaps = []
    for _ in range(12):
        await run_source(rt, "err", force=True)
        async with rt.sessions() as session:
            row = await session.get(SourceRow, "err")
            assert row is not None and row.next_poll_at is not None and row.last_poll_at is not None
            gaps.append((row.next_poll_at - row.last_poll_at).total_seconds())
    assert gaps[0] == 600 and gaps[1] == 1200 and gaps[2] == 2400
    assert max(gaps) == 6 * 3600  # capped, never abandoned


async def test_html_listing_with_article_pages(pages: PageServer, runtime_factory: Any) -> None:
    for path in DEMO_DATA.glob("mfa-*.html"):
        pages.routes["/" + path.name] = Route(path.read_bytes())
    rt = await runtime_factory(f"""
[[sources]]
name = "mfa"
kind = "html"
url = "{pages.url('/mfa-news.html')}"
item = ".news-card"
link = "a.news-link"
article_body = ".news-body"
""")
    result = await run_source(rt, "mfa", force=True)
    assert result.ok and result.new_items == 9
    async with rt.sessions() as session:
        item = await session.scalar(select(ItemRow).where(ItemRow.url == pages.url("/mfa-2.html")))
    assert item is not None and item.title == "Новые контуры казахско-словенской экономической дипломатии"
    assert item.published_at is not None and item.published_at.utcoffset() is not None
    assert "Абибуллаев" in item.text and "Фото:" not in item.text and "Поделиться" not in item.text
    # second poll: the listing is known, article pages are not fetched again
    fetched_before = len(pages.hits)
    await run_source(rt, "mfa", force=True)
    assert len(pages.hits) == fetched_before + 1


async def test_cp1251_page_decodes(pages: PageServer, runtime_factory: Any) -> None:
    page = ('<html><head><meta charset="windows-1251"></head><body><h1>Заголовок</h1>'
            '<div class="b"><p>Посол ОИС</p></div></body></html>')
    listing = '<html><body><article><a href="/p1">Статья</a></article></body></html>'
    pages.routes["/list"] = Route(listing.encode())
    pages.routes["/p1"] = Route(page.encode("cp1251"), headers={"Content-Type": "text/html"})
    rt = await runtime_factory(f"""
[[sources]]
name = "cp"
kind = "html"
url = "{pages.url('/list')}"
article_body = ".b"
""")
    assert (await run_source(rt, "cp", force=True)).new_items == 1
    async with rt.sessions() as session:
        item = await session.scalar(select(ItemRow))
    assert item is not None and item.title == "Заголовок" and item.text == "Посол ОИС"
