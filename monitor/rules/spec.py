"""The watch-rule schema as users write it in TOML ([[rules]])."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PRIMARY_KEYS = ("country", "person", "ambassador", "keyword", "regex")


class RuleSpec(BaseModel):
    """One [[rules]] table. What each key matches: README.md. Primary keys (country, person,
    ambassador, keyword, regex) are ANDed within one paragraph; validate_rules() checks what the schema
    cannot (unknown countries, conflicting keys, unsafe regexes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    country: str | None = None
    capital: bool = False
    person: str | None = None
    ambassador: str | None = None
    keyword: str | None = None
    regex: str | None = None
    case_sensitive: bool = False  # for regex: by default it ignores case
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    scope: Literal["paragraph", "article"] = "paragraph"
    sources: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_primary_key(self) -> RuleSpec:
        if not any(getattr(self, key) for key in PRIMARY_KEYS) and not self.any:
            raise ValueError(f"a rule needs at least one of {', '.join(PRIMARY_KEYS)} or any")
        return self
