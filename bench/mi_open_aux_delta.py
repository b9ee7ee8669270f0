"""Exact effect of MI's ``_OPEN_AUX`` rule on AnnoMI-dev question items (docs/metrics.md, mi_codes).

``PYTHONPATH=. python bench/mi_open_aux_delta.py [../shared/data/annomi-dev]``

Every utterance whose last question the rule codes open would have been coded closed by the aux-start
rule before it; its sentence ends in "?", so the outcome does not depend on the fitted models. Prints the
gains (gold open) and losses (gold closed), with and without the degenerate annotator.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from harness.metrics.mi import get_coder
from harness.metrics.models import ANNOMI_DEGENERATE_QUESTION_ANNOTATORS, annomi_examples


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/data/annomi-dev"
    examples = annomi_examples(folder, "mi_question")
    degenerate = {str(a) for a in ANNOMI_DEGENERATE_QUESTION_ANNOTATORS}
    counts: Counter[tuple[str, str, str]] = Counter()
    for example, coded in zip(examples, get_coder("lexical").code_many([e.text for e in examples]), strict=True):
        questions = [c for c in coded if c.code.endswith("_question")]
        if questions and questions[-1].source.startswith("rule:open_aux"):
            counts[("gain" if example.label == "open" else "loss",
                    "ends_with_?" if questions[-1].text.rstrip().endswith("?") else "no_?",
                    "annotator_3" if example.group.split("|")[-1] in degenerate else "others")] += 1
    print(f"{len(examples)} question items: {dict(counts)}")


if __name__ == "__main__":
    main()
