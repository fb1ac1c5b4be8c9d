"""Exactly-once delivery under SIGKILL (issue 5): the real digest.py protocol in a child process, a real SQLite
file, kills at random points before, during and after sends. Every alert arrives; an alert arrives twice only
if a crash fell between its send and its mark (seen in the receipt log while its row was still `sending`), and
at most once more per such crash."""

from __future__ import annotations

import random
from pathlib import Path

from chaos.killloop import kill_loop
from monitor.config import parse_config
from monitor.pipeline import run_source
from monitor.runtime import build_runtime
from tests.servers.pages import PageServer, Route
from tests.test_pipeline import rss

ALERTS = 20


def config_body(pages: PageServer) -> str:
    return f"""[[sources]]
name = "feed"
kind = "rss"
url = "{pages.url('/feed')}"

[[rules]]
name = "slovenia"
keyword = "Словения"

[[recipients]]
name = "desk"
console = true
max_digest = 2
"""


async def test_sigkill_at_random_points_loses_nothing_and_duplicates_only_after_send(
        pages: PageServer, tmp_path: Path) -> None:
    rng = random.Random(20261126)
    items = [(f"Новость {i} {rng.getrandbits(40):x}", f"http://example.org/{i}",
              f"<p>Визит {i}: Словения и Казахстан, {rng.getrandbits(40):x}.</p>") for i in range(ALERTS)]
    pages.routes["/feed"] = Route(rss(*items))
    db = tmp_path / "monitor.db"
    config = tmp_path / "config.toml"
    # a short lease: a row left `sending` by a killed sender is taken up again 0.3 s later, not 60 s
    config.write_text(f'[daemon]\ndatabase = "sqlite:///{db}"\ndelivery_lease = "300ms"\n{config_body(pages)}',
                      encoding="utf-8")
    rt = await build_runtime(parse_config(config.read_text(encoding="utf-8")))
    try:
        assert (await run_source(rt, "feed", force=True)).enqueued == ALERTS
    finally:
        await rt.aclose()

    result = await kill_loop(config, db, tmp_path / "receipts.log", seed=rng.getrandbits(32), max_kills=6,
                             kill_after_s=(0.0, 0.4))

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
