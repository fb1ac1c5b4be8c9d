"""Every preset against its recorded site fixtures on a loopback server: the articles a user would get."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.config import parse_config
from monitor.errors import FetchError
from monitor.fetch import Fetcher, FetchPolicy
from monitor.sources import SourceState, build_source
from monitor.sources.presets import PRESETS
from tests.servers.pages import PageServer, Route
from tests.sitefixtures import (
    GOVKZ_REST,
    JSON,
    SITES,
    by_url,
    preset_source,
    serve_feeds,
    serve_govkz,
    serve_inform,
    serve_kt,
)

GOVKZ = "https://www.gov.kz/memleket/entities/mfa/press/news/details/{}?lang={}"
KT_1001 = "/rus/politics/kazahstanskie-diplomaty-proveli-ryad-vstrech-po-voprosam-bezopasnosti_1001.html"
KT_1003 = "/rus/press-materialy/vstrechi-s-diplomatami-i-predstavitelyami-mezhdunarodnyh-organizaciy_1003.html"
KT_1004 = "/rus/press-materialy/novaya-konstituciya-kosmicheskie-tehnologii_1004.html"
INFORM_1 = "/ru/v-seyme-latvii-nastroeny-na-ukreplenie-dialoga-s-kazahstanom-a1f2e3"
INFORM_2 = "/ru/parlamentskaya-diplomatiya-provodnik-kazahsko-portugalskogo-sotrudnichestva-b7c8d9"
INFORM_3 = "/ru/v-shanhae-obsuzhdeny-prioritety-politiki-kazahstana-c0d1e2"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def poll(pages: PageServer, preset: str, extra: str = "", state: SourceState | None = None) -> list:
    async with Fetcher(FetchPolicy(retries=0)) as http:
        return await preset_source(pages, preset, extra).poll(http, state or SourceState())


def test_every_preset_points_at_its_real_host_by_default() -> None:
    assert PRESETS["govkz-mfa"]["url"].startswith("https://www.gov.kz/api/v1/public/content-manager/news?")
    assert PRESETS["kt-kz"]["url"] == "https://www.kt.kz/rus/{section}"
    assert PRESETS["inform-kz"]["url"] == "https://www.inform.kz/ru/lenta"
    assert PRESETS["akorda"]["url"] == "https://www.akorda.kz/ru/rss"
    assert PRESETS["mid-ru"]["url"] == "https://mid.ru/ru/rss.php"
    config = parse_config('[[sources]]\nname = "m"\npreset = "govkz-mfa"\n')
    source = build_source(config.sources[0])
    assert source.options.fill(source.options.url) == (  # type: ignore[attr-defined]
        "https://www.gov.kz/api/v1/public/content-manager/news?sort-by=created_date:DESC&projects=eq:mfa"
        "&page=1&size=20")


# ---------------------------------------------------------------- govkz-mfa

async def test_govkz_bare_array(pages: PageServer) -> None:
    serve_govkz(pages, "news.json")
    entries = by_url(await poll(pages, "govkz-mfa"))
    assert list(entries) == [GOVKZ.format(i, "ru") for i in (1066735, 1066512, 1066401)]
    first = entries[GOVKZ.format(1066735, "ru")]
    assert first.title == "В Джидде обсудили подготовку визита Контактной группы ОИС по Афганистану в Кабул"
    assert first.published_at == utc(2026, 1, 12, 10, 15)
    assert len(first.paragraphs) == 4
    assert first.paragraphs[0].startswith("Генеральный консул Казахстана в Джидде, заместитель Постоянного")
    assert not any(p.startswith("Фото") for p in first.paragraphs)  # the photo credit is not text
    second = entries[GOVKZ.format(1066512, "ru")]  # created_date with fractions and an offset
    assert second.published_at == datetime(2026, 1, 9, 11, 30, 0, 123000, tzinfo=UTC)
    assert "Алтай Абибуллаев" in second.paragraphs[0]
    third = entries[GOVKZ.format(1066401, "ru")]  # no zone: Astana time; empty body: the short description
    assert third.published_at == datetime(2026, 1, 14, 4, 0, 0, 500000, tzinfo=UTC)
    assert third.paragraphs == ('Нью-Дели, 10-18 января 2026 года - Казахстан принимает участие в одной из '
                                'крупнейших литературных выставок Азии - "National Book Fair Delhi 2026".',)
    hit = pages.hits[-1]
    assert hit.headers["accept-language"] == "ru" and hit.headers["accept"] == "application/json"


async def test_govkz_content_shape_and_language(pages: PageServer) -> None:
    pages.routes[GOVKZ_REST] = Route((SITES / "govkz-mfa" / "news-content.json").read_bytes(), headers=JSON)
    entries = await poll(pages, "govkz-mfa", 'language = "kk"\n')
    assert [e.url for e in entries] == [GOVKZ.format(1065990, "kk"), GOVKZ.format(1065871, "kk")]
    assert entries[0].title == "Астана и Любляна укрепляют побратимские связи"
    assert entries[0].published_at == utc(2026, 1, 6, 14, 20)
    assert entries[1].published_at == utc(2026, 1, 5, 6, 0)
    assert pages.hits[-1].headers["accept-language"] == "kk"


@pytest.mark.parametrize("refusal", [
    Route(b'{"message":"token required"}', status=403, headers=JSON),
    Route(b"unauthorized", status=401),
    Route(b"<!DOCTYPE html><html><body><div id='app'></div></body></html>"),  # the JS app instead of JSON
])
async def test_govkz_falls_back_to_graphql(pages: PageServer, refusal: Route) -> None:
    pages.routes[GOVKZ_REST] = refusal
    pages.routes["/graphql"] = Route((SITES / "govkz-mfa" / "graphql.json").read_bytes(), headers=JSON)
    entries = await poll(pages, "govkz-mfa")
    assert [e.url for e in entries] == [GOVKZ.format(1066735, "ru"), GOVKZ.format(1065990, "ru")]
    assert entries[0].published_at == utc(2026, 1, 12, 10, 15) and len(entries[0].paragraphs) == 4
    post = pages.hits[-1]
    assert post.method == "POST" and post.path == "/graphql"
    query = json.loads(post.body)["query"]
    assert 'projects: "EQ:mfa"' in query and '_lang: "ru"' in query and "_size: 20" in query


async def test_govkz_refused_by_both_is_an_error(pages: PageServer) -> None:
    pages.routes[GOVKZ_REST] = Route(b"forbidden", status=403)
    pages.routes["/graphql"] = Route(b'{"errors":[{"message":"Access denied"}]}', headers=JSON)
    with pytest.raises(FetchError) as err:
        await poll(pages, "govkz-mfa")
    message = str(err.value)
    assert message.startswith("gov.kz refused the API request: REST API: HTTP 403")
    assert "GraphQL: GraphQL answered errors" in message and "Access denied" in message


async def test_govkz_without_fallback_reports_the_refusal(pages: PageServer) -> None:
    pages.routes[GOVKZ_REST] = Route(b"<html>login</html>")
    with pytest.raises(FetchError, match=r"gov\.kz refused the API request: REST API answered something "
                                         r"that is not JSON"):
        await poll(pages, "govkz-mfa", 'graphql_url = ""\n')


async def test_govkz_server_error_is_not_a_refusal(pages: PageServer) -> None:
    pages.routes[GOVKZ_REST] = Route(b"oops", status=500)
    with pytest.raises(FetchError, match="HTTP 500"):
        await poll(pages, "govkz-mfa")
    assert not any(h.path == "/graphql" for h in pages.hits)


# ---------------------------------------------------------------- kt-kz

async def test_kt_kz_sections_articles_datelines_and_cp1251(pages: PageServer) -> None:
    serve_kt(pages)
    state = SourceState()
    entries = by_url(await poll(pages, "kt-kz", state=state))
    assert len(entries) == 4 and state.listed == 4
    article = entries[pages.url(KT_1001)]
    assert article.title == ("МИД: Казахстанские дипломаты провели ряд встреч по вопросам безопасности, "
                             "транспорта и международного сотрудничества")
    assert article.published_at == utc(2026, 3, 12, 13, 40)  # 28.11.2025-style meta date, Astana time
    # Photo credit gone, the dateline stripped from the first paragraph, no subscribe/share/footer lines.
    assert article.paragraphs[0].startswith("Казахстанские дипломаты провели серию встреч и переговоров")
    assert len(article.paragraphs) == 4
    text = "\n".join(article.paragraphs)
    for junk in ("Фото", "KAZAKHSTAN TODAY", "Подписывайтесь", "Поделиться", "may not be reproduced", "Политика"):
        assert junk not in text, junk
    dated = entries[pages.url(KT_1003)]  # dateline "5 марта", meta date 06.03.2026, 09:12
    assert dated.published_at == utc(2026, 3, 6, 4, 12)
    assert dated.paragraphs[0].startswith("В Казахстане и за рубежом состоялся ряд встреч")
    cp1251 = entries[pages.url(KT_1004)]  # windows-1251 declared only in <meta>
    assert cp1251.title == ("Новая Конституция, космические технологии и академические связи: казахстанские "
                            "дипломаты провели ряд встреч за рубежом")
    assert cp1251.paragraphs[0].startswith("Казахстанские дипломаты провели ряд встреч и посетили")
    assert cp1251.published_at == utc(2026, 2, 26, 5, 30)


async def test_kt_kz_known_articles_are_not_fetched_again(pages: PageServer) -> None:
    serve_kt(pages)
    first = await poll(pages, "kt-kz")
    state = SourceState(known={e.url: e.title for e in first})
    before = len(pages.hits)
    assert await poll(pages, "kt-kz", state=state) == []
    assert len(pages.hits) == before + 2  # the two listings only
    assert state.listed == 4  # still counted: the listing is healthy


async def test_kt_kz_selectors_can_be_mended_in_toml(pages: PageServer) -> None:
    serve_kt(pages)
    for section in ("politics", "press-materialy"):  # the site renamed its card classes
        route = pages.routes[f"/rus/{section}"]
        route.body = route.body.replace(b"news-list__item", b"feed__item")
    assert await poll(pages, "kt-kz") == []
    mended = await poll(pages, "kt-kz", 'item = ".feed__item > article"\nsections = ["politics"]\n')
    assert mended[0].url == pages.url(KT_1001) and len(mended) == 2


async def test_kt_kz_rss(pages: PageServer) -> None:
    serve_kt(pages)
    entries = await poll(pages, "kt-kz-rss")
    assert entries[0].url == pages.url(KT_1001)
    assert entries[0].published_at == utc(2026, 3, 12, 13, 40)
    assert entries[0].paragraphs[0].startswith("Казахстанские дипломаты провели серию встреч")


# ---------------------------------------------------------------- inform-kz

async def test_inform_kz_listing_and_articles(pages: PageServer) -> None:
    serve_inform(pages)
    entries = by_url(await poll(pages, "inform-kz"))
    assert list(entries) == [pages.url(INFORM_1), pages.url(INFORM_2)]
    first = entries[pages.url(INFORM_1)]
    assert first.title == "В сейме Латвии настроены на укрепление диалога с Казахстаном"
    assert first.published_at == utc(2026, 8, 18, 16, 38)  # "21:38, 18 Августа 2026", GMT+5
    assert first.paragraphs[0].startswith("В сейме Латвийской Республики состоялась встреча посла")
    assert len(first.paragraphs) == 3
    text = "\n".join(first.paragraphs)
    for junk in ("Фото", "Подписывайтесь", "Читайте также", "Другая новость", "Поделиться", "Автор"):
        assert junk not in text, junk
    second = entries[pages.url(INFORM_2)]
    assert second.published_at == utc(2026, 1, 20, 6, 20)  # "11:20, 20 Январь 2026": nominative month
    assert second.title == "Парламентская дипломатия - проводник казахско-португальского сотрудничества"


async def test_inform_kz_more_pages(pages: PageServer) -> None:
    serve_inform(pages)
    entries = await poll(pages, "inform-kz", "pages = 2\n")
    assert entries[-1].url == pages.url(INFORM_3)
    assert entries[-1].published_at == utc(2026, 1, 19, 4, 5)
    assert any(h.path == "/ru/lenta?page=2" for h in pages.hits)


# ---------------------------------------------------------------- akorda, mid-ru

async def test_akorda_rss(pages: PageServer) -> None:
    serve_feeds(pages)
    entries = await poll(pages, "akorda")
    assert [e.url for e in entries] == ["https://www.akorda.kz/ru/ministr-po-kommunikaciyam-alzhira-1911745",
                                        "https://www.akorda.kz/ru/v-maskate-obsuzhdeny-itogi-viii-sezda-1811200"]
    assert entries[0].title == ("Министр по коммуникациям Алжира выразил интерес к интервью Президента "
                                "Республики Казахстан")  # "| Акорда" removed
    assert entries[0].published_at == utc(2026, 1, 19, 12, 45)
    assert entries[1].published_at == utc(2026, 1, 18, 12, 0)
    assert len(entries[0].paragraphs) == 4 and not any("Фото" in p for p in entries[0].paragraphs)


async def test_mid_ru_rss_in_cp1251_and_atom(pages: PageServer) -> None:
    serve_feeds(pages)
    rss = await poll(pages, "mid-ru")
    atom = await poll(pages, "mid-ru-atom")
    for entries in (rss, atom):
        assert [e.url for e in entries] == ["https://mid.ru/ru/foreign_policy/news/2084512/",
                                            "https://mid.ru/ru/foreign_policy/news/2071190/"]
        assert entries[0].title.startswith("МИД: Казахстанские дипломаты провели ряд встреч")
        assert entries[0].published_at == utc(2026, 3, 12, 13, 5)
        assert entries[1].published_at == utc(2026, 1, 9, 15, 0)
        assert entries[0].paragraphs[1].startswith("Делегация Казахстана приняла участие в 66-й сессии")


async def test_encoding_override_beats_a_wrong_declaration(pages: PageServer) -> None:
    serve_feeds(pages)
    route = pages.routes["/ru/rss.php"]
    route.body = route.body.replace(b'encoding="windows-1251"', b'encoding="utf-8"')
    garbled = await poll(pages, "mid-ru")  # undecodable as declared: feedparser guesses, and guesses wrong
    assert not garbled[0].title.startswith("МИД")
    entries = await poll(pages, "mid-ru", 'encoding = "cp1251"\n')
    assert entries[0].title.startswith("МИД: Казахстанские дипломаты")


def test_known_article_pages_tolerate_shortened_card_titles() -> None:
    from monitor.models import Entry
    from monitor.sources.pages import is_known

    state = SourceState(known={"https://x/1": "Посол Казахстана в Словении провёл встречу с министром"})
    assert is_known(state, Entry("https://x/1", "Посол Казахстана в Словении провёл…", ()))
    assert is_known(state, Entry("https://x/1", "", ()))  # an overlay link without text
    assert not is_known(state, Entry("https://x/1", "Посол Казахстана в Словении вручил грамоты", ()))
    assert not is_known(state, Entry("https://x/2", "Посол Казахстана в Словении провёл…", ()))


def test_preset_typos_and_contradictions_are_config_errors() -> None:
    from monitor.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config('[[sources]]\nname = "kt"\npreset = "kt-kz"\nitme = ".card"\n', "c.toml")
    assert "c.toml:4: sources[0].itme: unknown key" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config('[[sources]]\nname = "kt"\npreset = "kt-kz"\nurl = "https://www.kt.kz/rus/all"\n', "c.toml")
    assert "`sections` needs a `url` containing {section}" in str(err.value)
    ok = parse_config('[[sources]]\nname = "kt"\npreset = "kt-kz"\nurl = "https://www.kt.kz/rus/all"\nsections = []\n')
    source = build_source(ok.sources[0])
    assert source.options.listing_urls() == ["https://www.kt.kz/rus/all"]  # type: ignore[attr-defined]


async def test_article_pages_out_of_time_wait_for_the_next_poll(pages: PageServer) -> None:
    import time

    serve_kt(pages)
    pages.routes[KT_1003].delay_s = 3.0  # one slow article page
    state = SourceState(deadline=time.monotonic() + 1.5)
    entries = await poll(pages, "kt-kz", state=state)
    assert len(entries) == 3 and pages.url(KT_1003) not in {e.url for e in entries}
    assert state.listed == 4
    # Next poll: the three are stored (known), the slow one is fetched now.
    pages.routes[KT_1003].delay_s = 0
    later = SourceState(known={e.url: e.title for e in entries}, deadline=time.monotonic() + 5)
    assert [e.url for e in await poll(pages, "kt-kz", state=later)] == [pages.url(KT_1003)]
