"""Exactly-once delivery under SIGKILL (issue 5): the real digest.py protocol in a child process, a real SQLite
file, kills at random points before, during and after sends. Every alert arrives; an alert arrives twice only
if a crash fell between its send and its mark (seen in the receipt log while its row was still `sending`), and
at most once more per such crash."""

from __future__ import annotations

from pathlib import Path

from chaos.killloop import kill_loop, outbox_statuses, prepared_outbox
from monitor.config import parse_config

ALERTS = 30


async def test_sigkill_at_random_points_loses_nothing_and_duplicates_only_after_send(tmp_path: Path) -> None:
    config, db = await prepared_outbox(tmp_path, ALERTS, seed=20261126)
    assert outbox_statuses(db) == {"pending": ALERTS}

    result = await kill_loop(config, db, tmp_path / "receipts.log", seed=7, max_kills=6, kill_after_s=(0.0, 0.3))

    print(f"kills={result.kills} rounds={result.rounds} between_send_and_mark={result.crashes_between_send_and_mark} "
          f"duplicates={result.duplicates} lost={result.lost}")
    assert result.kills >= 3, "the loop must really have killed the sender"
    assert result.finished and result.statuses == {"delivered": ALERTS}
    assert result.lost == 0
    assert result.unexplained_duplicates == 0, (result.received, result.at_risk)
    assert result.duplicates <= sum(result.at_risk.values())


def test_delivery_lease_is_configurable() -> None:
    assert parse_config('[daemon]\ndelivery_lease = "3s"\n').daemon.delivery_lease == 3.0
    assert parse_config("").daemon.delivery_lease == 60.0
