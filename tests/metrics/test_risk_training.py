"""The shipped risk-model weights carry their recipe, and the training command refuses unknown metrics."""

from __future__ import annotations

import json
import subprocess
import sys

from harness.metrics.risk_model import HEADS, load_risk_model, weights_path
from harness.metrics.risk_training import DEV_VIGNETTES, NEVER_TRAINED_ON


def test_shipped_weights_record_recipe_hashes_and_figures() -> None:
    for encoder in ("lexical", "minilm"):
        meta = json.loads(weights_path(encoder).with_suffix(".json").read_text())
        assert meta["encoder"] == encoder and meta["heads"] == list(HEADS)
        files = meta["trained_on"]["vignettes"] + meta["trained_on"]["weak"] + meta["trained_on"]["silver_negatives"]
        assert all(len(f["sha256"]) == 64 for f in files)
        assert not any(n in f["file"] for f in files for n in NEVER_TRAINED_ON), "holdouts must never be trained on"
        assert {"imminent_recall", "high_or_imminent_recall"} <= set(meta["grouped_cv"])
        assert weights_path(encoder).stat().st_size < 1_000_000


def test_the_training_list_and_the_holdouts_are_disjoint() -> None:
    assert NEVER_TRAINED_ON and not set(DEV_VIGNETTES) & set(NEVER_TRAINED_ON)


def test_thresholds_never_let_the_model_raise_on_a_coin_flip() -> None:
    model = load_risk_model("lexical")
    assert (model.thresholds >= 0.5).all() and len(model.thresholds) == len(HEADS)


def test_train_metric_rejects_unknown_metrics() -> None:
    code = "from harness.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", code, "train-metric", "nosuch"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown metric" in result.stderr
