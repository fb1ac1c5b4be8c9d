"""The chaos suite in its short form (the long one: `make chaos`): the real daemon as a child process, the
source server failing on command, SIGKILL restarts; nothing lost, no duplicate without a crash to explain it."""

from __future__ import annotations

from pathlib import Path

from chaos.scenario import Plan, run


async def test_short_chaos_run_loses_no_alert(tmp_path: Path) -> None:
    figures, stats = await run(Plan(steps=5, kill_p=0.7, fault_p=0.6, settle_s=120.0), tmp_path, seed=5)
    assert figures.alerts_expected > 0 and figures.restarts_survived >= 1
    assert figures.lost == 0 and figures.alerts_delivered == figures.alerts_expected
    assert figures.unexplained_duplicates == 0 and figures.unexpected == 0
    assert figures.outbox_not_delivered == 0
    assert stats["exit_code_on_sigterm"] == 0 and stats["internal_errors"] == 0
    assert stats["secrets_in_output"] == 0  # token and password: not in stdout, stderr or the database
