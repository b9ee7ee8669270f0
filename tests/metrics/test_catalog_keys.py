"""Views read a key's direction and title from the metric's own declaration (the catalog)."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError
from harness.metrics import build_metric, metric_names
from harness.metrics.catalog import declared_keys, key_label
from harness.store import Store
from harness.verdict import metric_directions


def test_declared_directions_match_what_built_metrics_score_with() -> None:
    declared = declared_keys()
    assert {"rougeL", "bertscore_f1", "empathy_total", "grounded", "within_limit"} <= set(declared)
    checked = 0
    for name in metric_names():
        try:
            metric = build_metric(name)
        except ConfigError:  # needs parameters (the judge)
            continue
        for key in metric.keys:
            if key.name in declared:
                assert declared[key.name].higher_is_better == key.higher_is_better, (name, key.name)
                checked += 1
    assert checked > 20
    assert declared["unsupported_claims"].higher_is_better is False


def test_titles_come_from_the_declaring_metric() -> None:
    assert [key_label(k) for k in ("rougeL", "bertscore_f1", "within_limit", "grounded", "answer_correct_facts",
                                   "ndcg_at_10", "declined_correctly")] == [
        "ROUGE-L", "BERTScore-F1", "within word limit", "groundedness", "correct facts", "nDCG@10",
        "declined correctly"]
    assert key_label("empathy_total") == "empathy total (0-6)"  # no label declared: name and range
    assert key_label("a_plugin_key") == "a plugin key"


def test_the_verdict_takes_directions_from_the_catalog_else_the_run(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        store.save_scores("r1", "fp", "therapy", "v1", [], [
            ("rouge", "rougeL", False, "stored with the wrong direction"),
            ("team_metric", "plugin_only", False, "a plugin no longer installed"),
        ])
        assert metric_directions(store, "r1", "therapy") == {"rougeL": True, "plugin_only": False}
