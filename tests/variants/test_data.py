"""Training-data builders: split discipline, leakage refusal, mixing ratios, assistant-only loss masks."""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from harness.errors import ConfigError, DataLeakageError
from harness.paths import shared_data_dir
from harness.variants.config import Phase, TrainingConfig
from harness.variants.data import (
    BuiltDataset,
    allocate,
    build_dataset,
    build_datasets,
    check_leakage,
    drop_overlong,
    leakage_index,
    mix_phase,
    normalise_text,
    phase_size,
    training_chat_template,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "variants"

SUITE_YAML = """\
name: mini
version: v1
task: therapy
prompt:
  system: Be a warm listener.
  template: "{{ input }}"
"""
CASES = [
    {"id": "m-1", "split": "train", "input": "I have been arguing with my brother every single day.",
     "reference": "Daily arguments with your brother sound exhausting. What are they usually about?"},
    {"id": "m-2", "split": "train", "input": "Work deadlines keep me awake most nights this month.",
     "reference": "Deadlines are following you into the night. What keeps running through your mind?"},
    {"id": "m-3", "split": "dev", "input": "I want to get back into painting but never find time.",
     "reference": "Painting still matters to you. What would a small start look like?"},
    {"id": "m-4", "split": "test", "input": "My best friend moved away and I feel lost without her.",
     "reference": "Losing her daily company leaves a gap. What did your time together give you?"},
    {"id": "m-5", "split": "test", "messages": [
        {"role": "user", "content": "Hi."},
        {"role": "assistant", "content": "Hello, what is on your mind?"},
        {"role": "user", "content": "I failed my exam and I cannot tell my parents about it."}],
     "reference": "That sounds like a lot to carry alone."},
]


def write_suite(root: Path, cases: list[dict] = CASES) -> Path:
    folder = root / "suites" / "mini" / "v1"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(SUITE_YAML)
    (folder / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    return root / "suites"


def make_config(datasets: dict, phases: list[dict] | None = None, **extra: object) -> TrainingConfig:
    names = list(datasets)
    phases = phases or [{"name": "p", "datasets": {names[0]: 1.0}, "max_steps": 1}]
    return TrainingConfig.model_validate({"name": "t", "datasets": datasets,
                                          "stages": [{"type": "sft", "phases": phases}], **extra})


def test_suite_train_uses_train_cases_and_dev_for_eval(tmp_path: Path) -> None:
    suites = write_suite(tmp_path)
    config = make_config({"s": {"kind": "suite_train", "suite": "mini/v1"}})
    built = build_dataset("s", config.datasets["s"], config, tmp_path, suites)
    assert [r["id"] for r in built.records] == ["mini/v1:m-1", "mini/v1:m-2"]
    assert [r["id"] for r in built.eval_records] == ["mini/v1:m-3"]
    first = built.records[0]["messages"]
    assert first[0] == {"role": "system", "content": "Be a warm listener."}  # scored with the suite's system
    assert first[-1]["role"] == "assistant" and first[-1]["content"].startswith("Daily arguments")


def test_suite_train_refuses_selecting_test_cases(tmp_path: Path) -> None:
    suites = write_suite(tmp_path)
    config = make_config({"s": {"kind": "suite_train", "suite": "mini", "filter": {"case_ids": ["m-1", "m-4"]}}})
    with pytest.raises(DataLeakageError, match="m-4"):
        build_dataset("s", config.datasets["s"], config, tmp_path, suites)


def test_train_case_duplicating_a_test_input_is_refused(tmp_path: Path) -> None:
    leaky = [*CASES, {"id": "m-9", "split": "train", "input": "my best friend moved away, and I feel LOST without her!",
                      "reference": "x y z"}]
    suites = write_suite(tmp_path, leaky)
    config = make_config({"s": {"kind": "suite_train", "suite": "mini/v1"}})
    with pytest.raises(DataLeakageError) as info:
        build_datasets(config, tmp_path, suites)
    assert "mini/v1:m-9" in str(info.value) and "mini/v1:m-4" in str(info.value)


def test_external_chat_repeating_a_multi_turn_test_input_is_refused(tmp_path: Path) -> None:
    suites = write_suite(tmp_path)
    data = tmp_path / "chat.jsonl"
    data.write_text(json.dumps({"id": "c1", "messages": [
        {"role": "user", "content": "I failed my exam   and I cannot tell my parents about it"},
        {"role": "assistant", "content": "ok"}]}) + "\n")
    config = make_config({"c": {"kind": "chat_jsonl", "path": str(data)}})
    with pytest.raises(DataLeakageError, match=r"c:c1 .*mini/v1:m-5"):
        build_datasets(config, tmp_path, suites)


def test_training_on_dev_inputs_is_refused_but_dev_eval_is_fine(tmp_path: Path) -> None:
    suites = write_suite(tmp_path)
    config = make_config({"s": {"kind": "suite_train", "suite": "mini/v1"}})
    build_datasets(config, tmp_path, suites)  # dev cases as eval records: allowed
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"prompt": "I want to get back into painting but never find time",
                                "response": "ok"}) + "\n")
    config = make_config({"p": {"kind": "prompt_response_jsonl", "path": str(data), "eval_fraction": 0.0}})
    with pytest.raises(DataLeakageError, match="mini/v1:m-3"):
        build_datasets(config, tmp_path, suites)


def test_text_embedding_a_long_test_input_is_refused(tmp_path: Path) -> None:
    long_input = "Since the accident last spring I have not been able to drive past that junction without shaking"
    suites = write_suite(tmp_path, [*CASES, {"id": "m-6", "split": "test", "input": long_input, "reference": "r"}])
    records = [{"id": "x", "messages": [{"role": "user", "content": f"Quote: '{long_input}.' What do I say?"},
                                        {"role": "assistant", "content": "..."}]}]
    with pytest.raises(DataLeakageError, match="mini/v1:m-6"):
        check_leakage([BuiltDataset("d", "chat_jsonl", records, [])], leakage_index(suites))


def test_short_generic_turns_are_not_leakage(tmp_path: Path) -> None:
    suites = write_suite(tmp_path)  # m-5 starts with "Hi." -- too short to count
    records = [{"id": "x", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hey"}]}]
    check_leakage([BuiltDataset("d", "chat_jsonl", records, [])], leakage_index(suites))


def test_repository_suites_are_leak_free_for_the_shipped_configs() -> None:
    """The demo/test training configs must pass the check against every suite in suites/."""
    from harness.variants.config import load_training_config

    for name in ("therapy-lora.yaml", "curriculum-dpo-small.yaml"):
        path = REPO / "configs" / "training" / name
        config = load_training_config(path)
        built = build_datasets(config, path.parent)  # raises DataLeakageError on overlap
        assert all(b.records for b in built.values())


def test_normalise_text_ignores_case_punctuation_and_spacing() -> None:
    assert normalise_text("  I'm  FINE, thanks!\n") == normalise_text("i m fine thanks")


# ----------------------------------------------------------------------------- mixing


def _fake(name: str, n: int) -> BuiltDataset:
    return BuiltDataset(name, "chat_jsonl", [{"id": f"{name}:{i}", "messages": []} for i in range(n)], [])


def test_mixture_follows_ratios_exactly_and_is_seeded() -> None:
    built = {"a": _fake("a", 50), "b": _fake("b", 500)}
    phase = Phase(name="p", datasets={"a": 0.8, "b": 0.2}, max_steps=25)
    mixed, counts = mix_phase(phase, built, phase_size(phase, built, 4), seed=3)
    assert len(mixed) == 100 and counts == {"a": 80, "b": 20}
    drawn = Counter(r["id"].split(":")[0] for r in mixed)
    assert drawn == {"a": 80, "b": 20}
    assert len({r["id"] for r in mixed if r["id"].startswith("a:")}) == 50  # every 'a' used before repeats
    again, _ = mix_phase(phase, built, 100, seed=3)
    other, _ = mix_phase(phase, built, 100, seed=4)
    assert [r["id"] for r in again] == [r["id"] for r in mixed]
    assert [r["id"] for r in other] != [r["id"] for r in mixed]


def test_epoch_size_is_set_by_the_scarcest_source() -> None:
    built = {"suite": _fake("suite", 29), "big": _fake("big", 2000)}
    phase = Phase(name="p", datasets={"suite": 0.8, "big": 0.2}, epochs=2)
    total = phase_size(phase, built, 4)
    assert total == round(29 / 0.8 * 2)
    assert allocate(phase.datasets, total)["suite"] == 58  # each suite example twice


def test_allocate_keeps_total_and_every_source() -> None:
    counts = allocate({"a": 0.5, "b": 0.3, "c": 0.2}, 7)
    assert sum(counts.values()) == 7 and all(counts.values())


# ----------------------------------------------------------------------------- file formats


def test_fixture_formats_build(tmp_path: Path) -> None:
    config = make_config({
        "chats": {"kind": "chat_jsonl", "path": str(FIXTURES / "chat.jsonl"), "system": "Sys."},
        "pr": {"kind": "prompt_response_jsonl", "path": str(FIXTURES / "prompt_response.jsonl")},
        "prefs": {"kind": "preference_jsonl", "path": str(FIXTURES / "preferences.jsonl")},
    })
    chats = build_dataset("chats", config.datasets["chats"], config, tmp_path)
    assert all(r["messages"][0] == {"role": "system", "content": "Sys."} for r in chats.records)
    assert len(chats.records) + len(chats.eval_records) == 12
    prs = build_dataset("pr", config.datasets["pr"], config, tmp_path)
    assert [m["role"] for m in prs.records[0]["messages"]] == ["user", "assistant"]
    prefs = build_dataset("prefs", config.datasets["prefs"], config, tmp_path)
    pair = prefs.records[0]
    assert pair["prompt"][-1]["role"] == "user" and pair["chosen"][0]["role"] == "assistant"
    assert set(prefs.train.column_names) == {"prompt", "chosen", "rejected"}  # ids never reach TRL
    assert len(chats.content_hash) == 64 and chats.content_hash != prs.content_hash


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
                    + "\n" + json.dumps({"messages": [{"role": "user", "content": "only a question"}]}) + "\n")
    config = make_config({"c": {"kind": "chat_jsonl", "path": str(data)}})
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: .*end with an assistant turn"):
        build_dataset("c", config.datasets["c"], config, tmp_path)


def test_missing_external_file_is_a_config_error(tmp_path: Path) -> None:
    config = make_config({"c": {"kind": "counselchat_csv", "path": "nowhere.csv"}})
    with pytest.raises(ConfigError, match=r"nowhere\.csv"):
        build_dataset("c", config.datasets["c"], config, tmp_path)


@pytest.mark.skipif(not (shared_data_dir() / "counselchat").is_dir(), reason="shared CounselChat data absent")
def test_counselchat_best_answers_are_clean(tmp_path: Path) -> None:
    config = make_config({"cc": {"kind": "counselchat_csv", "system": "S", "max_answer_words": 200}})
    built = build_dataset("cc", config.datasets["cc"], config, tmp_path)
    records = built.records + built.eval_records
    assert len(records) > 100
    question_ids = [r["id"].split(":")[1] for r in records]
    assert len(question_ids) == len(set(question_ids))  # best answer only
    for record in records:
        assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
        assert "<p>" not in record["messages"][2]["content"]
        assert len(record["messages"][2]["content"].split()) <= 200
    held_questions = {r["id"].split(":")[1] for r in built.eval_records}
    assert held_questions and not held_questions & {r["id"].split(":")[1] for r in built.records}


@pytest.mark.skipif(not (shared_data_dir() / "annomi-dev").is_dir(), reason="shared AnnoMI data absent")
def test_annomi_windows_end_on_a_therapist_turn(tmp_path: Path) -> None:
    config = make_config({"mi": {"kind": "annomi_windows", "window_turns": 4, "eval_fraction": 0.1}})
    built = build_dataset("mi", config.datasets["mi"], config, tmp_path)
    assert len(built.records) > 100
    for record in built.records[:500]:
        roles = [m["role"] for m in record["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant" and len(roles) <= 4
        assert all(a != b for a, b in itertools.pairwise(roles))  # turns merged, alternating
    train_transcripts = {r["id"].split(":")[1] for r in built.records}
    assert not train_transcripts & {r["id"].split(":")[1] for r in built.eval_records}


# ----------------------------------------------------------------------------- loss masks


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from harness.errors import ModelNotFoundError
    from harness.variants.lora import load_tokenizer

    try:
        return load_tokenizer("smollm2-135m-instruct")
    except ModelNotFoundError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")


def test_patched_template_renders_like_the_original(tokenizer) -> None:  # type: ignore[no-untyped-def]
    template = training_chat_template(tokenizer)
    assert template is not None and "{% generation %}" in template
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    assert tokenizer.apply_chat_template(messages, tokenize=False, chat_template=template) == \
        tokenizer.apply_chat_template(messages, tokenize=False)


@pytest.mark.parametrize("loss_on", ["assistant", "last_assistant"])
def test_labels_are_masked_outside_assistant_turns(tmp_path: Path, tokenizer, loss_on: str) -> None:  # type: ignore[no-untyped-def]
    import torch

    from harness.variants.lora import attach_adapter, build_sft_trainer, load_base_model

    data = tmp_path / "c.jsonl"
    turns = [{"role": "user", "content": "I feel stuck at work."},
             {"role": "assistant", "content": "Stuck how?"},
             {"role": "user", "content": "Same tasks every day."},
             {"role": "assistant", "content": "That sounds draining."}]
    data.write_text(json.dumps({"messages": turns}) + "\n")
    config = make_config({"c": {"kind": "chat_jsonl", "path": str(data), "eval_fraction": 0.0}},
                         training={"loss_on": loss_on, "max_length": 128, "per_device_train_batch_size": 1})
    built = build_datasets(config, tmp_path)
    model = attach_adapter(load_base_model("smollm2-135m-instruct", config, "cpu"), config, None)
    phase = config.stages[0].phases[0]  # type: ignore[union-attr]
    trainer, info = build_sft_trainer(phase, config, model, tokenizer, built, "cpu", tmp_path / "out")
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    trained = ids[labels != -100]
    expected = "Stuck how?<|im_end|>That sounds draining.<|im_end|>" if loss_on == "assistant" \
        else "That sounds draining.<|im_end|>\n"  # TRL keeps the newline in a completion
    assert tokenizer.decode(trained) == expected
    assert torch.equal(labels[labels != -100], ids[labels != -100])
    assert info["loss_mask"] == ("assistant_only" if loss_on == "assistant" else "last_assistant")


def test_overlong_prompts_are_dropped(tokenizer) -> None:  # type: ignore[no-untyped-def]
    long = {"id": "long", "messages": [{"role": "user", "content": "word " * 200},
                                       {"role": "assistant", "content": "ok"}]}
    short = {"id": "short", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
    kept, dropped = drop_overlong([long, short], tokenizer, 64)
    assert [r["id"] for r in kept] == ["short"] and dropped == ["long"]
