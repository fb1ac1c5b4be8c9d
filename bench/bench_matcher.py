"""Matcher throughput against the number of rules, and the naive baseline (one regex per rule).

    python -m bench.bench_matcher [--sizes 10,1000,10000] [--seconds 2]

Prints one JSON object: for each rule count, compile time and paragraphs/s of the compiled matcher and of
a loop over one case-insensitive whole-word regex per rule (each rule's name in the nominative). The
paragraphs are the MFA digests in tests/fixtures/rules. Rules are generated: a mix of countries, persons,
ambassadors and keywords, always including a few that fire on the fixtures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from monitor.rules import Matcher, RuleSpec, compile_rules
from monitor.rules.gazetteer import countries

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "rules"
SYLLABLES = ["ба", "ка", "ли", "мур", "нат", "сей", "тол", "ха", "жан", "ер", "бек", "ай", "гуль", "дос",
             "ра"]
REAL = [RuleSpec(name="real-si", country="Словения", capital=True), RuleSpec(name="real-ois", keyword="ОИС"),
        RuleSpec(name="real-ab", person="Алтай Абибуллаев"), RuleSpec(name="real-amb", ambassador="Словения"),
        RuleSpec(name="real-mc", keyword="Средний коридор")]


def paragraphs() -> list[str]:
    out: list[str] = []
    for path in sorted(FIXTURES.glob("*.txt")):
        out.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return out


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def generate(n: int, seed: int = 1) -> list[RuleSpec]:
    """n rules: 30% countries (with any-words to keep them distinct), 30% persons, 10% ambassadors,
    30% keywords (one or two invented words, some all-caps)."""
    rng = random.Random(seed)
    codes = sorted(countries())
    specs = list(REAL[:n])
    while len(specs) < n:
        i, kind = len(specs), rng.random()
        if kind < 0.3:
            specs.append(RuleSpec(name=f"c{i}", country=rng.choice(codes), any=(_word(rng, 3),)))
        elif kind < 0.6:
            surname = _word(rng, 3).capitalize() + rng.choice(["ов", "ева", "ин", "ский", "улы", ""])
            specs.append(RuleSpec(name=f"p{i}", person=f"{_word(rng, 2).capitalize()} {surname}"))
        elif kind < 0.7:
            # half of them with a person (the ambassador's name), half on the country alone
            person = _word(rng, 3).capitalize() + "ов" if rng.random() < 0.5 else None
            specs.append(RuleSpec(name=f"a{i}", ambassador=rng.choice(codes), person=person))
        elif kind < 0.8:
            specs.append(RuleSpec(name=f"k{i}", keyword=_word(rng, 2).upper()))
        else:
            words = [_word(rng, 3) for _ in range(rng.randint(1, 2))]
            specs.append(RuleSpec(name=f"k{i}", keyword=" ".join(words)))
    return specs


def naive_value(spec: RuleSpec) -> str:
    """What the baseline looks for: the rule's name as written (nominative), or its keyword."""
    value = spec.keyword or spec.person or spec.country or spec.ambassador or spec.regex or ""
    if spec.person:
        value = value.split(",")[0] if "," in value else value.split()[-1]
    if spec.country or spec.ambassador:
        code = spec.country or spec.ambassador or ""
        value = countries()[code].name if code in countries() else value
    return value


def naive_matcher(specs: Sequence[RuleSpec]) -> Callable[[str], list[str]]:
    """The baseline: a loop over one case-insensitive whole-word regex per rule."""
    compiled = [(s.name, re.compile(rf"(?<!\w){re.escape(naive_value(s))}(?!\w)", re.IGNORECASE))
                for s in specs]

    def match(text: str) -> list[str]:
        return [name for name, pattern in compiled if pattern.search(text)]

    return match


def _one(matcher: Matcher, paragraph: str) -> object:
    return matcher.match("", [paragraph])


def rate(fn: Callable[[str], object], paras: list[str], seconds: float, rounds: int = 5) -> float:
    """Paragraphs per second: the best of `rounds` passes over the paragraphs (a busy machine only ever
    makes a pass slower, so the best pass is the least noisy figure), within about `seconds`."""
    fn(paras[0])  # warm up caches before the clock starts
    best, deadline = 0.0, time.perf_counter() + seconds
    for _ in range(rounds):
        done, start = 0, time.perf_counter()
        for p in paras:
            fn(p)
            done += 1
            if time.perf_counter() > deadline and done >= 5:
                break
        best = max(best, done / (time.perf_counter() - start))
        if time.perf_counter() > deadline:
            break
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent measuring each figure")
    args = parser.parse_args(argv)
    paras = paragraphs()
    results: dict[str, object] = {"paragraphs": len(paras), "sizes": {}}
    for n in (int(x) for x in args.sizes.split(",")):
        specs = generate(n)
        start, cpu = time.perf_counter(), time.process_time()
        matcher = compile_rules(specs)
        compile_s, compile_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        naive = naive_matcher(specs)
        results["sizes"][n] = {  # type: ignore[index]
            "compile_s": round(compile_s, 3),
            "compile_cpu_s": round(compile_cpu_s, 3),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "matcher_paragraphs_per_s": round(rate(partial(_one, matcher), paras, args.seconds)),
            "naive_paragraphs_per_s": round(rate(naive, paras, args.seconds), 1),
        }
    sizes = results["sizes"]
    assert isinstance(sizes, dict)
    if len(sizes) > 1:
        first, last = sizes[min(sizes)], sizes[max(sizes)]
        results["cost_ratio_largest_vs_smallest"] = round(
            first["matcher_paragraphs_per_s"] / last["matcher_paragraphs_per_s"], 2)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
