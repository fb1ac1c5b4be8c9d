"""Exact duplicates: the content hash of the normalized text (NFKC, casefold, ё→е, whitespace collapsed)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return _SPACES.sub(" ", text).strip()


def content_hash(title: str, paragraphs: Sequence[str]) -> str:
    """The hash of the article text; the title stands in only when there is no text (a bare feed entry).
    The title is left out so that the same text republished under another headline is still one item."""
    body = normalize("\n".join(paragraphs)) or normalize(title)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
