"""story bands from 32-bit feature codes: re-index the items of the default story window

The band keys changed with signatures.py's feature codes (see its docstring): keys written by the earlier
hashing never collide with new ones, so every stored item would stop being a candidate. The rows are
replaced by the new keys of the items fetched in the last three days (the default `story_window`; older
items are no candidates anyway, and a longer configured window fills up again as items arrive).

Revision ID: 0102_band_codes
Revises: 0101_stories
Create Date: 2026-11-26 13:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from monitor.signatures import unit_bands, units
from monitor.store.tables import ItemRow, StoryBandRow

revision = "0102_band_codes"
down_revision = "0101_stories"
branch_labels = None
depends_on = None
BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(StoryBandRow))
    since = datetime.now(UTC) - timedelta(days=3)
    after = 0
    while True:
        rows = bind.execute(
            sa.select(ItemRow.id, ItemRow.title, ItemRow.text)
            .where(ItemRow.fetched_at >= since, ItemRow.id > after).order_by(ItemRow.id).limit(BATCH)
        ).all()
        if not rows:
            return
        values = [{"band": band, "item_id": item_id}
                  for item_id, title, text in rows
                  for band in {b for u in units(title, tuple(text.split("\n"))) for b in unit_bands(u)}]
        if values:
            bind.execute(sa.insert(StoryBandRow), values)
        after = rows[-1][0]


def downgrade() -> None:
    # the earlier keys cannot be rebuilt without the earlier code: the window's items stop being candidates
    op.get_bind().execute(sa.delete(StoryBandRow))
