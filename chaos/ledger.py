"""Who got what: receipts as the channels saw them, the database's view of the outbox, and the final figures.

A receipt is (recipient, article URL), read from what a channel really received (the console's output, the
Telegram server's messages, the SMTP server's mails). After each SIGKILL the outbox rows left in `sending` are
compared with the receipts so far: a row that is `sending` although its alert was already received is a crash
that fell between send and mark, and only such rows may arrive twice.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

URL = re.compile(r"http://127\.0\.0\.1:\d+/(?:rss|html)/a/[\w-]+")
HEADER = re.compile(r"^=== (.+?): \d+ ", re.MULTILINE)


def urls_in(text: str) -> set[str]:
    """The article URLs one message names (a URL shown twice in one message is one receipt)."""
    return set(URL.findall(text))


def console_receipts(output: Path) -> list[tuple[str, str]]:
    """(recipient, url) per alert printed by the console channel, attributed by the digest header."""
    text = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
    receipts: list[tuple[str, str]] = []
    heads = list(HEADER.finditer(text))
    for i, head in enumerate(heads):
        block = text[head.end(): heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        receipts.extend((head.group(1), url) for url in sorted(urls_in(block)))
    return receipts


def outbox(db: Path) -> list[tuple[str, str, str]]:
    """(recipient, url, status) of every outbox row, read straight from the SQLite file."""
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        try:
            rows = conn.execute("SELECT o.recipient, i.url, o.status FROM outbox o JOIN items i ON i.id = o.item_id")
            return [(str(r), str(u), str(s)) for r, u, s in rows]
        except sqlite3.OperationalError:  # killed before the first migration finished
            return []


@dataclass
class Ledger:
    expected: set[tuple[str, str]] = field(default_factory=set)
    restarts: int = 0
    crashes_between_send_and_mark: int = 0
    at_risk: Counter[tuple[str, str]] = field(default_factory=Counter)  # alerts caught between send and mark

    def after_kill(self, db: Path, receipts: list[tuple[str, str]]) -> None:
        self.restarts += 1
        received = set(receipts)
        caught = {(r, u) for r, u, status in outbox(db) if status == "sending" and (r, u) in received}
        if caught:
            self.crashes_between_send_and_mark += 1
            self.at_risk.update(caught)


@dataclass(frozen=True)
class Figures:
    articles_published: int
    alerts_expected: int
    alerts_delivered: int
    duplicates: int
    lost: int
    unexpected: int
    restarts_survived: int
    crashes_between_send_and_mark: int
    unexplained_duplicates: int
    outbox_not_delivered: int

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.unexpected == 0 and self.unexplained_duplicates == 0
                and self.outbox_not_delivered == 0)

    def as_dict(self) -> dict[str, int | bool]:
        return {**asdict(self), "ok": self.ok}


def figures(ledger: Ledger, published: int, receipts: list[tuple[str, str]], db: Path,
            restarts_survived: int) -> Figures:
    counts = Counter(receipts)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    unexplained = sum(max(0, c - 1 - ledger.at_risk[key]) for key, c in counts.items())
    rows = outbox(db)
    return Figures(
        articles_published=published,
        alerts_expected=len(ledger.expected),
        alerts_delivered=len(ledger.expected & set(counts)),
        duplicates=duplicates,
        lost=len(ledger.expected - set(counts)),
        unexpected=len(set(counts) - ledger.expected),
        restarts_survived=restarts_survived,
        crashes_between_send_and_mark=ledger.crashes_between_send_and_mark,
        unexplained_duplicates=unexplained,
        outbox_not_delivered=sum(1 for _r, _u, s in rows if s != "delivered"),
    )
