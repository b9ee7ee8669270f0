"""The MI pair model: adapter export/merge equals the peft model, pair tokenisation, coder plumbing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import ModelNotFoundError
from harness.metrics.mi import MICoder, get_coder
from harness.metrics.mi_pair import (
    PAIR_ENCODER,
    load_pair_classifier,
    mean_pool,
    pair_tokens,
    pair_weights_path,
    save_pair_weights,
)
from harness.metrics.mi_pair_train import PairSettings, _adapter_arrays, _build

torch = pytest.importorskip("torch")

CLASSES = ("other", "question", "reflection", "therapist_input")
PAIRS = [
    ("I keep drinking on weekends even though I promised my wife I'd stop.", "You feel torn about the weekends."),
    ("", "What would you like to talk about today?"),
]


def test_exported_adapter_merged_into_minilm_gives_the_peft_models_output(tmp_path: Path) -> None:
    """The shipped file holds A/B per layer; merging W += s*B@A at load must reproduce the trained model."""
    settings = PairSettings(bf16=False)
    encoder, head, tokenizer = _build(CLASSES, settings)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # LoRA starts with B = 0 (a no-op); give it a real delta so the test can fail
        for name, param in encoder.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
    encoder.eval()
    batch = pair_tokens(tokenizer, [t for _, t in PAIRS], [c for c, _ in PAIRS])
    with torch.no_grad():
        expected = torch.softmax(head(mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"])), 1)
    path = save_pair_weights(
        tmp_path / "pair.npz",
        CLASSES,
        _adapter_arrays(encoder),
        {"weight": head.weight.detach().numpy(), "bias": head.bias.detach().numpy()},
        {"lora_r": settings.lora_r, "lora_alpha": settings.lora_alpha},
    )
    model = load_pair_classifier(path)
    model.bf16 = False
    got = model.features([t for _, t in PAIRS], [c for c, _ in PAIRS])
    assert np.allclose(got, expected.numpy(), atol=2e-3)  # float16 storage of A/B
    plain = load_pair_classifier(path)  # cached: the same object, one MiniLM per path
    assert plain is model


def test_pair_tokens_keep_the_counsellor_sentence_when_the_client_talks_long() -> None:
    from transformers import AutoTokenizer

    from harness.models.embedded import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path()))
    story = "and then my brother called again about the money " * 40
    batch = pair_tokens(tokenizer, ["So the calls about money wear you out."], [story])
    decoded = tokenizer.decode(batch["input_ids"][0])
    assert batch["input_ids"].shape[1] == 128
    assert "so the calls about money wear you out." in decoded
    assert batch["token_type_ids"][0].sum() > 0  # the counsellor sentence is the second segment


def test_missing_weights_name_the_path_and_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"absent\.npz") as error:
        load_pair_classifier(tmp_path / "absent.npz")
    assert "train-metric mi --encoder minilm_pair" in error.value.render()


shipped = pytest.mark.skipif(not pair_weights_path().exists(), reason="pair weights not built")


@shipped
def test_shipped_pair_coder_codes_hand_written_turns() -> None:
    coder = get_coder(PAIR_ENCODER)
    assert isinstance(coder, MICoder) and coder.behaviour.encoder == PAIR_ENCODER
    assert coder.question.encoder == "lexical" and coder.question_rules
    client = "I've tried to cut down on smoking so many times and I always end up buying another pack."
    turns = [
        "What has made it hard to stay off them?",
        "You've tried again and again, and it's been really discouraging.",
        "Nicotine patches double the chance of quitting compared with willpower alone.",
    ]
    codes = [[c.code for c in coder.code(t, client)] for t in turns]
    assert codes[0] == ["open_question"]
    assert codes[1][0].endswith("_reflection")
    assert codes[2] == ["giving_information"]
    behaviours = coder.utterance_behaviour(turns, [client] * 3)
    assert behaviours == ["question", "reflection", "therapist_input"]
    closed = coder.code("Did you buy a pack yesterday?", client)
    assert [c.code for c in closed] == ["closed_question"]


def test_training_writes_a_loadable_adapter_with_its_settings(tmp_path: Path) -> None:
    import json

    from harness.metrics.mi_pair_train import train_pair_weights
    from harness.metrics.models import Example

    client = "My doctor says I should cut down on drinking."
    rows = [Example("What do you make of that?", "question", "a", client),
            Example("You're not sure the doctor is right.", "reflection", "a", client),
            Example("Heavy drinking raises blood pressure.", "therapist_input", "a", client),
            Example("Okay.", "other", "a", client)] * 4  # fmt: skip
    settings = PairSettings(epochs=1.0, batch_size=4)
    path = train_pair_weights(rows, tmp_path / "toy.npz", {"trained_on": "hand-written"}, settings, log=print)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["lora_r"] == 8 and meta["n_examples"] == 16 and meta["trained_on"] == "hand-written"
    assert path.stat().st_size < 2_000_000
    model = load_pair_classifier(path)
    assert set(model.predict(["Tell me more.", "Okay."], [client, None])) <= set(CLASSES)


def test_encoder_names_are_checked_per_metric() -> None:
    from harness.errors import ConfigError
    from harness.metrics.trainers import train_metric

    with pytest.raises(ConfigError, match="minilm_pair"):
        train_metric("mi", encoder="bert")
    with pytest.raises(ConfigError, match="unknown encoder 'minilm_pair' for empathy"):
        train_metric("empathy", encoder="minilm_pair")


def test_validate_metrics_refuses_to_cross_validate_the_pair_model(tmp_path: Path) -> None:
    from harness.errors import ConfigError
    from harness.validation.cli import main as validate_main

    with pytest.raises(ConfigError, match="minilm_pair scores MI files"):
        validate_main(["--data", str(tmp_path), "--section", "mi", "--encoder", "minilm_pair"])


@shipped
def test_user_annomi_file_is_scored_with_the_pair_model(tmp_path: Path) -> None:
    import csv

    from harness.validate_user import validate_labelled_file

    path = tmp_path / "sessions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcript_id", "interlocutor", "utterance_text", "main_therapist_behaviour"])
        writer.writerows([
            ["1", "client", "My husband says I spend too much time at the casino.", ""],
            ["1", "therapist", "How much time do you spend there in a week?", "question"],
            ["1", "client", "Maybe three or four evenings.", ""],
            ["1", "therapist", "So it's become a big part of your week.", "reflection"],
        ])  # fmt: skip
    figures, rows = validate_labelled_file(path, encoder=PAIR_ENCODER)
    assert figures[0]["encoder"] == PAIR_ENCODER and figures[0]["n"] == 2
    assert [r["predicted"] for r in rows] == ["question", "reflection"]


def test_train_metric_mi_pair_from_an_annomi_folder_records_its_data(tmp_path: Path) -> None:
    import csv
    import hashlib
    import json

    from harness.metrics.trainers import train_metric

    turns = [("client", "I smoke when I'm stressed at work.", "n/a"),
             ("therapist", "What happens at work that gets stressful?", "question"),
             ("client", "Deadlines, mostly.", "n/a"),
             ("therapist", "Deadlines pile up and a cigarette is your break.", "reflection"),
             ("client", "Yeah.", "n/a"),
             ("therapist", "Many people swap the cigarette for a short walk.", "therapist_input"),
             ("client", "Maybe.", "n/a"),
             ("therapist", "Mm-hmm.", "other")] * 4  # fmt: skip
    folder = tmp_path / "annomi"
    folder.mkdir()
    with (folder / "AnnoMI-simple.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["transcript_id", "utterance_id", "interlocutor", "utterance_text", "main_therapist_behaviour"])
        writer.writerows([[i // 8, i, who, text, label] for i, (who, text, label) in enumerate(turns)])
    figures = train_metric("mi", data=folder, encoder="minilm_pair", out_dir=tmp_path / "out", log=lambda _: None)
    weights = Path(figures["weights"])
    meta = json.loads(weights.with_suffix(".json").read_text())
    assert figures["n_examples"] == 16 and weights.name == "mi_behaviour-minilm_pair.npz"
    digest = hashlib.sha256((folder / "AnnoMI-simple.csv").read_bytes()).hexdigest()
    assert meta["trained_on"] == [{"file": "AnnoMI-simple.csv", "sha256": digest}]
    assert meta["label_counts"] == {"other": 4, "question": 4, "reflection": 4, "therapist_input": 4}


@shipped
def test_two_pair_models_in_one_coder_never_share_features() -> None:
    """A pair model's 'features' are its own class probabilities; a second pair model must compute its own."""
    from harness.metrics.models import load_model

    behaviour = load_pair_classifier()
    question = load_pair_classifier(pair_weights_path(), kind="mi_question")  # any second pair model
    coder = MICoder(behaviour, question, load_model("mi_reflection"))
    assert behaviour.feature_key != question.feature_key and not coder._shares_features(question)
