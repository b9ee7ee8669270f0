"""The learned EPITOME empathy heads: shipped weights, the default metric path, training on EPITOME-format CSVs."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.metrics.base import Output
from harness.metrics.empathy_metric import Empathy
from harness.metrics.empathy_model import FEATURE_SET, EmpathyModel, pair_features, unique_sentences
from harness.metrics.models import WEIGHTS_DIR
from harness.suite import Case

SEEKER = "My dog died last week and the house feels so empty. I keep expecting to hear him at the door."


@pytest.mark.parametrize("dim", ["er", "ip", "ex"])
def test_shipped_heads_record_recipe_data_hash_and_cross_validated_figures(dim: str) -> None:
    meta = json.loads((WEIGHTS_DIR / f"empathy_{dim}-lexical.json").read_text())
    assert meta["features"] == FEATURE_SET
    assert "train-metric empathy" in meta["recipe"]
    assert len(meta["trained_on"][0]["sha256"]) == 64
    cv = meta["figures"]["grouped_cv_dev"]
    assert cv["macro_f1_ci95"][0] <= cv["macro_f1"] <= cv["macro_f1_ci95"][1]
    assert cv["macro_f1"] > cv["majority_baseline_macro_f1"]


def test_metric_uses_the_learned_model_by_default(make_case: Callable[..., Case]) -> None:
    scores = Empathy().score([make_case(SEEKER)], [Output("I'm so sorry. Losing him must be heartbreaking.")])
    assert scores[0].details["source"] == "model:lexical"
    assert set(scores[0].details["rules"]) == {"er", "ip", "ex"}


def test_rules_stay_available_as_a_method(make_case: Callable[..., Case]) -> None:
    scores = Empathy(method="rules").score([make_case(SEEKER)], [Output("I understand. What happened?")])
    assert scores[0].values == {"empathy_er": 0.0, "empathy_ip": 1.0, "empathy_ex": 1.0, "empathy_total": 2.0}
    with pytest.raises(TypeError):
        Empathy(method="vibes")


def test_learned_levels_separate_warmth_questions_and_advice() -> None:
    model = EmpathyModel.default()
    warm, question, advice = model.predict(
        [SEEKER] * 3,
        [
            "I am so sorry for your loss, sending you a big hug. He was lucky to have you.",
            "What was his name? How are you holding up since he passed?",
            "Get a new dog from the shelter.",
        ],
    )
    assert warm["er"] >= 1 and question["ex"] >= 1
    assert advice == {"er": 0, "ip": 0, "ex": 0}


def test_repeated_sentences_count_once() -> None:
    once = "That must be so lonely. What was he like?"
    assert unique_sentences(once + " " + once) == unique_sentences(once)
    assert sorted(pair_features(SEEKER, once + " " + once)) == sorted(pair_features(SEEKER, once))


def test_evidence_never_shows_a_mechanism_the_model_rules_out(make_case: Callable[..., Case]) -> None:
    score = Empathy().score([make_case(SEEKER)], [Output("Get a new dog. I understand.")])[0]
    for sentence in score.details["sentences"]:
        for dim in ("er", "ip", "ex"):
            assert sentence[dim] <= score.values[f"empathy_{dim}"]


def _write_epitome(folder: Path, rows: list[tuple[str, str, str, str]], rationales: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("emotional-reactions", "interpretations", "explorations"):
        with (folder / f"{name}-reddit.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"])
            for i, (sp, seeker, response, level) in enumerate(rows):
                rationale = response.split(",")[0] + "|" if rationales and level != "0" else ""
                writer.writerow([sp, f"r{i}", seeker, response, level, rationale])


def _toy_rows() -> list[tuple[str, str, str, str]]:
    warm = ["I'm so sorry, that sounds awful.", "Sending you hugs, I'm really sorry.", "So sorry you're hurting."]
    flat = ["Try going for a run.", "Read a book about it.", "Post this on another forum."]
    levels = ["2", "2", "2", "0", "0", "0"]
    return [(f"s{i}", f"post {i}", text, lvl) for i in range(8) for text, lvl in zip(warm + flat, levels, strict=True)]


@pytest.mark.slow  # ~50 s on a busy 2-core machine: 3 heads x (CV + held-out + final) fits over 65k hashed dims
def test_training_writes_weights_with_hashes_and_figures(tmp_path: Path) -> None:
    from harness.metrics.empathy_train import read_epitome_dir, train_empathy

    _write_epitome(tmp_path / "epi", _toy_rows(), rationales=True)
    report = train_empathy(read_epitome_dir(tmp_path / "epi"), out_dir=tmp_path / "w", grid=[1.0], folds=3, log=str)
    meta = json.loads((tmp_path / "w" / "empathy_er-lexical.json").read_text())
    assert meta["trained_on"][0]["file"] == "emotional-reactions-reddit.csv"
    assert report["er"]["grouped_cv_dev"]["macro_f1"] == 1.0  # the toy data is separable by its words
    sentence_meta = json.loads((tmp_path / "w" / "empathy_sent_er-lexical.json").read_text())
    assert sentence_meta["sentence_label_counts"]["2"] > 0  # the rationale's sentence carries the level
    assert "carries_f1" in report["evidence"]["er"]["grouped_cv_dev"]


def test_unknown_level_names_file_line_and_field(tmp_path: Path) -> None:
    from harness.metrics.empathy_train import read_epitome_dir

    rows = _toy_rows()
    rows[3] = (*rows[3][:3], "3")
    _write_epitome(tmp_path / "epi", rows)
    with pytest.raises(ConfigError, match=r"emotional-reactions-reddit.csv:5: field 'level' has unknown label '3'"):
        read_epitome_dir(tmp_path / "epi")


def test_train_metric_knows_its_trainers() -> None:
    from harness.metrics.trainers import TRAINERS, train_metric

    assert {"risk", "empathy", "mi"} <= set(TRAINERS)
    with pytest.raises(ConfigError, match="unknown metric model"):
        train_metric("vibes")


def test_level_offsets_recover_an_under_called_rare_level() -> None:
    import numpy as np

    from harness.metrics.empathy_train import choose_offsets

    # Level "1" is always the runner-up by a small margin on its own rows: argmax never predicts it.
    y = np.array(["0"] * 40 + ["1"] * 10 + ["2"] * 30)
    logp = np.log(np.full((80, 3), 0.05))
    logp[:40, 0], logp[40:50, 0], logp[40:50, 1], logp[50:, 2] = np.log(0.9), np.log(0.5), np.log(0.45), np.log(0.9)
    assert "1" not in set(np.asarray(["0", "1", "2"])[np.argmax(logp, axis=1)])
    offsets = choose_offsets(logp, y, ["0", "1", "2"])
    pred = np.asarray(["0", "1", "2"])[np.argmax(logp + offsets, axis=1)]
    assert offsets[0] == 0.0 and (pred == y).all()


def test_training_without_rationales_names_the_file(tmp_path: Path) -> None:
    from harness.metrics.empathy_train import read_epitome_dir, train_empathy

    _write_epitome(tmp_path / "epi", _toy_rows())  # empty rationales column
    with pytest.raises(ConfigError, match=r"emotional-reactions-reddit.csv: no rationales"):
        train_empathy(read_epitome_dir(tmp_path / "epi"), out_dir=tmp_path / "w", folds=3, log=str)


def test_only_the_explorations_head_reads_word_piece_vectors() -> None:
    from harness.metrics import token_vectors as tv
    from harness.metrics.empathy_train import PIECE_VECTOR_DIMS

    model = EmpathyModel.default()
    assert PIECE_VECTOR_DIMS == {"ex"}
    assert model.heads["ex"].piece_idf is not None
    assert model.heads["ex"].coef.shape[1] > model.heads["ex"].dim + tv.vocab_size()  # hashed + focus + pieces
    assert model.heads["er"].piece_idf is None and model.heads["ip"].piece_idf is None
    assert model.heads["ex"].meta["piece_vectors"]["scale"] == tv.TOKEN_VECTOR_SCALE


def test_folded_piece_weights_decide_as_the_fitted_dense_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training fits on the responses' dense piece-vector mean; inference reads per-piece weights. Same decisions."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    from harness.metrics import empathy_train
    from harness.metrics import token_vectors as tv
    from harness.metrics.empathy_model import with_pieces
    from harness.metrics.models import LinearTextClassifier

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(tv.vocab_size(), 384)).astype(np.float32)
    monkeypatch.setattr(tv, "distilled_piece_vectors", lambda: vectors)
    responses = ["What was his name?", "I am so sorry, that sounds lonely.", "Get a new dog.", ""]
    idf = tv.document_idf(responses[:3])
    X = csr_matrix(rng.normal(size=(4, 20)).astype(np.float32))
    dense_coef = rng.normal(size=(3, 20 + 384)).astype(np.float32) * 0.1
    head = LinearTextClassifier("empathy_ex", "lexical", ("0", "1", "2"), dense_coef.copy(), np.zeros(3, np.float32),
                                dim=20)
    fitted = np.asarray(hstack([X, empathy_train._piece_block(responses, idf)]) @ dense_coef.T)
    folded = empathy_train._fold_piece_vectors(head, idf)
    assert folded.piece_idf is idf and folded.coef.shape == (3, 20 + tv.vocab_size())
    assert np.allclose(folded.decision_from(with_pieces(X, responses, folded.piece_idf)), fitted, atol=1e-4)
    assert with_pieces(X, responses, None) is X  # heads without pieces read the block unchanged
