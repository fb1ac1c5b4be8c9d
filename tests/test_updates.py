"""Updated articles (same URL, new text) through the real pipeline and a real HTTP server: a new version of the
same item in the same story, and an alert only for rules that newly match."""

from __future__ import annotations

import io
from html import escape
from typing import Any

from sqlalchemy import select

from bench.eval_stories import corpus
from monitor.channels.console import ConsoleChannel
from monitor.digest import DeliveryResult, deliver_due
from monitor.pipeline import run_source
from monitor.store.tables import ItemRow, OutboxRow
from tests.servers.pages import PageServer, Route
from tests.test_stories import rss

DOCS = {d.id: d for d in corpus()}
KT004 = DOCS["kt-004"]  # "МИД Казахстана. Внешняя политика Дополнено": a digest kt.kz updated in place
TITLE = "МИД Казахстана. Внешняя политика"
RULES = """
[[rules]]
name = "iran"
regex = "иран"

[[rules]]
name = "armenia"
regex = "армени"

[[rules]]
name = "slovenia"
regex = "словени|словенск"

[[recipients]]
name = "desk"
console = true
"""


def listing(title: str) -> bytes:
    return f'<html><body><article><a href="/kt/a1">{escape(title)}</a></article></body></html>'.encode()


def page(title: str, paragraphs: tuple[str, ...]) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f'<html><body><h1>{escape(title)}</h1><div class="c">{body}</div></body></html>'.encode()


async def items(rt: Any) -> list[ItemRow]:
    async with rt.sessions() as session:
        return list(await session.scalars(select(ItemRow).order_by(ItemRow.id)))


async def rules_enqueued(rt: Any) -> list[str]:
    async with rt.sessions() as session:
        return list(await session.scalars(select(OutboxRow.rule).order_by(OutboxRow.id)))


async def deliver(rt: Any, stream: io.StringIO) -> int:
    result = await deliver_due(rt, ConsoleChannel(stream), rt.config.recipient("desk"))
    assert isinstance(result, DeliveryResult)
    return result.sent


async def test_html_article_marked_updated_is_a_new_version(pages: PageServer, runtime_factory: Any) -> None:
    first = KT004.paragraphs[:8]  # Bakaev on Iran; Armenia comes in the update
    assert not any("Армени" in p for p in first) and any("Армени" in p for p in KT004.paragraphs)
    pages.routes["/list"] = Route(listing(TITLE))
    pages.routes["/kt/a1"] = Route(page(TITLE, first))
    rt = await runtime_factory(f'[[sources]]\nname = "kt"\nkind = "html"\nurl = "{pages.url("/list")}"\n'
                               f'article_body = ".c"\n' + RULES)
    assert (await run_source(rt, "kt", force=True)).enqueued == 1
    stream = io.StringIO()
    assert await deliver(rt, stream) == 1
    # unchanged listing: the known page is not fetched again, nothing new
    hits = len(pages.hits)
    assert (await run_source(rt, "kt", force=True)).new_items == 0 and len(pages.hits) == hits + 1
    # kt.kz marks the update in the title: the page is fetched again and stored as version 2
    pages.routes["/list"] = Route(listing(KT004.title))
    pages.routes["/kt/a1"] = Route(page(KT004.title, KT004.paragraphs))
    result = await run_source(rt, "kt", force=True)
    assert result.new_items == 1
    v1, v2 = await items(rt)
    assert (v1.version, v2.version, v2.url, v2.story_id) == (1, 2, v1.url, v1.story_id)
    assert await rules_enqueued(rt) == ["iran", "armenia"]  # iran was already alerted for this story
    assert await deliver(rt, stream) == 1
    assert stream.getvalue().count("правила: armenia") == 1 and stream.getvalue().count("правила: iran") == 1


async def test_rss_same_url_new_text_is_restored(pages: PageServer, runtime_factory: Any) -> None:
    url = "https://kt/a1"
    pages.routes["/kt"] = Route(rss((TITLE, url, KT004.paragraphs[:8])))
    rt = await runtime_factory(f'[[sources]]\nname = "kt"\nkind = "rss"\nurl = "{pages.url("/kt")}"\n' + RULES)
    await run_source(rt, "kt", force=True)
    pages.routes["/kt"] = Route(rss((TITLE, url, KT004.paragraphs)))  # same title, same URL, more text
    assert (await run_source(rt, "kt", force=True)).new_items == 1
    v1, v2 = await items(rt)
    assert v2.version == 2 and v2.story_id == v1.story_id and "Армении" in v2.text
    assert await rules_enqueued(rt) == ["iran", "armenia"]
    # the same text again is no news
    assert (await run_source(rt, "kt", force=True)).new_items == 0


async def test_updated_digest_keeps_its_paragraph_links(pages: PageServer, runtime_factory: Any) -> None:
    """A digest whose Slovenia paragraph joined the MFA story is updated: the new version's Slovenia paragraph
    still belongs to the MFA story, so no second Slovenia alert."""
    digest = DOCS["digest-ktp-slovenia-econ"]
    mfa = DOCS["mfa-slovenia-econ"]
    pages.routes["/mfa"] = Route(rss((mfa.title, "https://mfa/1", mfa.paragraphs)))
    # without kt-001's other Slovenia meeting (paragraph 1), so that only the MFA story has a Slovenia alert
    paragraphs = tuple(p for i, p in enumerate(digest.paragraphs) if i != 1)
    pages.routes["/kt"] = Route(rss((digest.title, "https://kt/d", paragraphs[:5])))
    rt = await runtime_factory(
        "".join(f'[[sources]]\nname = "{n}"\nkind = "rss"\nurl = "{pages.url("/" + n)}"\n' for n in ("mfa", "kt"))
        + RULES)
    await run_source(rt, "mfa", force=True)
    await run_source(rt, "kt", force=True)
    before = await rules_enqueued(rt)
    pages.routes["/kt"] = Route(rss((digest.title + " Дополнено", "https://kt/d", paragraphs)))
    assert (await run_source(rt, "kt", force=True)).new_items == 1
    after = await rules_enqueued(rt)
    assert after[:len(before)] == before and "slovenia" not in after[len(before):]
    assert before.count("slovenia") == 1
