"""Document-level precision/recall of `country` and `person` rules against NEREL.

    python -m bench.eval_nerel /path/to/nerel-train [--show-errors N]

NEREL (Loukachevitch et al., 2021, "NEREL: A Russian Dataset with Nested Named Entities, Relations and
Events"; github.com/nerel-ds/NEREL) annotates Russian Wikinews articles with entities linked to Wikidata.
For each country (a Wikidata id whose label is in our gazetteer) the documents that should match the rule
`country = "<name>"` are those with a COUNTRY span linked to that id; for each person, those with a
PERSON span linked to the person's id, with the rule `person = "<label>"`. Every rule runs on every
document; (rule, document) pairs are counted micro-averaged. The same is done for the naive baseline, a
case-insensitive whole-word search for the nominative name (a country's short name, a person's surname).
Prints JSON. The corpus is never copied into the project.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from monitor.rules import RuleSpec, compile_rules
from monitor.rules.gazetteer import countries, lookup

_ROMAN = re.compile(r"^[IVXLC]+$")


Corpus = tuple[dict[str, str], dict[str, dict[str, set[str]]], dict[str, Counter[str]], dict[str, set[str]]]


def load(folder: Path) -> Corpus:
    """(doc → text, type → Wikidata id → docs, id → label counts, doc → lower-cased surface of every
    annotated span) for COUNTRY and PERSON spans."""
    texts: dict[str, str] = {}
    surfaces: dict[str, set[str]] = defaultdict(set)
    gold: dict[str, dict[str, set[str]]] = {"COUNTRY": defaultdict(set), "PERSON": defaultdict(set)}
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for ann in sorted(folder.glob("*.ann")):
        doc = ann.stem
        texts[doc] = ann.with_suffix(".txt").read_text(encoding="utf-8")
        types: dict[str, str] = {}
        for line in ann.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if parts[0].startswith("T") and len(parts) > 1:
                types[parts[0]] = parts[1].split()[0]
                if len(parts) > 2:
                    surfaces[doc].add(parts[2].lower())
            elif parts[0].startswith("N") and len(parts) > 1:
                fields = parts[1].split()
                if len(fields) < 3 or not fields[2].startswith("Wikidata:Q"):
                    continue
                kind, qid = types.get(fields[1]), fields[2].removeprefix("Wikidata:")
                if kind in gold:
                    gold[kind][qid].add(doc)
                    labels[qid][parts[2].strip() if len(parts) > 2 else ""] += 1
    return texts, gold, labels, surfaces


def country_rules(gold: dict[str, set[str]], labels: dict[str, Counter[str]]) -> dict[str, set[str]]:
    """gazetteer code → gold docs, for the ids whose usual label the gazetteer knows."""
    out: dict[str, set[str]] = defaultdict(set)
    for qid, docs in gold.items():
        label = labels[qid].most_common(1)[0][0]
        code = lookup(label) if label else None
        if code:
            out[code] |= docs
    return out


def person_label(label: str) -> str | None:
    """The label as a `person` value, or None when it is not a plain personal name."""
    words = label.replace(",", " ").split()
    if len(words) < 2 or label == "нет данных" or not all(w[:1].isupper() for w in words):
        return None
    if _ROMAN.match(words[-1]) or any(ch.isdigit() for ch in label):
        return None
    return label


def run(folder: Path, show_errors: int = 0) -> dict[str, object]:
    texts, gold, labels, surfaces = load(folder)
    specs: list[RuleSpec] = []
    truth: dict[str, set[str]] = {}
    naive: dict[str, re.Pattern[str]] = {}
    kinds: dict[str, str] = {}
    for code, docs in country_rules(gold["COUNTRY"], labels).items():
        name = f"country:{code}"
        specs.append(RuleSpec(name=name, country=code))
        truth[name], kinds[name] = docs, "country"
        naive[name] = re.compile(rf"(?<!\w){re.escape(countries()[code].name)}(?!\w)", re.IGNORECASE)
    for qid, docs in gold["PERSON"].items():
        value = person_label(labels[qid].most_common(1)[0][0])
        if value is None:
            continue
        name = f"person:{qid}"
        specs.append(RuleSpec(name=name, person=value))
        truth[name], kinds[name] = docs, "person"
        surname = value.split(",")[0].strip() if "," in value else value.split()[-1]
        naive[name] = re.compile(rf"(?<!\w){re.escape(surname)}(?!\w)", re.IGNORECASE)
    matcher = compile_rules(specs)
    predicted: dict[str, set[str]] = defaultdict(set)
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)  # (rule, doc) → matched text
    baseline: dict[str, set[str]] = defaultdict(set)
    for doc, text in texts.items():
        lines = [line for line in text.splitlines() if line.strip()]
        for m in matcher.match(lines[0] if lines else "", lines[1:]):
            predicted[m.rule].add(doc)
            seen[(m.rule, doc)].update(m.snippet[s:e].lower() for s, e in m.spans)
        for name, pattern in naive.items():
            if pattern.search(text):
                baseline[name].add(doc)
    if show_errors:
        _print_errors(truth, predicted, show_errors)
    report: dict[str, object] = {"documents": len(texts), "credit": "NEREL (Loukachevitch et al., 2021)"}
    for kind in ("country", "person"):
        names = [n for n in truth if kinds[n] == kind]
        report[kind] = {"rules": len(names), "matcher": _score(names, truth, predicted),
                        "naive": _score(names, truth, baseline)}
        # false positives whose every matched mention NEREL annotated as something else (an adjective
        # tagged NATIONALITY, 'США' linked to a national team...): a difference of convention, not a miss
        other = {(n, d) for n in names for d in predicted[n] - truth[n] if seen[(n, d)] <= surfaces[d]}
        kept = {n: {d for d in predicted[n] if (n, d) not in other} for n in names}
        report[kind]["false_positives_annotated_otherwise"] = len(other)  # type: ignore[index]
        report[kind]["matcher_without_those"] = _score(names, truth, defaultdict(set, kept))  # type: ignore[index]
    return report


def _score(names: list[str], truth: dict[str, set[str]], found: dict[str, set[str]]) -> dict[str, float]:
    tp = sum(len(truth[n] & found[n]) for n in names)
    fp = sum(len(found[n] - truth[n]) for n in names)
    fn = sum(len(truth[n] - found[n]) for n in names)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def _print_errors(truth: dict[str, set[str]], found: dict[str, set[str]], limit: int) -> None:
    """A few false positives and negatives per kind on stderr, for tuning."""
    for label, pairs in (("false positive", [(n, d) for n in truth for d in sorted(found[n] - truth[n])]),
                         ("false negative", [(n, d) for n in truth for d in sorted(truth[n] - found[n])])):
        for name, doc in pairs[:limit]:
            print(f"{label}: {name} in {doc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a NEREL split: NAME.txt + NAME.ann files")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N",
                        help="print N false positives and N false negatives to stderr")
    args = parser.parse_args(argv)
    if not any(args.folder.glob("*.ann")):
        sys.exit(f"{args.folder}: no .ann files (pass a NEREL split such as nerel-train)")
    print(json.dumps(run(args.folder, args.show_errors), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
