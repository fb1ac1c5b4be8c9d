"""morph_forms: inflected forms of the rules' words, kept between starts (rules/formstore.py)

Revision ID: 0103_morph_forms
Revises: 0102_band_codes
Create Date: 2026-11-26 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0103_morph_forms"
down_revision = "0102_band_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "morph_forms",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("forms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )


def downgrade() -> None:
    op.drop_table("morph_forms")
