"""Precision and recall of "same story" on the labelled set in tests/fixtures/stories (prints JSON).

The set: the MFA originals (mfa-000.txt, nine articles), four real kt.kz digests (kt-001..004, ten-odd
meetings each: none of them is one of the nine, but many name the same ambassadors, countries and template
phrases: the hard negatives), and hand-written republications of the nine (rewrites.json: kt.kz digest
paragraphs, Kazinform rewrites, word-for-word copies; different events in the same template). Synthetic
digests put one digest paragraph among nine real ones from kt-001..004.

A case is (earlier item stored, new item arrives, which unit of the new item) → should it join the earlier
item's story? The decision is the real one: LSH band collision (signatures.py) then stories.decide().

    .venv/bin/python -m bench.eval_stories [--threshold 0.5] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.signatures import WHOLE, unit_bands, units
from monitor.story_decide import DEFAULT_THRESHOLD, Candidate, decide

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stories"


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    event: dict[int, str]  # paragraph index -> event id (WHOLE: the whole doc is one event)


def _mfa() -> list[Doc]:
    text = (FIXTURES / "mfa-000.txt").read_text(encoding="utf-8")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    slugs = ["jeddah", "slovenia-econ", "delhi", "ljubljana", "latvia", "portugal", "shanghai", "algeria",
             "muscat"]
    docs: list[Doc] = []
    title: str | None = None
    body: list[str] = []
    for block in [*blocks, "END"]:
        is_title = block == "END" or (len(block) < 150 and not re.search(r'[.!?"»)]$', block))
        if is_title:
            if title is not None:
                slug = slugs[len(docs)]
                docs.append(Doc(f"mfa-{slug}", title, tuple(body), {WHOLE: f"ev-{slug}"}))
            title, body = block, []
        else:
            body.append(block)
    return docs


def _kt() -> list[Doc]:
    docs = []
    for path in sorted(FIXTURES.glob("kt-*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        title = re.sub(r"^date \d{4}-\d{2}-\d{2}\s*", "", lines[0])
        paragraphs = tuple(ln for ln in lines[1:] if not ln.startswith("Фото:"))
        # every paragraph of a real digest is its own event, none of them one of the MFA nine
        docs.append(Doc(path.stem, title, paragraphs, {i: f"{path.stem}#{i}" for i in range(len(paragraphs))}))
    return docs


def _rewrites() -> list[Doc]:
    data = json.loads((FIXTURES / "rewrites.json").read_text(encoding="utf-8"))
    docs = []
    for item in data["items"]:
        event = f"ev-{item['of'].removeprefix('mfa-')}" if item["of"] else f"ev-{item['id']}"
        docs.append(Doc(item["id"], item.get("title", ""), tuple(item["text"].split("\n")), {WHOLE: event}))
    return docs


def _synthetic_digests(kt: list[Doc], rewrites: list[Doc]) -> list[Doc]:
    """One condensed MFA event among nine real digest paragraphs, under a real digest's title and intro."""
    pool = [(d, i) for d in kt for i in range(1, len(d.paragraphs))]
    out = []
    for n, para in enumerate(d for d in rewrites if d.id.startswith("ktp-")):
        base = kt[n % len(kt)]
        others = [pool[(n * 9 + k) % len(pool)] for k in range(9)]
        at = 1 + n % 9
        paragraphs = [base.paragraphs[0]] + [d.paragraphs[i] for d, i in others]
        paragraphs.insert(at, para.paragraphs[0])
        event = {0: f"{base.id}#0", at: para.event[WHOLE]}
        for k, (d, i) in enumerate(others):
            event[k + 1 if k + 1 < at else k + 2] = d.event[i]
        out.append(Doc(f"digest-{para.id}", base.title, tuple(paragraphs), event))
    return out


def corpus() -> list[Doc]:
    kt = _kt()
    rewrites = _rewrites()
    return [*_mfa(), *kt, *rewrites, *_synthetic_digests(kt, rewrites)]


def _events_of(doc: Doc, index: int) -> str | None:
    if WHOLE in doc.event:
        return doc.event[WHOLE]
    return doc.event.get(index)


@dataclass(frozen=True)
class Case:
    earlier: str
    new: str
    unit: int  # WHOLE or a paragraph index of the new doc
    same: bool


def cases(docs: list[Doc]) -> list[Case]:
    """Every ordered pair of docs, every unit of the new doc; same = the unit reports an event of earlier."""
    out = []
    for e in docs:
        events_e = set(e.event.values())
        for n in docs:
            if n is e or n.id.removeprefix("digest-") == e.id.removeprefix("digest-"):
                continue
            if (n.id.startswith("digest-") and e.id.startswith(("digest-", "kt-"))) or (
                    e.id.startswith("digest-") and n.id.startswith("kt-")):
                continue  # synthetic digests reuse real digest paragraphs verbatim: not a meaningful pair
            for u in units(n.title, n.paragraphs):
                if u.index == WHOLE:
                    # a whole item is the same story only if it is one event and that event is earlier's
                    same = WHOLE in n.event and (WHOLE in e.event and e.event[WHOLE] == n.event[WHOLE])
                    # ...or earlier is a digest that carries the event in one paragraph
                    same = same or (WHOLE in n.event and WHOLE not in e.event and n.event[WHOLE] in events_e)
                else:
                    ev = _events_of(n, u.index)
                    same = ev is not None and ev in events_e
                out.append(Case(e.id, n.id, u.index, same))
    return out


def evaluate(threshold: float, docs: list[Doc] | None = None) -> dict[str, object]:
    docs = docs or corpus()
    by_id = {d.id: d for d in docs}
    unit_cache = {d.id: units(d.title, d.paragraphs) for d in docs}
    bands = {d.id: {b for u in unit_cache[d.id] for b in unit_bands(u)} for d in docs}
    tp = fp = fn = tn = 0
    groups: dict[str, dict[str, int]] = {}
    errors: list[dict[str, object]] = []
    plans: dict[tuple[str, str], tuple[int | None, dict[int, int]]] = {}
    for case in cases(docs):
        key = (case.earlier, case.new)
        if key not in plans:
            earlier_story = 1
            cand = Candidate(1, earlier_story, unit_cache[case.earlier])
            found = [cand] if bands[case.earlier] & bands[case.new] else []
            plan = decide(unit_cache[case.new], found, threshold)
            plans[key] = (plan.story_id, plan.paragraphs)
        story, links = plans[key]
        if case.unit == WHOLE:
            joined = story == 1
        else:
            joined = story == 1 or links.get(case.unit) == 1
            if story == 1 and WHOLE not in by_id[case.new].event:
                joined = True  # a digest wrongly joined as a whole: every paragraph is then wrong
        g = groups.setdefault(_group(case), {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
        g["tp" if joined and case.same else "fp" if joined else "fn" if case.same else "tn"] += 1
        if joined and case.same:
            tp += 1
        elif joined:
            fp += 1
            errors.append({"type": "false_same", **case.__dict__})
        elif case.same:
            fn += 1
            errors.append({"type": "missed", **case.__dict__})
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    by_group = {
        name: {**g, "precision": round(g["tp"] / (g["tp"] + g["fp"]), 4) if g["tp"] + g["fp"] else None,
               "recall": round(g["tp"] / (g["tp"] + g["fn"]), 4) if g["tp"] + g["fn"] else None}
        for name, g in sorted(groups.items())
    }
    return {"threshold": threshold, "cases": tp + fp + fn + tn, "positives": tp + fn, "tp": tp, "fp": fp,
            "fn": fn, "tn": tn, "precision": round(precision, 4), "recall": round(recall, 4),
            "by_pair": by_group, "errors": errors}


def _kind(doc_id: str) -> str:
    return doc_id.split("-")[0]


def _group(case: Case) -> str:
    """original↔republication (MFA text and an agency's), republication↔republication (two agencies'),
    and the real kt.kz digests against anything (no positives there: the hard negatives)."""
    kinds = {_kind(case.earlier), _kind(case.new)}
    if "kt" in kinds:
        return "real_digests"
    if "neg" in kinds:
        return "template_negatives"
    if "mfa" in kinds:
        return "original_vs_republication"
    return "republication_vs_republication"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--sweep", action="store_true", help="thresholds 0.2 .. 0.8")
    parser.add_argument("--errors", action="store_true", help="list the wrong decisions")
    args = parser.parse_args()
    docs = corpus()
    thresholds = [round(0.2 + 0.05 * i, 2) for i in range(13)] if args.sweep else [args.threshold]
    results = []
    for t in thresholds:
        r = evaluate(t, docs)
        if not args.errors:
            r.pop("errors")
        results.append(r)
    print(json.dumps(results if args.sweep else results[0], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
