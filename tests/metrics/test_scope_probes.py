"""The labelled scope probes load, and the rules keep their measured quality on the dev part."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.metrics.scope_probes import evaluate, load_probes

PROBES = Path(__file__).parent / "probes"


def test_dev_probes_meet_the_targets() -> None:
    table, errors = evaluate(load_probes(PROBES / "scope_dev.tsv"))
    assert table["dosing"]["recall"] >= 0.95 and table["method"]["recall"] >= 0.95, errors
    assert table["diagnosis"]["recall"] >= 0.90, errors
    assert all(row["precision"] >= 0.90 for row in table.values()), errors


def test_both_parts_have_positives_and_hard_negatives_for_every_check() -> None:
    for name in ("scope_dev.tsv", "scope_holdout.tsv"):
        probes = load_probes(PROBES / name)
        for check in ("dosing", "medication_change", "diagnosis", "method", "referral"):
            assert sum(check in p.labels for p in probes) >= 9, (name, check)
        assert sum(not p.labels for p in probes) >= 30, name


def test_a_bad_label_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\nD\tTake two.\nQ\tUnknown label.\n")
    with pytest.raises(ConfigError, match=r"bad.tsv:3: unknown label"):
        load_probes(bad)
