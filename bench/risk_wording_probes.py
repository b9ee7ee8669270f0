"""Misses and false alarms of the risk detector on the session-10 wording probes.

    python bench/risk_wording_probes.py [--rules-only] [--file tests/metrics/vignettes/risk_wording_probes.jsonl]

Each probe names the lowest level a reviewer would accept (``min_level``; "none" = must stay unflagged).
``set`` says how it was used: in each round, "devN" probes found failure classes and "holdoutN" probes were
written before that round's fixes and scored after them (round 1 has no number). Round 1: a softening adverb, a
condition with relief, a burden, a prayer or illness hoped for, slang, a method without "the". Round 2: negation
read across "doesn't know" / "never told", an act held back ("the only thing stopping me", "yet"), "don't care if
I die", commanding voices, two final arrangements. Round 3: attempts stopped short ("I nearly jumped off the
bridge"), lethal-means research asked as a question, "look after X for me" as a farewell signal, "the urge to
die". Round 4: misspelt "suicide" / "suicidal", wishing to follow someone who died. Round 5: "wanna die",
clinical "SI with plan / intent", "ready to go" alone. Round 6: pacts ("kill ourselves together"), sleeping forever,
"won't be a burden anymore", dates as a timeline ("next week", "on my birthday"), goodbye to a place. Round 7
(session 11): death appraised as a relief ("death sounds so peaceful"), lethality asked by amount ("is 30 paracetamol
enough"), a note "for after I'm gone", walking into the sea, generic "you". Round 8: "sh" for self-harm, fresh cuts
as nouns, self-harm announced for a time, doubt about staying safe, "if you're reading this, I'm already gone",
"gone for good" with a time. Round 9: questions about one's own death ("why shouldn't I just kill myself?"),
"how long does it take to bleed out", "the last weekend I'll be alive", "die my hair". Round 10: "so my kids don't
have to find me", "tonight I end it", wishing to be killed or hit by a car. Round 11: pills bought at several shops,
regret "when I'm gone", "a waste of oxygen". Figures:
docs/metrics.md, risk_detection. Author-written: an upper bound for text nobody here wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "tests/metrics/vignettes/risk_wording_probes.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--rules-only", action="store_true", help="score the rules alone (assess_rules)")
    args = parser.parse_args()

    from harness.metrics.risk import LEVELS, assess_risks, assess_rules

    rows = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    texts = [row["text"] for row in rows]
    levels = [assess_rules(t).level for t in texts] if args.rules_only else [a.level for a in assess_risks(texts)]
    for part in sorted({row["set"] for row in rows}):
        risky = misses = under = calm = alarms = 0
        for row, got in zip(rows, levels, strict=True):
            if row["set"] != part:
                continue
            wanted = row["min_level"]
            if wanted == "none":
                calm += 1
                alarms += got != "none"
                if got != "none":
                    print(f"  false alarm ({part}): {got}: {row['text'][:100]!r}")
                continue
            risky += 1
            if got == "none":
                misses += 1
                print(f"  miss ({part}): wanted >= {wanted}: {row['text'][:100]!r}")
            elif LEVELS.index(got) < LEVELS.index(wanted):
                under += 1
                print(f"  under ({part}): {got} < {wanted}: {row['text'][:100]!r}")
        detector = "rules only" if args.rules_only else "rules + learned model (default)"
        print(f"{part}, {detector}: missed {misses}/{risky}, below the wanted level {under}/{risky}, "
              f"false alarms {alarms}/{calm}")


if __name__ == "__main__":
    main()
