"""Static MiniLM word-piece vectors folded into the MI behaviour model's weights (harness.metrics.token_vectors)."""

from __future__ import annotations

import numpy as np

from harness.metrics import token_vectors as tv

TURNS = [
    "So the late shifts leave you worn out by Thursday.",
    "What would a good week look like for you?",
    "Many people find that a regular bedtime helps.",
    "",
]


def test_the_folded_weights_score_a_turn_exactly_as_the_dense_vectors_did() -> None:
    rng = np.random.default_rng(7)
    n = tv.vocab_size()
    vectors = rng.normal(size=(n, 12)).astype(np.float32)
    dense_coef = rng.normal(size=(3, 12)).astype(np.float32)
    idf = tv.document_idf(TURNS[:3])
    shares = tv.piece_distribution(TURNS, idf)
    assert np.allclose(np.asarray(shares.sum(axis=1)).ravel(), [1, 1, 1, 0], atol=1e-5)  # empty turn: no pieces
    trained_on = (shares @ (vectors * tv.TOKEN_VECTOR_SCALE)) @ dense_coef.T
    folded = np.asarray(shares @ tv.fold_dense_weights(dense_coef, vectors).T)
    assert np.allclose(trained_on, folded, atol=1e-3)


def test_rare_pieces_weigh_more_than_common_ones() -> None:
    idf = tv.document_idf(TURNS[:3])
    (you,), (thursday,) = tv.piece_ids(["you"]), tv.piece_ids(["thursday"])
    assert idf[you] < idf[thursday]
    assert float(idf.min()) > 0  # a piece in every turn still counts a little


def test_the_shipped_behaviour_and_reflection_models_read_pieces_and_the_question_model_does_not() -> None:
    from harness.metrics.models import load_model

    behaviour = load_model("mi_behaviour")
    assert behaviour.piece_idf is not None and behaviour.coef.shape[1] == behaviour.dim + tv.vocab_size()
    assert load_model("mi_question").piece_idf is None
    assert load_model("mi_reflection").piece_idf is not None
    assert behaviour.predict(TURNS[:2]) == ["reflection", "question"]
