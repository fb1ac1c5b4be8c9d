"""gov.kz news through its JSON API (never the JavaScript site). The REST endpoint answers a bare array or
`{"content": [...]}`; when it refuses (401/403, or answers something that is not JSON) the GraphQL endpoint is
asked instead. A refusal by both is an error of the source, never an empty success."""

from __future__ import annotations

import html
import json
import logging
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.config import SourceConfig
from monitor.errors import FetchError, ParseError
from monitor.extract import clean_space, clean_title, paragraphs_from_html, paragraphs_from_text, parse_date
from monitor.fetch import Fetcher, Response
from monitor.models import Entry
from monitor.sources import SourceState
from monitor.sources.pages import remember_listing

log = logging.getLogger(__name__)
REFUSED = (401, 403)
GRAPHQL_QUERY = (
    '{ news(projects: "EQ:{project}", _size: {size}, _page: 1, _sort: "created_date:DESC", _lang: "{language}") '
    "{ id title slug created_date body short_description } }"
)


class GovkzOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # {project}, {size}, {language} and (article_url) {id}, {slug} are filled in.
    url: str = ("https://www.gov.kz/api/v1/public/content-manager/news"
                "?sort-by=created_date:DESC&projects=eq:{project}&page=1&size={size}")
    graphql_url: str | None = "https://www.gov.kz/graphql"  # the fallback; "" turns it off
    graphql_query: str = GRAPHQL_QUERY
    article_url: str = "https://www.gov.kz/memleket/entities/{project}/press/news/details/{id}?lang={language}"
    project: str = "mfa"
    language: Literal["ru", "kk", "en"] = "ru"
    size: int = Field(default=20, ge=1, le=100)
    max_items: int = Field(default=50, ge=1)
    headers: dict[str, str] = {}

    def fill(self, template: str, **extra: object) -> str:
        values: dict[str, object] = {"project": self.project, "size": self.size, "language": self.language}
        values.update(extra)
        for key, value in values.items():  # not str.format: a user's URL may hold other braces
            template = template.replace("{" + key + "}", str(value))
        return template


def _json(content: bytes, what: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        head = content[:60].decode("utf-8", errors="replace").strip()
        raise ParseError(f"{what} answered something that is not JSON ({exc}; starts with {head!r})") from exc


def items_of(data: Any, what: str) -> list[dict[str, Any]]:
    """The news items of either answer shape: a bare array, or an object with `content` (or `data.news`)."""
    if isinstance(data, dict) and "data" in data and isinstance(data["data"], dict):
        if data.get("errors") and not data["data"].get("news"):
            raise ParseError(f"{what} answered errors: {str(data['errors'])[:300]}")
        data = data["data"].get("news")
    elif isinstance(data, dict) and data.get("errors"):
        raise ParseError(f"{what} answered errors: {str(data['errors'])[:300]}")
    if isinstance(data, dict):
        data = data.get("content", data.get("items"))
    if not isinstance(data, list):
        raise ParseError(f"{what} answered JSON without a news list (expected an array or {{\"content\": [...]}})")
    return [item for item in data if isinstance(item, dict)]


def to_entry(item: dict[str, Any], options: GovkzOptions) -> Entry | None:
    item_id = item.get("id")
    if item_id is None:
        return None
    title = clean_title(html.unescape(str(item.get("title") or "")))
    body = str(item.get("body") or "")
    paragraphs = paragraphs_from_html(body) if body.strip() else ()
    if not paragraphs:
        summary = html.unescape(str(item.get("short_description") or ""))
        paragraphs = paragraphs_from_html(summary) if "<" in summary else paragraphs_from_text(summary)
    if not clean_space(title) and not paragraphs:
        return None
    url = options.fill(options.article_url, id=item_id, slug=item.get("slug") or item_id)
    return Entry(url=url, title=title or url, paragraphs=paragraphs,
                 published_at=parse_date(str(item.get("created_date") or "")) or None,
                 external_id=str(item_id))


class GovkzSource:
    kind: ClassVar[str] = "govkz"
    Config: ClassVar[type[BaseModel]] = GovkzOptions

    def __init__(self, options: GovkzOptions, common: SourceConfig) -> None:
        self.options = options
        self.common = common

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json", "Accept-Language": self.options.language, **self.options.headers}

    def _entries(self, items: list[dict[str, Any]], state: SourceState) -> list[Entry]:
        entries = [e for e in (to_entry(i, self.options) for i in items[: self.options.max_items]) if e]
        state.listed = len(entries)
        return entries

    async def poll(self, http: Fetcher, state: SourceState) -> list[Entry]:
        verify = not self.common.insecure
        try:
            response = await http.get(self.options.fill(self.options.url), headers=self._headers(),
                                      etag=state.etag, last_modified=state.last_modified, verify=verify)
        except FetchError as exc:
            if exc.status not in REFUSED:
                raise
            refusal = f"REST API: {exc}"
        else:
            try:
                items = items_of(_json(response.content, "REST API"), "REST API") \
                    if not response.not_modified else []
            except ParseError as exc:
                refusal = str(exc)
            else:
                if remember_listing(state, response):
                    return []
                return self._entries(items, state)
        return await self._graphql(http, state, refusal, verify)

    async def _graphql(self, http: Fetcher, state: SourceState, refusal: str, verify: bool) -> list[Entry]:
        if not self.options.graphql_url:
            raise FetchError(f"gov.kz refused the API request: {refusal}", transient=True)
        log.info("gov.kz REST API refused (%s); asking GraphQL", refusal)
        query = self.options.fill(self.options.graphql_query)
        try:
            response: Response = await http.get(
                self.options.fill(self.options.graphql_url), method="POST", json_body={"query": query},
                headers={**self._headers(), "Content-Type": "application/json"}, verify=verify)
            items = items_of(_json(response.content, "GraphQL"), "GraphQL")
        except (FetchError, ParseError) as exc:
            raise FetchError(f"gov.kz refused the API request: {refusal}; GraphQL: {exc}", transient=True,
                             retry_after_s=getattr(exc, "retry_after_s", None)) from exc
        state.etag = state.last_modified = None
        state.not_modified = False
        state.min_next_poll_s = response.max_age_s
        return self._entries(items, state)
