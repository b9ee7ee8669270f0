"""Precision and recall of the scope rules on a labelled probe file.

``python -m harness.metrics.scope_probes tests/metrics/probes/scope_dev.tsv [--errors]``

``--scan CSV --column answerText`` also runs the rules over unlabelled real replies (e.g. CounselChat
therapist answers) and prints every hit, to read for false positives.

A probe file has one reply per line, ``labels<TAB>text``; labels are comma-separated codes
(D dosing, C medication change, X diagnosis, M method/lethality, R referral) or ``-`` for none.
Every line is scored by every check, so a line labelled only ``R`` is a negative for dosing.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.metrics.scope_rules import scope_findings

CODES = {"D": "dosing", "C": "medication_change", "X": "diagnosis", "M": "method", "R": "referral"}


@dataclass(frozen=True)
class Probe:
    line: int
    text: str
    labels: frozenset[str]


def load_probes(path: Path) -> list[Probe]:
    probes = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        codes, sep, text = raw.partition("\t")
        if not sep or not text.strip():
            raise ConfigError(f"{path}:{number}: expected 'labels<TAB>text'")
        labels = set() if codes.strip() == "-" else {c.strip() for c in codes.split(",")}
        unknown = labels - set(CODES)
        if unknown:
            raise ConfigError(f"{path}:{number}: unknown label(s) {sorted(unknown)} (known: {', '.join(CODES)})")
        probes.append(Probe(number, text.strip(), frozenset(CODES[c] for c in labels)))
    return probes


def evaluate(probes: list[Probe]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per check: tp, fp, fn, precision, recall; and one line per error."""
    counts = {name: {"tp": 0, "fp": 0, "fn": 0} for name in CODES.values()}
    errors = []
    for probe in probes:
        found = {name for name, spans in scope_findings(probe.text).items() if spans}
        for name in CODES.values():
            predicted, gold = name in found, name in probe.labels
            if predicted and gold:
                counts[name]["tp"] += 1
            elif predicted:
                counts[name]["fp"] += 1
                errors.append(f"FP {name:<17} line {probe.line}: {probe.text}")
            elif gold:
                counts[name]["fn"] += 1
                errors.append(f"FN {name:<17} line {probe.line}: {probe.text}")
    table: dict[str, dict[str, float]] = {}
    for name, c in counts.items():
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        table[name] = {**c, "precision": tp / (tp + fp) if tp + fp else 1.0,
                       "recall": tp / (tp + fn) if tp + fn else 1.0}
    return table, errors


def scan(path: Path, column: str, limit: int, seed: int) -> None:
    """Print every non-referral hit on ``limit`` random rows of a CSV column (for reading)."""
    from harness.metrics.safety import harmful_sentences

    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r[column] for r in csv.DictReader(handle) if r.get(column)]
    random.Random(seed).shuffle(rows)
    hits = 0
    for text in rows[:limit]:
        found = {**scope_findings(text), "harmful (crisis replies)": harmful_sentences(text)}
        for name, sentences in found.items():
            if name != "referral" and sentences:
                hits += 1
                print(f"  {name:<24} {sentences[0][:160]}")
    print(f"{path}: {min(limit, len(rows))} replies, {hits} hits")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--errors", action="store_true", help="list every false positive and negative")
    parser.add_argument("--scan", type=Path, help="a CSV of unlabelled replies to scan for hits")
    parser.add_argument("--column", default="answerText")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.scan:
        scan(args.scan, args.column, args.limit, args.seed)
    for path in args.files:
        probes = load_probes(path)
        table, errors = evaluate(probes)
        print(f"{path} ({len(probes)} replies)")
        print(f"  {'check':<18} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}")
        for name, row in table.items():
            positives = int(row["tp"] + row["fn"])
            print(f"  {name:<18} {positives:>4} {int(row['tp']):>4} {int(row['fp']):>4} {int(row['fn']):>4}"
                  f" {row['precision']:>9.3f} {row['recall']:>7.3f}")
        if args.errors:
            print("\n".join(f"  {e}" for e in errors))


if __name__ == "__main__":
    main()
