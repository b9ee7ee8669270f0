"""MI models that read the client's previous turn: features, the flag that turns them on, the plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.metrics.mi import MICoder
from harness.metrics.models import (
    ANNOMI_CONTEXT_KINDS,
    KNOWN_KINDS,
    Example,
    LinearTextClassifier,
    annomi_examples,
    context_features,
    default_weights_path,
    fit_classifier,
    load_model,
    text_features,
)

# Hand-written pairs: the same counsellor sentence restates one client turn and not the other.
PAIRS = [
    ("You're exhausted by the night shifts.", "These night shifts leave me exhausted.", "My sister moved away."),
    ("The arguments with your father wear you down.", "The arguments with my father wear me down.", "I bought a bike."),
    ("You miss the running club.", "I really miss the running club on Sundays.", "Work was busy today."),
    ("Drinking helps you sleep.", "Honestly drinking is the only thing that helps me sleep.", "The kids are fine."),
    ("You want your weekends back.", "I just want my weekends back for once.", "The dentist called."),
    ("Money worries keep you awake.", "Money worries keep me awake at night.", "We painted the kitchen."),
    ("You're proud of the garden.", "I'm proud of the garden I planted.", "Traffic was terrible."),
    ("Your manager ignores your ideas.", "My manager ignores every idea I bring.", "It rained all day."),
]


def test_overlap_with_the_clients_words_is_bucketed() -> None:
    words = "you're exhausted by the night shifts".split()
    restated = context_features("These night shifts leave me exhausted.", words)
    unrelated = context_features("My sister moved away.", words)
    assert restated[0] != unrelated[0] and unrelated[0] == "ov:0"
    assert "cq:1" in context_features("Do you think I drink too much?", words)
    assert "c:sister" in unrelated


def test_text_features_only_add_context_when_given() -> None:
    plain = text_features("You miss the running club.")
    with_context = text_features("You miss the running club.", "I miss the running club.")
    assert not any(f.startswith(("ov:", "c:")) for f in plain)
    assert set(plain) < set(with_context)


def _toy_reflection_model() -> LinearTextClassifier:
    """simple = the sentence restates the client's turn, complex = it does not (only the context differs)."""
    examples = [Example(t, "simple", str(i), restated) for i, (t, restated, _) in enumerate(PAIRS)]
    examples += [Example(t, "complex", str(i), other) for i, (t, _, other) in enumerate(PAIRS)]
    return fit_classifier("toy_reflection", examples, C=10.0)


def test_a_model_trained_with_context_reads_it_and_records_so(tmp_path: Path) -> None:
    model = LinearTextClassifier.load(_toy_reflection_model().save(tmp_path / "r.npz"))
    assert model.uses_context and model.meta["uses_context"] is True
    text = "You're worn out by the night shifts."
    assert model.predict([text, text], ["The night shifts wear me out.", "I like jazz."]) == ["simple", "complex"]


def test_a_model_trained_without_context_ignores_it() -> None:
    labelled = [("What happened?", "open"), ("Did it?", "closed")]
    examples = [Example(t, lab, str(i)) for i, (t, lab) in enumerate(labelled)]
    model = fit_classifier("toy_question", examples * 3)
    assert not model.uses_context
    with_ctx = model.features(["What happened next?"], ["I lost my job and my flat."]).toarray()
    assert np.array_equal(with_ctx, model.features(["What happened next?"]).toarray())


def test_the_coder_passes_each_responses_client_turn_to_the_reflection_model() -> None:
    shipped = MICoder.default()
    coder = MICoder(shipped.behaviour, shipped.question, _toy_reflection_model())
    text = "So you're exhausted by the night shifts."
    coded = coder.code_many([text, text], ["These night shifts leave me exhausted.", "My sister moved away."])
    codes = [[c.code for c in sentences] for sentences in coded]
    assert codes == [["simple_reflection"], ["complex_reflection"]]


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_shipped_weights_read_context_exactly_for_the_chosen_kinds(kind: str) -> None:
    meta = json.loads(default_weights_path(kind).with_suffix(".json").read_text())
    assert meta.get("uses_context", False) == (kind in ANNOMI_CONTEXT_KINDS)
    assert load_model(kind).uses_context == (kind in ANNOMI_CONTEXT_KINDS)


def test_annomi_examples_carry_the_clients_previous_turn(shared_data: Path) -> None:
    annomi = shared_data / "annomi-dev"
    if not annomi.is_dir():
        pytest.skip("annomi-dev absent")
    reflections = annomi_examples(annomi, "mi_reflection")
    assert sum(e.context is not None for e in reflections) > 0.9 * len(reflections)
    assert all(e.context is None for e in annomi_examples(annomi, "mi_behaviour"))
    behaviour = annomi_examples(annomi, "mi_behaviour", with_context=True)
    assert sum(e.context is not None for e in behaviour) > 0.9 * len(behaviour)
