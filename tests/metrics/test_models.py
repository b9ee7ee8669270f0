"""Metric classifiers: hashing is stable, weights round-trip, users can retrain from JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.metrics.models import (
    KNOWN_KINDS,
    LinearTextClassifier,
    annomi_examples,
    default_weights_path,
    hash_features,
    load_model,
    read_labelled_jsonl,
    train_metric_model,
)


def test_hashed_features_are_deterministic_and_normalised() -> None:
    a = hash_features(["So you feel stuck?"]).toarray()
    b = hash_features(["So you feel stuck?"]).toarray()
    assert np.array_equal(a, b)
    assert np.isclose(np.linalg.norm(a), 1.0)


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_shipped_weights_exist_with_provenance(kind: str) -> None:
    path = default_weights_path(kind, "lexical")
    model = load_model(kind)
    assert set(model.classes) == set(KNOWN_KINDS[kind])
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["trained_on"][0]["sha256"] and "grouped_cv" in meta


def test_train_from_jsonl_round_trips(tmp_path: Path) -> None:
    rows = [{"text": f"What do you think about option {i}?", "label": "open", "group": str(i)} for i in range(10)]
    rows += [{"text": f"Did you take option {i}?", "label": "closed", "group": str(i)} for i in range(10)]
    data = tmp_path / "q.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    weights = train_metric_model("my_questions", data, out=tmp_path / "m.npz")
    model = LinearTextClassifier.load(weights)
    assert model.predict(["What do you make of it?", "Did you sleep?"]) == ["open", "closed"]
    assert model.meta["trained_on"][0]["file"] == "q.jsonl"


def test_bad_training_lines_name_the_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "ok", "label": "a"}\n{"text": "no label"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2"):
        read_labelled_jsonl(data)


def test_annomi_loader_reads_therapist_utterances(shared_data: Path) -> None:
    annomi = shared_data / "annomi-dev"
    if not annomi.is_dir():
        pytest.skip("annomi-dev absent")
    behaviour = annomi_examples(annomi, "mi_behaviour")
    assert len(behaviour) > 4000 and {e.label for e in behaviour} == set(KNOWN_KINDS["mi_behaviour"])
    questions = annomi_examples(annomi, "mi_question")
    assert all("|" in e.group for e in questions)


def test_a_shared_feature_matrix_gives_the_same_predictions() -> None:
    model = load_model("mi_question")
    texts = ["What brings you here?", "Do you smoke?", "How has it been?"]
    assert model.predict_from(model.features(texts)) == model.predict(texts)
