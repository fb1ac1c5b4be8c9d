"""Named source settings. Selectors are data so that a user can mend a preset in TOML without a release:
every key below can be overridden in the source's [[sources]] block (URLs included, which is how the tests
point a preset at a local server). See README.md."""

from __future__ import annotations

from typing import Any

from monitor.extract import KT_DATELINE

_KT_ARTICLE = {
    "article_title": "header.page-heading h1",
    "article_body": "div.page-content",
    "article_date": "div.page-meta span",
    "dateline": KT_DATELINE,
}

PRESETS: dict[str, dict[str, Any]] = {
    # Ministry of Foreign Affairs of Kazakhstan: gov.kz JSON API (REST, GraphQL as the fallback).
    "govkz-mfa": {
        "kind": "govkz",
        "url": "https://www.gov.kz/api/v1/public/content-manager/news"
               "?sort-by=created_date:DESC&projects=eq:{project}&page=1&size={size}",
        "graphql_url": "https://www.gov.kz/graphql",
        "article_url": "https://www.gov.kz/memleket/entities/{project}/press/news/details/{id}?lang={language}",
        "project": "mfa",
        "language": "ru",
        "size": 20,
    },
    # Kazakhstan Today: two sections of the Russian site, article pages for the full text.
    "kt-kz": {
        "kind": "html",
        "url": "https://www.kt.kz/rus/{section}",
        "sections": ["politics", "press-materialy"],
        "item": ".news-list__item > article",
        "link": ".news__overlay-link",
        "title": ".news__title",
        "date": ".news__date",
        **_KT_ARTICLE,
        "max_items": 20,
    },
    # Kazakhstan Today's English feed (no Russian feed is published), article pages for the full text.
    "kt-kz-rss": {
        "kind": "rss",
        "url": "https://www.kt.kz/eng/rss",
        "fetch_articles": True,
        **_KT_ARTICLE,
    },
    # Kazinform: the news ribbon; page 2.. as ?page=N when `pages` is raised.
    "inform-kz": {
        "kind": "html",
        "url": "https://www.inform.kz/ru/lenta",
        "pages": 1,
        "item": "a.news-card",
        "link": "a",
        "title": "h3.card-title",
        "date": "time.meta-date",
        "article_title": "h1",
        "article_body": "div.article__content",
        "article_date": "time.meta-date",
        "max_items": 20,
    },
    "akorda": {"kind": "rss", "url": "https://www.akorda.kz/ru/rss"},
    "mid-ru": {"kind": "rss", "url": "https://mid.ru/ru/rss.php"},
    "mid-ru-atom": {"kind": "rss", "url": "https://www.mid.ru/ru/rss"},
}
