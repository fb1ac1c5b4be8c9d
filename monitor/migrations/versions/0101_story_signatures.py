"""story signatures: LSH band index, paragraph → story links, indexes that retention pruning needs

Revision ID: 0101_stories
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101_stories"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_bands",
        sa.Column("band", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band", "item_id"),
    )
    op.create_index("ix_story_bands_item_id", "story_bands", ["item_id"])
    op.create_table(
        "paragraph_stories",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("paragraph", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "paragraph"),
    )
    op.create_index("ix_paragraph_stories_story_id", "paragraph_stories", ["story_id"])
    # deleting an item or a story cascades into the outbox: without these, every delete scans it
    op.create_index("ix_outbox_item_id", "outbox", ["item_id"])
    op.create_index("ix_outbox_story_id", "outbox", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_story_id", table_name="outbox")
    op.drop_index("ix_outbox_item_id", table_name="outbox")
    op.drop_index("ix_paragraph_stories_story_id", table_name="paragraph_stories")
    op.drop_table("paragraph_stories")
    op.drop_index("ix_story_bands_item_id", table_name="story_bands")
    op.drop_table("story_bands")
