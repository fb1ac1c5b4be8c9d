"""Serving the recorded site fixtures (tests/fixtures/sites/<preset>/) in each site's URL layout, and building
a preset's source pointed at the local server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.config import parse_config
from monitor.sources import Source, build_source
from tests.servers.pages import PageServer, Route

SITES = Path(__file__).parent / "fixtures" / "sites"
GOVKZ_REST = "/api/v1/public/content-manager/news?sort-by=created_date:DESC&projects=eq:mfa&page=1&size=20"
JSON = {"Content-Type": "application/json;charset=UTF-8"}


def serve_kt(pages: PageServer) -> None:
    site = SITES / "kt-kz"
    for section in ("politics", "press-materialy"):
        pages.routes[f"/rus/{section}"] = Route((site / f"{section}.html").read_bytes())
        for article in sorted((site / "rus" / section).iterdir()):
            # The cp1251 page declares its charset only in <meta>, as old pages do.
            content_type = "text/html" if b"windows-1251" in article.read_bytes()[:300] else "text/html; charset=utf-8"
            pages.routes[f"/rus/{section}/{article.name}"] = Route(article.read_bytes(),
                                                                   headers={"Content-Type": content_type})
    rss = (site / "rss.xml").read_bytes().replace(b"BASE", pages.base.encode())
    pages.routes["/eng/rss"] = Route(rss, headers={"Content-Type": "application/rss+xml; charset=utf-8"})


def serve_inform(pages: PageServer) -> None:
    site = SITES / "inform-kz"
    pages.routes["/ru/lenta"] = Route((site / "lenta.html").read_bytes())
    pages.routes["/ru/lenta?page=2"] = Route((site / "lenta-page2.html").read_bytes())
    for article in sorted((site / "ru").iterdir()):
        pages.routes[f"/ru/{article.stem}"] = Route(article.read_bytes())


def serve_govkz(pages: PageServer, shape: str = "news.json") -> None:
    pages.routes[GOVKZ_REST] = Route((SITES / "govkz-mfa" / shape).read_bytes(), headers=JSON)


def serve_feeds(pages: PageServer) -> None:
    pages.routes["/ru/rss"] = Route((SITES / "akorda" / "rss.xml").read_bytes(),
                                    headers={"Content-Type": "application/rss+xml; charset=UTF-8"})
    # mid.ru's RSS in windows-1251, declared only in the XML declaration
    pages.routes["/ru/rss.php"] = Route((SITES / "mid-ru" / "rss.xml").read_bytes(),
                                        headers={"Content-Type": "application/rss+xml"})
    pages.routes["/ru/atom"] = Route((SITES / "mid-ru" / "atom.xml").read_bytes(),
                                     headers={"Content-Type": "application/atom+xml; charset=utf-8"})


def local_overrides(pages: PageServer, preset: str) -> str:
    """The TOML keys that point a preset at the local server instead of the real host."""
    b = pages.base
    return {
        "govkz-mfa": f'url = "{b}{GOVKZ_REST.replace("mfa", "{{project}}").replace("size=20", "size={{size}}")}"\n'
                     f'graphql_url = "{b}/graphql"\n',
        "kt-kz": f'url = "{b}/rus/{{section}}"\n',
        "kt-kz-rss": f'url = "{b}/eng/rss"\n',
        "inform-kz": f'url = "{b}/ru/lenta"\n',
        "akorda": f'url = "{b}/ru/rss"\n',
        "mid-ru": f'url = "{b}/ru/rss.php"\n',
        "mid-ru-atom": f'url = "{b}/ru/atom"\n',
    }[preset].replace("{{", "{").replace("}}", "}")


def source_block(pages: PageServer, preset: str, name: str | None = None, extra: str = "") -> str:
    given = {line.split("=")[0].strip() for line in extra.splitlines() if "=" in line}
    overrides = "".join(line + "\n" for line in local_overrides(pages, preset).splitlines()
                        if line.split("=")[0].strip() not in given)
    return f'[[sources]]\nname = "{name or preset}"\npreset = "{preset}"\n' + overrides + extra


def preset_source(pages: PageServer, preset: str, extra: str = "") -> Source:
    config = parse_config(source_block(pages, preset, extra=extra), "test.toml")
    return build_source(config.sources[0])


def by_url(entries: list[Any]) -> dict[str, Any]:
    return {e.url: e for e in entries}
