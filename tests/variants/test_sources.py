"""A team's own data files: every format and shape reads into chat messages; errors name file, line, field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.variants.sources import read_rows, rename_columns, row_to_messages

PAIRS = [{"prompt": "I keep waking at 4am.", "response": "That sounds exhausting. What goes through your mind?"},
         {"prompt": "My exam is tomorrow.", "response": "It makes sense to feel nervous before an exam."}]


def _messages(path: Path, **kwargs: object) -> list[list[dict[str, str]]]:
    return [row_to_messages(row, where) for where, row in read_rows(path, **kwargs)]


def test_json_array_jsonl_csv_and_parquet_read_the_same(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(PAIRS, indent=2))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(p) for p in PAIRS) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps(PAIRS))  # a JSON array under a .jsonl name
    (tmp_path / "d.json").write_text(json.dumps({"data": PAIRS}))
    with (tmp_path / "e.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["prompt", "response"])
        writer.writeheader()
        writer.writerows(PAIRS)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(PAIRS), tmp_path / "f.parquet")
    expected = _messages(tmp_path / "a.json")
    assert expected[0] == [{"role": "user", "content": PAIRS[0]["prompt"]},
                           {"role": "assistant", "content": PAIRS[0]["response"]}]
    for name in ("b.jsonl", "c.jsonl", "d.json", "e.csv", "f.parquet"):
        assert _messages(tmp_path / name) == expected, name


def test_datasets_folder_with_splits(tmp_path: Path) -> None:
    from datasets import Dataset, DatasetDict

    DatasetDict({"train": Dataset.from_list(PAIRS), "test": Dataset.from_list(PAIRS[:1])}).save_to_disk(
        str(tmp_path / "hf"))
    assert len(_messages(tmp_path / "hf")) == 2
    assert len(_messages(tmp_path / "hf", split="test")) == 1
    with pytest.raises(ConfigError, match=r"'validation' is not a split .*train, test"):
        list(read_rows(tmp_path / "hf", split="validation"))


def test_shapes_messages_sharegpt_turn_pairs_and_alpaca() -> None:
    seed = {"conversations": [{"user": "I feel alone.", "therapist": "I'm glad you told me."},
                              {"user": "Nobody calls.", "therapist": "That sounds painful."}]}
    assert [m["role"] for m in row_to_messages(seed, "x:1")] == ["user", "assistant", "user", "assistant"]
    share = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello."}]}
    assert row_to_messages(share, "x:2")[1] == {"role": "assistant", "content": "Hello."}
    alpaca = {"instruction": "Summarise the session.", "input": "Client: I slept badly.", "output": "Poor sleep."}
    assert row_to_messages(alpaca, "x:3")[0]["content"] == "Summarise the session.\n\nClient: I slept badly."
    custom = {"conversations": [{"client": "Hi", "coach": "Hello."}]}
    assert row_to_messages(custom, "x:4", {"coach": "assistant"})[1]["content"] == "Hello."
    as_text = {"messages": json.dumps([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])}
    assert len(row_to_messages(as_text, "x:5")) == 2  # CSV cells hold the list as JSON text


def test_column_mapping_and_errors_name_file_line_and_field(tmp_path: Path) -> None:
    row = {"Context": "I can't focus.", "Response": "Let's look at when it started."}
    mapped = rename_columns(row, {"prompt": "Context", "response": "Response"}, "f.csv:2")
    assert row_to_messages(mapped, "f.csv:2")[0]["content"] == "I can't focus."
    with pytest.raises(ConfigError, match=r"f.csv:2: column 'Answer' \(columns.response\) is missing"):
        rename_columns(row, {"response": "Answer"}, "f.csv:2")
    with pytest.raises(ConfigError, match=r"f.csv:3: no known shape in fields Context, Response"):
        row_to_messages(row, "f.csv:3")
    with pytest.raises(ConfigError, match=r"x:1: field 'response': expected non-empty text"):
        row_to_messages({"prompt": "Hi", "response": "  "}, "x:1")
    with pytest.raises(ConfigError, match=r"speaker 'coach' is not a known role"):
        row_to_messages({"conversations": [{"client": "Hi", "coach": "Hello."}]}, "x:2")
    (tmp_path / "bad.jsonl").write_text(json.dumps(PAIRS[0]) + "\n{not json\n")
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: invalid JSON"):
        list(read_rows(tmp_path / "bad.jsonl"))
    with (tmp_path / "g.csv").open("w", newline="") as handle:
        handle.write('prompt,response\n"multi\nline",ok\nsecond,\n')
    rows = list(read_rows(tmp_path / "g.csv"))
    with pytest.raises(ConfigError, match=r"g.csv:4: field 'response'"):  # the physical line of that record
        row_to_messages(rows[1][1], rows[1][0])


def test_chat_kind_builds_records_with_system(tmp_path: Path) -> None:
    from harness.variants.config import TrainingConfig
    from harness.variants.data import build_dataset

    (tmp_path / "a.json").write_text(json.dumps(PAIRS))
    config = TrainingConfig.model_validate({
        "name": "x", "system": "Be brief.", "datasets": {"d": {"kind": "chat", "path": "a.json"}},
        "stages": [{"type": "sft", "phases": [{"name": "p", "datasets": {"d": 1.0}, "max_steps": 1}]}]})
    built = build_dataset("d", config.datasets["d"], config, tmp_path)
    every = built.records + built.eval_records
    assert len(every) == 2 and all(r["messages"][0] == {"role": "system", "content": "Be brief."} for r in every)


def test_preference_kind_reads_csv(tmp_path: Path) -> None:
    from harness.variants.config import TrainingConfig
    from harness.variants.data import build_dataset

    with (tmp_path / "p.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", "good", "bad"])
        writer.writerow(["I feel low.", "I'm sorry you're feeling low. What's been happening?", "Cheer up."])
        writer.writerow(["I can't sleep.", "That sounds hard. How long has it been?", "Take pills."])
    config = TrainingConfig.model_validate({
        "name": "x", "datasets": {"s": {"kind": "chat", "path": "p.csv"},
                                  "p": {"kind": "preference", "path": "p.csv",
                                        "columns": {"prompt": "question", "chosen": "good", "rejected": "bad"}}},
        "stages": [{"type": "sft", "phases": [{"name": "a", "datasets": {"s": 1.0}, "max_steps": 1}]},
                   {"type": "dpo", "dataset": "p", "max_steps": 1}]})
    built = build_dataset("p", config.datasets["p"], config, tmp_path)
    record = (built.records + built.eval_records)[0]
    assert record["chosen"][0]["role"] == "assistant" and record["prompt"][-1]["role"] == "user"
