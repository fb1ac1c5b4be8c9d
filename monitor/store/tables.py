"""The schema (SQLAlchemy 2 ORM). Alembic revisions in monitor/migrations mirror it; never create_all() in prod."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite has no integer autoincrement for BIGINT primary keys; this keeps both engines happy.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite keeps no zone), always returned aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_poll_done: Mapped[bool] = mapped_column(default=False)
    last_items_seen: Mapped[int] = mapped_column(Integer, default=0)  # entries in the last successful listing
    last_nonempty_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoryRow(Base):
    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(Text)


class ItemRow(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (Index("ix_items_url", "url"),)


class MatchRow(Base):
    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(200), index=True)
    paragraph: Mapped[int | None] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    spans: Mapped[list[list[int]]] = mapped_column(JSON)


class RecipientRow(Base):
    __tablename__ = "recipients"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """One alert for one recipient. Unique per (recipient, story, rule): re-polls and restarts never enqueue twice.

    status: pending -> sending -> delivered | failed. A row found in `sending` at start-up was interrupted
    between send and mark, and is sent again (at most one duplicate per crash; same digest_key).
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(200))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_key: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        UniqueConstraint("recipient", "story_id", "rule", name="uq_outbox_recipient_story_rule"),
        Index("ix_outbox_due", "recipient", "status", "next_attempt_at"),
        Index("ix_outbox_item_id", "item_id"),  # cascades from items / stories (retention) must not scan
        Index("ix_outbox_story_id", "story_id"),
    )


class StoryBandRow(Base):
    """LSH band keys of an item's units (signatures.py), for items within `[dedup] story_window`: the index
    that finds near-duplicate candidates without scanning items. Pruned once outside the window."""

    __tablename__ = "story_bands"
    band: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True)


class ParagraphStoryRow(Base):
    """A paragraph that belongs to another story than its item (one meeting of a digest)."""

    __tablename__ = "paragraph_stories"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    paragraph: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)


class MorphFormsRow(Base):
    """Inflected forms of the rules' words, one JSON object per morphology version (rules/formstore.py)."""

    __tablename__ = "morph_forms"
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    forms: Mapped[str] = mapped_column(Text)
