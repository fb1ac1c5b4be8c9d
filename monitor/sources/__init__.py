"""The source seam: one class per kind, registered by its `kind`; presets are named bundles of settings.

A source class is built as `cls(options, common)`: `options` is its own `Config` model (validated from the
TOML block with the preset's settings underneath), `common` the keys every source has (name, interval, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from monitor.fetch import Fetcher
from monitor.models import Entry

if TYPE_CHECKING:
    from monitor.config import SourceConfig


@dataclass
class SourceState:
    """What a source remembers between polls (persisted in the sources table). poll() updates it in place."""

    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # set by poll() when the server answered 304
    known: dict[str, str] = field(default_factory=dict)  # url -> title of items already stored (skip refetch)
    # Set by poll(): the server's Cache-Control max-age on the listing; the next poll waits at least this long.
    min_next_poll_s: float | None = None
    # Set by poll(): items on the listing, known ones included (poll() returns only those it had to fetch).
    # Zero for a long time on a source that used to list items means its markup changed (`monitor status`).
    listed: int | None = None
    # time.monotonic() by which article pages must be fetched; the rest wait for the next poll (None: no limit).
    deadline: float | None = None


class Source(Protocol):
    kind: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    async def poll(self, http: Fetcher, state: SourceState) -> list[Entry]: ...


def registry() -> dict[str, type[Any]]:
    """kind -> class. Imported lazily so that a source module may import from this one."""
    from monitor.sources.govkz import GovkzSource
    from monitor.sources.html import HtmlSource
    from monitor.sources.rss import RssSource

    return {cls.kind: cls for cls in (RssSource, HtmlSource, GovkzSource)}


def preset_table() -> dict[str, dict[str, Any]]:
    """Named presets. (Not called `presets`: importing the submodule of that name would shadow it.)"""
    from monitor.sources.presets import PRESETS

    return PRESETS


def resolve(common: SourceConfig) -> tuple[type[Any], BaseModel]:
    """The class and validated options for one [[sources]] block. Raises ValueError or ValidationError."""
    settings: dict[str, Any] = {}
    kind = common.kind
    if common.preset is not None:
        known = preset_table()
        if common.preset not in known:
            raise ValueError(f'unknown preset "{common.preset}" (known: {", ".join(sorted(known))})')
        settings.update(known[common.preset])
        kind = kind or settings.get("kind")
    settings.pop("kind", None)
    if kind is None:
        raise ValueError("a source needs `kind` or `preset`")
    kinds = registry()
    if kind not in kinds:
        raise ValueError(f'unknown kind "{kind}" (known: {", ".join(sorted(kinds))})')
    settings.update(common.options)
    cls = kinds[kind]
    return cls, cls.Config.model_validate(settings)


def build_source(common: SourceConfig) -> Source:
    cls, options = resolve(common)
    source: Source = cls(options, common)
    return source
